"""The store's progress as the stall watch reads it (`interview_shared.stall`): the offsets kept
with its data against the ends of the partitions its consumer holds."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from interview_shared.lag import OffsetReader
from interview_shared.stall import Progress, ProgressCheck

from interview_store.ingest import BatchIngestor
from interview_store.rebuild import plan


def kept_offsets_progress(ingestor: BatchIngestor) -> ProgressCheck:
    """Progress from the kept offsets; None while a batch is applied or the database is down
    (a batch that waits out an outage holds the kept offsets still on purpose)."""

    async def progress(reader: OffsetReader, consumer: AIOKafkaConsumer) -> Progress | None:
        if ingestor.busy or not ingestor.database_available:
            return None
        assigned = sorted(consumer.assignment())
        kept = await ingestor.consumed_offsets()
        begin, end = await reader.log_offsets(assigned)
        if ingestor.busy:  # a batch began meanwhile: its offsets are about to move
            return None
        # Where a consumer would start now is where the store's data ends (the rebuild's rule).
        applied = {
            (tp.topic, tp.partition): plan(
                kept=kept.get((tp.topic, tp.partition)),
                committed=None,
                begin=begin[tp],
                end=end[tp],
            ).start
            for tp in assigned
        }
        waiting = sum(max(end[tp] - applied[(tp.topic, tp.partition)], 0) for tp in assigned)
        return Progress(applied=applied, waiting=waiting)

    return progress
