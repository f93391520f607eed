"""The chat service's Kafka edge."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_shared import topics
from interview_shared.events import ChatMessagePosted, Event
from interview_shared.messaging import CONSUMER_ACK_POLICY, EventProcessor

from interview_chat.responder import Responder


def register_handlers(
    broker: KafkaBroker, *, responder: Responder, processor: EventProcessor, group: str
) -> None:
    """Reply to every user message, at least once (replies are deduplicated by reply id)."""

    async def handle(event: Event) -> None:
        if isinstance(event, ChatMessagePosted):
            await responder.respond(event)

    @broker.subscriber(
        topics.CHAT_MESSAGES.name,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=CONSUMER_ACK_POLICY,
        title="chat-interviewer",
        description="Streams the interviewer's reply to chat.message.posted.",
    )
    async def reply_to_messages(message: KafkaMessage) -> None:
        await processor.process(message.raw_message, handle)
