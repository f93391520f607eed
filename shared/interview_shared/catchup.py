"""Whether a replaying consumer has read the log as far as it reached when it started.

A store rebuilds itself from Kafka: the memory store on every start (from offset 0), a
PostgreSQL store from the offsets kept with its data (offset 0 for an empty database). Until the
replay has reached the end offsets seen when it started its answers would be incomplete, so it
reports not-ready, and how far it has got (`progress`). Records below a partition's `announced`
offset had their side effects (outcome events) published in an earlier life: a replay must not
publish them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from interview_shared.topics import Topic

Partition = tuple[str, int]
"""(topic, partition)."""


class Replay(NamedTuple):
    """Where one partition's replay starts, where it is done, and what was announced before."""

    start: int
    """The first offset read (0, or the offset kept with the data)."""
    target: int
    """The end offset when the replay started: caught up once read up to here."""
    announced: int
    """Records below this offset were announced in an earlier life."""


class CatchUp:
    """Tracks the records seen against per-partition targets (the end offsets at start-up).

    `CatchUp(targets)` replays every partition from offset 0 (the memory store, the chat book);
    `CatchUp.awaiting()` is not done until `track` is first called (a consumer group's first
    assignment), so a process with no partitions yet is not reported caught up.
    """

    def __init__(self, targets: Mapping[Partition, int] | None = None) -> None:
        self._replays: dict[Partition, Replay] = {}
        self._positions: dict[Partition, int] = {}
        self._tracking = True
        self.track({tp: Replay(0, end, end) for tp, end in (targets or {}).items()})

    @classmethod
    def awaiting(cls) -> CatchUp:
        """Not done until the first `track` (the partitions are not known yet)."""
        catch_up = cls()
        catch_up._tracking = False
        return catch_up

    def track(self, replays: Mapping[Partition, Replay]) -> None:
        """Replay these partitions (newly assigned) from their `start` to their `target`."""
        self._tracking = True
        for tp, replay in replays.items():
            self._replays[tp] = replay
            self._positions[tp] = replay.start

    def drop(self, partitions: Iterable[Partition]) -> None:
        """Stop tracking partitions this process no longer reads (revoked in a rebalance)."""
        for tp in partitions:
            self._replays.pop(tp, None)
            self._positions.pop(tp, None)

    def announced(self, partition: Partition) -> int:
        """The announced watermark of a partition (0 when it is not tracked)."""
        replay = self._replays.get(partition)
        return replay.announced if replay is not None else 0

    def replayed(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Whether `record` was announced before start-up (so it must not be again)."""
        replay = self._replays.get((record.topic, record.partition))
        offset: int = record.offset
        return replay is not None and offset < replay.announced

    def seen(self, records: Iterable[ConsumerRecord[Any, Any]]) -> None:
        """Note records as read (applied or dead-lettered)."""
        for record in records:
            tp = (record.topic, record.partition)
            if tp in self._positions:
                self._positions[tp] = max(self._positions[tp], record.offset + 1)

    @property
    def done(self) -> bool:
        """Whether every tracked partition has been read up to its target."""
        return self._tracking and all(
            self._positions[tp] >= replay.target for tp, replay in self._replays.items()
        )

    def progress(self) -> dict[str, int]:
        """Records of the replay read so far (`applied`) out of those to read (`target`)."""
        applied = target = 0
        for tp, replay in self._replays.items():
            wanted = max(replay.target - replay.start, 0)
            target += wanted
            applied += min(max(self._positions[tp] - replay.start, 0), wanted)
        return {"applied": applied, "target": target}


async def end_offsets(bootstrap: str, topics: Sequence[Topic]) -> dict[Partition, int]:
    """The current end offset of every partition of `topics`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
