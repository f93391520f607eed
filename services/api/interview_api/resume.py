"""Resuming an SSE stream: what a reconnecting client missed, read back from the Kafka log.

An SSE `id:` is `<occurred_at in ms>-<event id>`. Every event of one interview is keyed by its
id, so on each live topic they sit in one partition, the one the producer's partitioner picks
for the key. On reconnect with `Last-Event-ID` the gateway seeks each of those partitions to a
little before that time (`offsets_for_times`), reads up to the end offsets it saw at the start,
and sends the events of the key that occurred after the last one seen, oldest first; live
events follow, without the ones already sent. The log, not a gateway's memory, is the source,
so a client may reconnect to any replica.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from interview_shared.events import Event, decode_event
from interview_shared.keyring import Privacy
from interview_shared.topics import Topic
from pydantic import ValidationError

EVENT_ID_PATTERN = r"^\d{1,15}-[0-9a-fA-F-]{36}$"
_PARSE = re.compile(EVENT_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a stream stood: the last event it sent."""

    at_ms: int
    event_id: uuid.UUID

    @classmethod
    def parse(cls, raw: str) -> Position | None:
        """The position a `Last-Event-ID` names, or None if it is not one of ours."""
        if not _PARSE.match(raw):
            return None
        at_ms, _, event_id = raw.partition("-")
        try:
            return cls(int(at_ms), uuid.UUID(event_id))
        except ValueError:
            return None

    def before(self, event: Event) -> bool:
        """Whether `event` came after this position (so the client has not seen it)."""
        return (sse_time(event), str(event.event_id)) > (self.at_ms, str(self.event_id))


def sse_time(event: Event) -> int:
    """The event's time in ms, as its SSE id carries it."""
    moment = event.occurred_at
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def sse_id(event: Event) -> str:
    """The SSE `id:` of an event: resumable from the log."""
    return f"{sse_time(event)}-{event.event_id}"


class MissedEvents(Protocol):
    """Reads the events of one key after a position (the Kafka log, or a list in tests)."""

    async def since(self, key: str, after: Position) -> list[Event]: ...


class KafkaMissedEvents:
    """`MissedEvents` over the live topics in Kafka; one short-lived consumer per resume."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[Topic],
        *,
        privacy: Privacy,
        margin_ms: int = 5_000,
        timeout_s: float = 10.0,
    ) -> None:
        self._privacy = privacy
        self._bootstrap = bootstrap_servers
        self._topics = topics
        self._margin_ms = margin_ms  # producers' clocks differ a little
        self._timeout_s = timeout_s

    async def since(self, key: str, after: Position) -> list[Event]:
        """The key's events that occurred after `after`, oldest first."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._read(consumer, key, after)
        finally:
            await consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer, key: str, after: Position) -> list[Event]:
        partitions = [_partition_of(key, topic) for topic in self._topics]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        since = after.at_ms - self._margin_ms
        starts = await consumer.offsets_for_times(dict.fromkeys(partitions, since))
        pending = set()
        for tp in partitions:
            start = starts.get(tp)
            if start is not None and start.offset < ends[tp]:
                consumer.seek(tp, start.offset)
                pending.add(tp)
        missed: list[Event] = []
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp] and record.key == key.encode():
                        event = _decoded(record.value)
                        if event is not None and after.before(event):
                            missed.append(event)
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        opened = [event for event, _ in await self._privacy.open_all(missed)]
        return sorted(opened, key=lambda e: (sse_time(e), str(e.event_id)))


def _partition_of(key: str, topic: Topic) -> TopicPartition:
    # The producer's default partitioner (murmur2 of the key), so this is where it wrote.
    partitions = list(range(topic.partitions))
    return TopicPartition(topic.name, DefaultPartitioner()(key.encode(), partitions, partitions))


def _decoded(value: bytes | None) -> Event | None:
    try:
        return decode_event(value or b"")
    except ValidationError:
        return None


class ListedMissedEvents:
    """`MissedEvents` over events kept in a list (tests, single-process tools)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Event]] = []

    async def since(self, key: str, after: Position) -> list[Event]:
        """The key's events that occurred after `after`, oldest first."""
        missed = [e for k, e in self.log if k == key and after.before(e)]
        return sorted(missed, key=lambda e: (sse_time(e), str(e.event_id)))
