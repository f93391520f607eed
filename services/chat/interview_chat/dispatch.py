"""Running replies off the poll loop, at least once.

A reply takes as long as the model streams, so a subscriber that handled one message at a time
would make every other session wait (and risk max.poll.interval.ms). The dispatcher runs each
message as a task: sessions concurrently, one session's messages in order (a chain per key),
and at most `limit` at once (the subscriber waits for a slot, which is the back-pressure). Its
offsets are committed per partition only up to the first message whose work is not done, so a
crash redelivers everything unfinished and nothing finished is lost; redeliveries are skipped
by the responder (reply ids derive from message ids).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from interview_shared.logging import get_logger

log = get_logger(__name__)
Partition = tuple[str, int]


class Frontier:
    """Per partition, the offset up to which every started message is done."""

    def __init__(self) -> None:
        self._open: dict[Partition, set[int]] = defaultdict(set)
        self._high: dict[Partition, int] = {}
        self._committed: dict[Partition, int] = {}

    def start(self, partition: Partition, offset: int) -> None:
        """A message's work began."""
        self._open[partition].add(offset)
        self._high[partition] = max(self._high.get(partition, -1), offset)

    def finish(self, partition: Partition, offset: int) -> int | None:
        """A message's work is done; the offset to commit now, if the frontier moved."""
        pending = self._open[partition]
        pending.discard(offset)
        frontier = min(pending) if pending else self._high[partition] + 1
        if frontier <= self._committed.get(partition, -1):
            return None
        self._committed[partition] = frontier
        return frontier


async def commit(consumer: Any, partition: Partition, offset: int) -> None:
    """Commit `offset` (the next to read) for one partition."""
    if isinstance(consumer, AIOKafkaConsumer):
        await consumer.commit({TopicPartition(*partition): offset})
    else:  # FastStream's in-memory test consumer commits without offsets
        await consumer.commit()


class Dispatcher:
    """Concurrent across keys, ordered within a key, committed in order."""

    def __init__(self, *, limit: int = 256) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._frontier = Frontier()

    async def submit(
        self,
        key: str,
        record: Any,
        work: Callable[[], Awaitable[None]],
        consumer: Any,
    ) -> None:
        """Start `work` for a record after the key's earlier work; returns once it is started."""
        await self._slots.acquire()
        partition: Partition = (record.topic, record.partition)
        offset: int = record.offset
        self._frontier.start(partition, offset)
        previous = self._chains.get(key)
        task = asyncio.create_task(self._run(previous, work, partition, offset, consumer))
        self._chains[key] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(key, done))

    async def _run(
        self,
        previous: asyncio.Task[None] | None,
        work: Callable[[], Awaitable[None]],
        partition: Partition,
        offset: int,
        consumer: Any,
    ) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])  # its failure is its own; order is what counts
            await work()
            to = self._frontier.finish(partition, offset)
            if to is not None:
                await commit(consumer, partition, to)
        except KafkaError as exc:  # a rebalance took the partition: its new owner redelivers
            log.warning("chat_commit_failed", error=repr(exc))
        except Exception as exc:  # the frontier stays behind this message: it is redelivered
            log.error("chat_reply_failed", error=repr(exc))
        finally:
            self._slots.release()

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._chains.get(key) is task:
            del self._chains[key]

    async def drain(self) -> None:
        """Wait for the work in flight (shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    @property
    def in_flight(self) -> int:
        """Messages being handled now."""
        return len(self._tasks)
