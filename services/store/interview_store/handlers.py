"""The store's Kafka edge: one batch subscriber over every domain topic."""

from __future__ import annotations

from faststream.kafka import KafkaBroker, TopicPartition
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.middlewares import AckPolicy
from interview_shared import topics
from interview_shared.messaging import CONSUMER_ACK_POLICY
from interview_shared.telemetry import batch_spans

from interview_store.ingest import BatchIngestor
from interview_store.rebuild import SeekToKeptOffsets


def register_handlers(
    broker: KafkaBroker,
    *,
    ingestor: BatchIngestor,
    group: str,
    durable: bool,
    max_records: int,
    batch_timeout_ms: int,
) -> BatchSubscriber:
    """Subscribe the ingestor to every domain topic, in batches; the subscriber.

    A durable backend (PostgreSQL) consumes in a group (one owner per partition among replicas)
    but starts each assigned partition at the offsets kept with its data (`SeekToKeptOffsets`):
    at least once, resuming where its data ends, and rebuilding from the start of the log when
    the database is empty. The memory backend holds nothing across restarts, so it joins no group
    and replays the topics from the beginning on every start: Kafka's log is the source of truth
    and the memory store is rebuilt from it.

    The memory backend assigns itself every partition of the catalogue rather than subscribing
    to the topics: a group-less subscription is re-derived from each metadata refresh, and a
    refresh that misses a topic for a moment (a broker coming back) replaces the assignment,
    which resets every position to `auto_offset_reset`, so the whole log is read and applied,
    and its outcomes announced, again. An assignment stays put whatever the metadata says.
    """
    listener = SeekToKeptOffsets(ingestor) if durable else None
    names = [topic.name for topic in topics.DOMAIN_TOPICS] if durable else []
    partitions = (
        []
        if durable
        else [TopicPartition(t.name, p) for t in topics.DOMAIN_TOPICS for p in range(t.partitions)]
    )
    subscriber = broker.subscriber(
        *names,
        partitions=partitions,
        group_id=group if durable else None,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        auto_offset_reset="earliest",
        # Without a group there is nothing to commit; a failed batch is dead-lettered by the
        # ingestor, so nothing is lost for this process's lifetime.
        ack_policy=CONSUMER_ACK_POLICY if durable else AckPolicy.ACK_FIRST,
        title="store-ingest",
        description="Persists every domain event; idempotent on event id.",
        listener=listener,
    )
    if listener is not None:
        listener.consumer = lambda: subscriber.consumer

    @subscriber
    async def persist_events(message: KafkaMessage) -> None:
        records = message.raw_message
        batch = records if isinstance(records, tuple) else (records,)
        # One span per event, in that event's trace: the store's write of each answer.
        with batch_spans(batch, "store persist", **{"db.system": "interview-store"}):
            await ingestor.ingest(batch)

    return subscriber
