"""Whether a replaying consumer has read the log as far as it reached when the service started.

The memory store rebuilds itself from Kafka on every start; until the replay has reached the
end offsets seen at start-up its answers would be incomplete, so it reports not-ready.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from interview_shared.topics import Topic


class CatchUp:
    """Tracks the records seen against per-partition targets (the end offsets at start-up)."""

    def __init__(self, targets: dict[tuple[str, int], int] | None = None) -> None:
        self._targets = dict(targets or {})
        self._remaining = {tp: end for tp, end in self._targets.items() if end > 0}

    def replayed(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Whether `record` was on the log before start-up (its outcome was announced then)."""
        offset: int = record.offset
        return offset < self._targets.get((record.topic, record.partition), 0)

    def seen(self, records: Iterable[ConsumerRecord[Any, Any]]) -> None:
        """Note records as read (applied or dead-lettered)."""
        for record in records:
            partition = (record.topic, record.partition)
            target = self._remaining.get(partition)
            if target is not None and record.offset + 1 >= target:
                del self._remaining[partition]

    @property
    def done(self) -> bool:
        """Whether every partition has been read up to its target."""
        return not self._remaining


async def end_offsets(bootstrap: str, topics: Sequence[Topic]) -> dict[tuple[str, int], int]:
    """The current end offset of every partition of `topics`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
