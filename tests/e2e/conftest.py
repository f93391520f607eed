"""The four services as separate processes on real Kafka, once per store backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from interview_localinfra import create_database, drop_database
from interview_localinfra.system import ServiceGroup, local_service_env


@pytest.fixture(scope="module", params=["memory", "postgres"])
async def system(
    request: pytest.FixtureRequest, kafka_bootstrap: str, postgres_dsn: str
) -> AsyncIterator[ServiceGroup]:
    """A running system whose store uses the parametrised backend."""
    env = local_service_env(
        {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        drop=("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_"),
    )
    database = None
    if request.param == "postgres":
        database = f"e2e_{uuid.uuid4().hex[:12]}"
        env["DATABASE_URL"] = await create_database(postgres_dsn, database)
    try:
        async with ServiceGroup(env) as group:
            yield group
    finally:
        if database is not None:
            await drop_database(postgres_dsn, database)


@pytest.fixture
async def api(system: ServiceGroup) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the gateway."""
    base = f"http://127.0.0.1:{system.env['PORT']}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client
