"""Consumer lag on real Kafka: measured per group and partition, exported, gating readiness."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from interview_shared.lag import OffsetReader
from interview_shared.service import create_service_app
from interview_shared.settings import ServiceSettings
from support import eventually

pytestmark = pytest.mark.kafka


async def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def test_lag_per_partition_counts_from_the_committed_offset(
    kafka_bootstrap: str, topic: str
) -> None:
    group = f"lag-{uuid.uuid4().hex[:8]}"
    await _commit(kafka_bootstrap, group, {TopicPartition(topic, 0): 2})
    async with OffsetReader(kafka_bootstrap) as reader:
        lags = await reader.group_lag(group, [topic])
    assert [(p.partition, p.committed, p.end, p.lag) for p in lags] == [
        (0, 2, 5, 3),
        (1, None, 2, 2),  # nothing committed: all of the log is still to do
    ]


async def test_a_consumer_exports_its_lag_and_is_not_ready_while_far_behind(
    kafka_bootstrap: str, topic: str
) -> None:
    group = f"lag-{uuid.uuid4().hex[:8]}"
    release = asyncio.Event()
    broker = KafkaBroker(kafka_bootstrap)

    @broker.subscriber(topic, group_id=group, auto_offset_reset="earliest")
    async def stuck(_: bytes) -> None:
        await release.wait()  # a consumer that cannot keep up: nothing gets committed

    settings = ServiceSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_lag_ready_max=3,
        consumer_lag_interval_s=0.2,
        shutdown_grace_s=5,
    )
    app = create_service_app(
        title="lagging", description="", broker=broker, checks={}, settings=settings
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        try:

            async def measured() -> bool:
                return f'group="{group}"' in (await client.get("/metrics")).text

            await eventually(measured, timeout_s=30)
            metrics = (await client.get("/metrics")).text
            line = f'interview_consumer_lag{{group="{group}",partition="0",topic="{topic}"}} 5.0'
            assert line in metrics
            ready = await client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["lag"] is False
        finally:
            release.set()
