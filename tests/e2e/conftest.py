"""The four services as separate processes on real Kafka, once per store backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from interview_localinfra import create_database, drop_database
from interview_localinfra._process import free_port
from interview_localinfra.system import ServiceGroup


@pytest.fixture(scope="module", params=["memory", "postgres"])
async def system(
    request: pytest.FixtureRequest, kafka_bootstrap: str, postgres_dsn: str
) -> AsyncIterator[ServiceGroup]:
    """A running system whose store uses the parametrised backend."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_"))
    }
    env |= {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "PORT": str(free_port()),
        "STORE_PORT": str(free_port()),
        "EVALUATOR_PORT": str(free_port()),
        "CHAT_PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
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
