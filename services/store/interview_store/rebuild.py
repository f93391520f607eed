"""Where the store's consumer starts on each partition: where its data ends.

The offsets a store has consumed are kept with its data, written by `Store.apply` in each batch's
own transaction, as Kafka Connect sinks keep theirs: the data and its position in the log commit
together, so neither can run ahead of the other. A store pointed at an empty database has no
offsets and starts every partition at the beginning of the log: it rebuilds itself. A restarted
store resumes where its data ends, whatever the consumer group says.

The PostgreSQL store still consumes in a consumer group, for two things only:

* one owner per partition: replicas sharing a database split the partitions by the group's
  assignment and take over a dead replica's share. (Manual assignment would need a lease of its
  own for that; the group already is one.)
* a watermark of what was announced: the group's offsets are committed after a batch's outcome
  events are on the log (`interview_store.outcomes`), so records at or past the group's offset
  may have been applied without their outcome announced (a crash between the two commits).

On every assignment `SeekToKeptOffsets` seeks each partition to `plan(...).start`: the kept offset,
or the group's if that is lower (the crash window above is re-applied, idempotently, and its
outcomes announced, as `duplicate`). The announced watermark is kept with the offsets too,
because a rebuild moves the group's offsets back: a rebuild that crashes half-way must not
announce on its next start what the store's previous database announced long ago.

The memory store joins no group and keeps nothing: `plan` with nothing kept and nothing
committed is its replay from offset 0 on every start, announcing nothing that was on the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from interview_shared.catchup import Partition, Replay
from interview_shared.logging import get_logger

from interview_store.ingest import BatchIngestor
from interview_store.port import KeptOffset

log = get_logger(__name__)


def plan(*, kept: KeptOffset | None, committed: int | None, begin: int, end: int) -> Replay:
    """Where one partition's consumer starts, its catch-up target and its announced watermark."""
    if kept is None:
        # Nothing kept: a new or emptied database, a rebuild. What the log held was announced
        # up to the group's offset (by whoever consumed it), or all of it without a group.
        start = begin
        base = end if committed is None else committed
    else:
        start = kept.next_offset if committed is None else min(kept.next_offset, committed)
        base = kept.next_offset if committed is None else committed
    announced = max(base, kept.announced if kept else 0)
    return Replay(start=max(start, begin), target=end, announced=announced)


def _key(tp: TopicPartition) -> Partition:
    return (tp.topic, tp.partition)


class SeekToKeptOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """On each assignment, seeks every assigned partition to where the store's data ends."""

    def __init__(
        self, ingestor: BatchIngestor, *, max_backoff_s: float = 5.0, attempt_timeout_s: float = 8.0
    ) -> None:
        self._ingestor = ingestor
        self._max_backoff_s = max_backoff_s
        self._attempt_timeout_s = attempt_timeout_s
        self.consumer: Callable[[], AIOKafkaConsumer | None] = lambda: None
        """The subscriber's consumer (set once the subscriber exists)."""

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Another replica may own these now: readiness no longer waits for them here."""
        self._ingestor.catch_up.drop(_key(tp) for tp in revoked)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Seek to the kept offsets; retried until it works, because aiokafka swallows a
        listener's error and would then start from the group's offsets instead.

        Each attempt is bounded: aiokafka stops the member's heartbeats until this callback
        returns, and some of its calls wait without a deadline (`committed` retries a loading
        group silently), so a wait begun while the broker went down again could outlast the
        session and leave the store out of its group, consuming nothing and logging nothing."""
        partitions = sorted(assigned)
        delay = 0.1
        while True:
            try:
                async with asyncio.timeout(self._attempt_timeout_s):
                    replays = await self._seek(partitions)
            except Exception:
                log.exception("seek_to_kept_offsets_failed", retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff_s)
            else:
                self._ingestor.catch_up.track(replays)
                log.info(
                    "partitions_assigned",
                    partitions=len(partitions),
                    rebuild=self._ingestor.catch_up.progress(),
                )
                return

    async def _seek(self, partitions: list[TopicPartition]) -> dict[Partition, Replay]:
        consumer = self.consumer()
        if consumer is None:
            raise RuntimeError("the store's consumer is not started")
        kept = await self._ingestor.consumed_offsets()
        begins = await consumer.beginning_offsets(partitions) if partitions else {}
        ends = await consumer.end_offsets(partitions) if partitions else {}
        replays: dict[Partition, Replay] = {}
        for tp in partitions:
            replay = plan(
                kept=kept.get(_key(tp)),
                committed=await consumer.committed(tp),
                begin=begins[tp],
                end=ends[tp],
            )
            consumer.seek(tp, replay.start)
            replays[_key(tp)] = replay
        return replays
