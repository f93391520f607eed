"""Consumer lag: how far each consumer group's committed offsets trail the end of the log.

Measured from outside the consumer (an admin client for committed offsets and a group-less
consumer for log offsets), exactly as an operator's tool sees it: the committed offset is what
survives a crash, so it is the lag that matters, not the in-memory position of a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from interview_shared.background import in_background
from interview_shared.logging import get_logger
from interview_shared.metrics import CONSUMER_LAG, CONSUMER_LAG_UPDATED

log = get_logger(__name__)


@dataclass(frozen=True)
class PartitionLag:
    """One partition of one group: its committed offset (None: never committed) and the log."""

    group: str
    topic: str
    partition: int
    committed: int | None
    start: int
    end: int

    @property
    def lag(self) -> int:
        """Records not yet committed; from the log start when nothing (still kept) is."""
        consumed = self.start if self.committed is None else max(self.committed, self.start)
        return max(self.end - consumed, 0)


class OffsetReader:
    """An admin client and a group-less consumer: committed and log offsets of any group."""

    def __init__(self, bootstrap_servers: str, *, client_id: str = "interview-lag") -> None:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=client_id)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, enable_auto_commit=False
        )

    async def __aenter__(self) -> Self:
        try:
            await self.admin.start()
            await self._consumer.start()
        except BaseException:
            await self.__aexit__()  # a half-started client must not leak its connections
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()
        await self.admin.close()

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        """Every partition of `topics` (topics that do not exist are skipped)."""
        described = await self.admin.describe_topics(list(topics))
        return [
            TopicPartition(t["topic"], p["partition"])
            for t in described
            if not t["error_code"]
            for p in t["partitions"]
        ]

    async def log_offsets(
        self, partitions: Sequence[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """(start, end) offsets of each partition."""
        if not partitions:
            return {}, {}
        start = await self._consumer.beginning_offsets(list(partitions))
        end = await self._consumer.end_offsets(list(partitions))
        return start, end

    async def group_lag(self, group: str, topics: Iterable[str]) -> list[PartitionLag]:
        """The lag of `group` on every partition of `topics`."""
        partitions = await self.partitions(topics)
        committed = await self.admin.list_consumer_group_offsets(group)
        start, end = await self.log_offsets(partitions)
        return [
            PartitionLag(
                group=group,
                topic=tp.topic,
                partition=tp.partition,
                committed=_offset(committed.get(tp)),
                start=start[tp],
                end=end[tp],
            )
            for tp in sorted(partitions)
        ]


def _offset(meta: Any) -> int | None:
    offset: int | None = getattr(meta, "offset", None)
    return None if offset is None or offset < 0 else offset


def group_subscribers(broker: KafkaBroker) -> list[tuple[str, Any]]:
    """(group, subscriber) for each of `broker`'s subscribers that consumes in a group."""
    pairs = [(getattr(s, "group_id", None), s) for s in broker.subscribers]
    return [(group, s) for group, s in pairs if group]


def consumer_groups(broker: KafkaBroker) -> dict[str, list[str]]:
    """The groups `broker` consumes in, with their topics (group-less subscribers skipped)."""
    groups: dict[str, list[str]] = {}
    for group, subscriber in group_subscribers(broker):
        groups.setdefault(group, []).extend(t.name for t in getattr(subscriber, "topics", ()))
    return groups


class LagMonitor:
    """Measures this service's groups every `interval_s` into `interview_consumer_lag`.

    `worst` is the largest lag of the last measurement, None before the first one (or while
    Kafka cannot be asked): readiness treats unknown lag as no reason to be unready.
    """

    def __init__(
        self, bootstrap_servers: str, groups: dict[str, list[str]], *, interval_s: float
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._groups = groups
        self._interval_s = interval_s
        self.worst: int | None = None

    async def measure(self, reader: OffsetReader) -> None:
        """One measurement of every group, exported as gauges."""
        worst = 0
        for group, topics in self._groups.items():
            for p in await reader.group_lag(group, topics):
                CONSUMER_LAG.labels(p.group, p.topic, str(p.partition)).set(p.lag)
                worst = max(worst, p.lag)
        CONSUMER_LAG_UPDATED.set(time.time())
        self.worst = worst

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Measure in the background while inside (nothing at all without groups)."""
        if not self._groups:
            yield
            return
        async with in_background(self._loop(), name="consumer-lag"):
            yield

    async def _loop(self) -> None:
        # First measurement after one interval: start-up belongs to the broker, and in-process
        # tests (FastStream's TestKafkaBroker) end long before any lag would be measured.
        await asyncio.sleep(self._interval_s)
        while True:  # a broker outage must not end the monitor: reconnect and measure again
            try:
                async with OffsetReader(self._bootstrap) as reader:
                    while True:
                        await self.measure(reader)
                        await asyncio.sleep(self._interval_s)
            except Exception as exc:
                self.worst = None
                log.warning("consumer_lag_unmeasured", error=repr(exc))
                await asyncio.sleep(self._interval_s)
