"""The fault suite's infrastructure: a Kafka broker and a PostgreSQL server of its own.

Not the session's shared servers: the scenarios SIGKILL the broker and crash PostgreSQL, which
would break every other test's connections.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from interview_faults.system import Infra, infra


@pytest.fixture(scope="session")
async def fault_infra(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Infra]:
    """Private Kafka and PostgreSQL for the fault scenarios (skipped locally without them)."""
    workdir = Path(tmp_path_factory.mktemp("faults"))
    try:
        context = infra(workdir)
        base = await context.__aenter__()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"fault infrastructure unavailable: {exc}", pytrace=False)
        pytest.skip(f"fault infrastructure unavailable: {exc}")
    try:
        yield base
    finally:
        await context.__aexit__(None, None, None)
