"""The memory store through broker restarts and metadata changes: it keeps consuming and
reads nothing twice.

The memory store joins no consumer group. It used to subscribe to the topics, and aiokafka
re-derives a group-less subscription's assignment from every metadata refresh: when the
partitions it sees change (a partition added, a topic missing from one refresh while a broker
comes back) it replaces the assignment, which resets every position to `auto_offset_reset`,
so the whole log was read, applied and its outcomes announced again. It now assigns itself
the catalogue's partitions. This test runs a memory store in this process on a broker of its
own, SIGKILLs and restarts the broker, adds a partition to a topic, produces on, and counts
what the store applied.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from fastapi import FastAPI
from interview_faults.system import Infra
from interview_localinfra import LocalKafka, ensure_topics
from interview_shared import topics
from interview_shared.auth import SERVICE_KEY_HEADER
from interview_shared.events import CandidateRegistered, encode_event
from interview_store.main import create_app
from interview_store.settings import StoreSettings
from prometheus_client import REGISTRY
from support import TEST_SERVICE_KEY, eventually

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
BATCH = 100


def applied() -> float:
    return REGISTRY.get_sample_value("interview_store_events_applied_total") or 0.0


@pytest.fixture
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Infra]:
    """A broker of this test's own: it gets a partition the catalogue does not know."""
    kafka = LocalKafka(workdir=tmp_path_factory.mktemp("kafka-memory-store"))
    try:
        await kafka.start()
    except Exception as exc:
        pytest.skip(f"no local Kafka: {exc}")
    try:
        await ensure_topics(kafka.bootstrap_servers)
        yield Infra(kafka, None)  # type: ignore[arg-type]  # no PostgreSQL needed
    finally:
        await kafka.stop()


@pytest.fixture
async def memory_store(broker: Infra) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A memory store in this process on `broker`, ready (caught up)."""
    settings = StoreSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        consumer_group_prefix=f"test-{uuid.uuid4().hex[:8]}",
        store_backend="memory",
        service_api_key=TEST_SERVICE_KEY,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {SERVICE_KEY_HEADER: TEST_SERVICE_KEY}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://store", headers=headers
        ) as client:
            await eventually(lambda: _ready(client), timeout_s=60)
            yield client, app


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health/ready")).status_code == 200


async def _produce(bootstrap: str, domain: str, indexes: range) -> list[uuid.UUID]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    ids = []
    try:
        for i in indexes:
            event = CandidateRegistered(
                candidate_id=uuid.uuid4(), name=f"Candidate {i}", email=f"c{i}@{domain}"
            )
            await producer.send(event.topic.name, encode_event(event), key=event.key.encode())
            ids.append(event.candidate_id)
        await producer.flush()
    finally:
        await producer.stop()
    return ids


async def test_the_memory_store_resumes_after_broker_restarts_and_reads_nothing_twice(
    broker: Infra, memory_store: tuple[httpx.AsyncClient, FastAPI]
) -> None:
    client, app = memory_store
    [ingest] = app.state.broker.subscribers
    # aiokafka's own record of how the partitions came: by the user, not from metadata.
    assert not ingest.consumer._subscription.partitions_auto_assigned()
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    before = applied()
    await _produce(broker.bootstrap, domain, range(BATCH))
    await eventually(lambda: _at_least(before + BATCH), timeout_s=30)
    # A subscribed topic's metadata changes; the refresh a broker restart causes reveals it.
    await _add_partition(broker.bootstrap, topics.CHAT_MESSAGES.name)

    for kill in range(2):
        await broker.kill_kafka()
        await asyncio.sleep(1)
        await broker.start_kafka()
        start = BATCH * (kill + 1)
        ids = await _produce(broker.bootstrap, domain, range(start, start + BATCH))
        target = before + start + BATCH
        await eventually(lambda: _at_least(target), timeout_s=60)  # noqa: B023 (awaited here)
        last = await client.get(f"/internal/v1/candidates/{ids[-1]}")
        assert last.status_code == 200, last.text

    await asyncio.sleep(5)  # a re-read from the beginning would show up here, at full speed
    assert applied() - before == 3 * BATCH  # every event once: nothing lost, nothing re-read


async def _add_partition(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
        count = len(described[0]["partitions"])
        await admin.create_partitions({topic: NewPartitions(total_count=count + 1)})
    finally:
        await admin.close()


async def _at_least(count: float) -> bool:
    return applied() >= count
