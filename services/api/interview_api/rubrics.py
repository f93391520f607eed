"""Choosing a question's next rubric version.

Scores are comparable only within one rubric version, so a changed rubric always gets a version
the question does not have now: the caller's, or the current one with its trailing number bumped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from interview_shared.domain import Criterion, Rubric
from interview_shared.http import ApiError

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def next_version(current: str) -> str:
    """`v1` -> `v2`, `2026.9` -> `2026.10`, `strict` -> `strict-2`."""
    match = _TRAILING_NUMBER.match(current)
    if match is None:
        return f"{current}-2"
    prefix, number = match.groups()
    return f"{prefix}{int(number) + 1}"


def new_rubric(current: Rubric, version: str | None, criteria: Sequence[Criterion]) -> Rubric:
    """The rubric replacing `current`; 409 if the caller reuses the active version."""
    chosen = version or next_version(current.version)
    if chosen == current.version:
        raise ApiError(
            409,
            "rubric_version_unchanged",
            "A changed rubric needs a new version; omit `version` to get the next one.",
            {"version": chosen},
        )
    if len(chosen) > 64:
        raise ApiError(422, "rubric_version_too_long", "A rubric version has at most 64 chars.")
    return Rubric(version=chosen, criteria=tuple(criteria))
