"""A PostgreSQL outage mid-stream: the store keeps running, turns not-ready, retries with
back-off and resumes with nothing lost and nothing doubled (issue: hybrid store durability)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from interview_localinfra import LocalPostgres
from interview_shared import topics
from interview_shared.auth import SERVICE_KEY_HEADER
from interview_shared.events import CandidateRegistered, encode_event
from interview_store.main import create_app
from interview_store.settings import StoreSettings
from support import (
    TEST_SERVICE_KEY,
    candidates_in_domain,
    commit_group_at_end,
    eventually,
    keep_offsets_at_end,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
TOTAL = 600


@pytest.fixture
async def store_service(
    kafka_bootstrap: str, restartable_postgres: LocalPostgres
) -> AsyncIterator[httpx.AsyncClient]:
    """The store service in this process, on real Kafka and the restartable PostgreSQL, in a
    consumer group of its own, its database's offsets at the end of the topics."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(kafka_bootstrap, f"{prefix}-store", *topics.DOMAIN_TOPICS)
    await keep_offsets_at_end(kafka_bootstrap, restartable_postgres.dsn, *topics.DOMAIN_TOPICS)
    settings = StoreSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group_prefix=prefix,
        database_url=restartable_postgres.dsn,
        outage_deadline_s=20,
        service_api_key=TEST_SERVICE_KEY,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {SERVICE_KEY_HEADER: TEST_SERVICE_KEY}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://store", headers=headers
        ) as client:
            yield client


async def _produce(bootstrap: str, domain: str, indexes: range, pause_s: float) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for i in indexes:
            event = CandidateRegistered(
                candidate_id=uuid.uuid4(), name=f"Candidate {i}", email=f"c{i}@{domain}"
            )
            await producer.send_and_wait(
                event.topic.name, encode_event(event), key=event.key.encode()
            )
            # Redeliver some events on purpose: idempotency must absorb them.
            if i % 50 == 0:
                await producer.send_and_wait(
                    event.topic.name, encode_event(event), key=event.key.encode()
                )
            await asyncio.sleep(pause_s)
    finally:
        await producer.stop()


async def test_database_outage_mid_stream_loses_nothing(
    kafka_bootstrap: str, restartable_postgres: LocalPostgres, store_service: httpx.AsyncClient
) -> None:
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    dsn = restartable_postgres.dsn
    third = TOTAL // 3
    await _produce(kafka_bootstrap, domain, range(third), pause_s=0)
    await eventually(lambda: _ready(store_service, expected=200), timeout_s=30)

    await restartable_postgres.stop("immediate")  # a crash, not a clean shutdown
    producing = asyncio.create_task(_produce(kafka_bootstrap, domain, range(third, TOTAL), 0.002))
    await eventually(lambda: _ready(store_service, expected=503), timeout_s=30)
    await asyncio.sleep(2)  # let the store retry against the dead database for a while
    await restartable_postgres.start()
    await producing

    async def all_rows_present() -> bool:
        return await candidates_in_domain(dsn, domain) >= TOTAL

    await eventually(all_rows_present, timeout_s=60)
    await eventually(lambda: _ready(store_service, expected=200), timeout_s=30)
    assert await candidates_in_domain(dsn, domain) == TOTAL  # nothing lost, nothing doubled


async def _ready(client: httpx.AsyncClient, *, expected: int) -> bool:
    return (await client.get("/health/ready")).status_code == expected
