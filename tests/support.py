"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
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
        consumer.assign([TopicPartition(topic.name, p) for p in range(topic.partitions)])
        await consumer.seek_to_end()
        yield consumer
    finally:
        await consumer.stop()


async def next_matching(
    consumer: AIOKafkaConsumer, match: Callable[[Any], bool], *, timeout_s: float = 30
) -> Any:
    """The first JSON record value (decoded) that satisfies `match`."""
    async with asyncio.timeout(timeout_s):
        while True:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    value = json.loads(record.value) if record.value else None
                    if value is not None and match(value):
                        return value
