"""The four services as separate processes on real Kafka, once per store backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from e2e_support import gateway_url, running_system, system_env
from interview_localinfra.system import ServiceGroup
from support import bearer


@pytest.fixture(scope="module", params=["memory", "postgres"])
async def system(
    request: pytest.FixtureRequest, kafka_bootstrap: str, postgres_dsn: str
) -> AsyncIterator[ServiceGroup]:
    """A running system whose store uses the parametrised backend."""
    async with running_system(system_env(kafka_bootstrap), request.param, postgres_dsn) as group:
        yield group


@pytest.fixture
async def api(system: ServiceGroup) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the gateway, as an admin of the default organisation."""
    async with httpx.AsyncClient(
        base_url=gateway_url(system), timeout=30, headers=bearer()
    ) as client:
        yield client
