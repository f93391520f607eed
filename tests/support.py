"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from interview_shared.events import EventEnvelope, encode_event
from interview_shared.read_models import ApplyResult
from interview_shared.topics import Topic


async def eventually(
    predicate: Callable[[], Awaitable[bool]], *, timeout_s: float, interval_s: float = 0.2
) -> None:
    """Poll `predicate` until it holds; for effects of another process that nothing signals."""
    async with asyncio.timeout(timeout_s):
        while not await predicate():  # noqa: ASYNC110 - the condition lives in another process
            await asyncio.sleep(interval_s)


class StoreReadSide:
    """`ReadSide` over a store object in this process (the HTTP hop left out)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    async def event_outcome(self, event_id: uuid.UUID, *, wait_s: float = 0) -> ApplyResult | None:
        """The recorded outcome; in-process application is synchronous, so no waiting."""
        outcome: ApplyResult | None = await self._store.event_outcome(event_id)
        return outcome

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@asynccontextmanager
async def tail(bootstrap: str, topic: Topic) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer positioned at the end of every partition of `topic`: it sees what comes next."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        # Explicit end offsets: aiokafka's seek_to_end is resolved lazily, possibly after the
        # records the test is waiting for.
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        yield consumer
    finally:
        await consumer.stop()


async def matching(
    consumer: AIOKafkaConsumer,
    match: Callable[[Any], bool],
    *,
    count: int = 1,
    timeout_s: float = 30,
) -> list[Any]:
    """The first `count` JSON record values (decoded) that satisfy `match`, in log order."""
    found: list[Any] = []
    async with asyncio.timeout(timeout_s):
        while len(found) < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values = (json.loads(r.value) for r in records if r.value)
                found += [value for value in values if match(value)]
    return found[:count]


async def commit_group_at_end(bootstrap: str, group: str, *topics: Topic) -> None:
    """Commit `group`'s offsets at the current end of `topics`, so a service joining that group
    starts with what is produced next and not with other tests' leftovers."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()


def consumer_record(
    *,
    topic: str,
    value: bytes | None,
    key: bytes | None = None,
    partition: int = 0,
    offset: int = 0,
    timestamp: int = 0,
) -> ConsumerRecord[Any, Any]:
    """A record as aiokafka hands it to a consumer, for tests of handlers."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value or b""),
        headers=(),
    )


def event_record(event: EventEnvelope, *, offset: int = 0) -> ConsumerRecord[Any, Any]:
    """The record of `event` on its catalogue topic, keyed as a producer would key it."""
    return consumer_record(
        topic=event.topic.name, value=encode_event(event), key=event.key.encode(), offset=offset
    )
