"""A group consumer wedged the way the fault suite caught the evaluator's (aiokafka's coordinator
lookup waiting on a metadata refresh that never completes, holding the lock the heartbeat and
every commit wait on) is restarted by its service's stall watch and consumes again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import NodeNotReadyError
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from interview_shared.service import create_service_app
from interview_shared.settings import ServiceSettings
from interview_shared.stall import StallWatch
from support import eventually

pytestmark = pytest.mark.kafka


def _wedge(consumer: Any) -> None:
    """aiokafka 0.14's state in the caught stall: the lookup fails once, then waits forever."""
    client = consumer._client

    async def lookup_fails(*_: object, **__: object) -> int:
        raise NodeNotReadyError("the broker is restarting")

    client.coordinator_lookup = lookup_fails
    client.force_metadata_update = lambda: asyncio.get_running_loop().create_future()
    consumer._coordinator.coordinator_dead()


async def test_a_consumer_whose_coordinator_lookup_hangs_is_restarted(
    kafka_bootstrap: str, topic: str
) -> None:
    handled: list[bytes] = []
    broker = KafkaBroker(kafka_bootstrap)

    @broker.subscriber(
        topic,
        group_id=f"wedge-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        title="wedge-test",
    )
    async def handle(message: KafkaMessage) -> None:
        handled.append(message.body)

    settings = ServiceSettings(
        kafka_bootstrap_servers=kafka_bootstrap, consumer_stall_restart_s=2.0, shutdown_grace_s=2
    )
    app = create_service_app(
        title="wedged", description="", broker=broker, checks={}, settings=settings
    )
    async with app.router.lifespan_context(app):
        watch: StallWatch = app.state.stall_watches["wedge-test"]
        await eventually(lambda: _count(handled, 7), timeout_s=30)  # the fixture's records
        wedged = watch.subscriber.consumer
        _wedge(wedged)

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for i in range(3):  # the first is taken, its commit waits on the lookup for ever
                await producer.send_and_wait(topic, f"after-{i}".encode(), partition=0)
        finally:
            await producer.stop()
        await asyncio.sleep(1.0)
        assert b"after-2" not in handled  # wedged: the consume loop waits in a commit

        # 2 s to notice, the 2 s grace plus 10 s for the wedged consumer's stop, then a join
        await eventually(lambda: _has(handled, b"after-2"), timeout_s=45)
        assert watch.restarts == 1
        assert watch.subscriber.consumer is not wedged


async def _count(handled: list[bytes], count: int) -> bool:
    return len(handled) >= count


async def _has(handled: list[bytes], body: bytes) -> bool:
    return body in handled
