"""The next rubric version after the current one."""

from __future__ import annotations

import pytest
from interview_api.rubrics import next_version


@pytest.mark.parametrize(
    ("current", "expected"),
    [("v1", "v2"), ("v9", "v10"), ("2026.9", "2026.10"), ("strict", "strict-2"), ("7", "8")],
)
def test_next_version_bumps_the_trailing_number(current: str, expected: str) -> None:
    assert next_version(current) == expected
