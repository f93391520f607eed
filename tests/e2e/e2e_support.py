"""Starting a test system: the environment and the lifecycle the e2e modules share."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from interview_localinfra import create_database, drop_database
from interview_localinfra.system import ServiceGroup, local_service_env
from support import AUTH_ENV

DROPPED = ("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_", "JWT_", "SERVICE_", "RATE_")
"""Variables of this process that would point a test system elsewhere or change its keys."""


def system_env(
    kafka_bootstrap: str | None = None,
    extra: Mapping[str, str] | None = None,
    *,
    drop: tuple[str, ...] = (),
) -> dict[str, str]:
    """The environment of a test system (`local_service_env`, minus `DROPPED` and `drop`) with
    the test JWT secret and service key, then `extra`."""
    env: dict[str, str] = dict(AUTH_ENV)
    # The suite's clients share one subject per module; the limit is tested on its own.
    env["RATE_LIMIT_PER_MINUTE"] = "100000"
    if kafka_bootstrap is not None:
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    return local_service_env(env | dict(extra or {}), drop=DROPPED + drop)


@asynccontextmanager
async def running_system(
    env: dict[str, str], backend: str, postgres_dsn: str
) -> AsyncIterator[ServiceGroup]:
    """A system whose store uses `backend` ("memory" or "postgres", in a fresh database)."""
    database = None
    if backend == "postgres":
        database = f"e2e_{uuid.uuid4().hex[:12]}"
        env = env | {"DATABASE_URL": await create_database(postgres_dsn, database)}
    try:
        async with ServiceGroup(env) as group:
            yield group
    finally:
        if database is not None:
            await drop_database(postgres_dsn, database)


def gateway_url(system: ServiceGroup) -> str:
    """The base URL of the system's public API."""
    return f"http://127.0.0.1:{system.env['PORT']}/api/v1"
