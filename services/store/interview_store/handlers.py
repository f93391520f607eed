"""The store's Kafka edge: one batch subscriber over every domain topic."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_shared import topics
from interview_shared.messaging import CONSUMER_ACK_POLICY

from interview_store.ingest import BatchIngestor

CONSUMER_GROUP = "interview-store"


def register_handlers(
    broker: KafkaBroker, *, ingestor: BatchIngestor, max_records: int, batch_timeout_ms: int
) -> None:
    """Subscribe the ingestor to every domain topic, at least once, in batches."""

    @broker.subscriber(
        *(topic.name for topic in topics.DOMAIN_TOPICS),
        group_id=CONSUMER_GROUP,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=CONSUMER_ACK_POLICY,
        title="store-ingest",
        description="Persists every domain event; idempotent on event id.",
    )
    async def persist_events(message: KafkaMessage) -> None:
        records = message.raw_message
        await ingestor.ingest(records if isinstance(records, tuple) else (records,))
