"""The chat service's Kafka edge.

- `chat-interviewer` (consumer group): replies to `chat.message.posted`, off the poll loop
  (`Dispatcher`), offsets committed once the work is durable.
- `chat-conversations` (no group, from the beginning): folds both chat topics into the session
  book, and stops generations whose client went away (`chat.reply.cancelled`).
- `chat-outcomes` (no group, from now on): the store's outcomes, for the answer the interview's
  completion waits on and for interview status changes made elsewhere.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from interview_shared import topics
from interview_shared.events import (
    ChatMessagePosted,
    ChatReplyCancelled,
    Event,
    OutcomeRecorded,
    decode_event,
)
from interview_shared.keyring import Privacy
from interview_shared.messaging import EventProcessor, is_reply_delta
from interview_shared.outcomes import OutcomeHub
from pydantic import ValidationError

from interview_chat.cancellation import Cancellations
from interview_chat.dispatch import Dispatcher
from interview_chat.replay import ReplayGate
from interview_chat.responder import Responder
from interview_chat.state import SessionBook


def register_handlers(
    broker: KafkaBroker,
    *,
    responder: Responder,
    processor: EventProcessor,
    dispatcher: Dispatcher,
    book: SessionBook,
    gate: ReplayGate,
    group: str,
    privacy: Privacy,
) -> None:
    """Reply to every user message at least once (replies are deduplicated by reply id)."""

    async def handle(event: Event) -> None:
        if isinstance(event, ChatMessagePosted):
            opened, _ = await privacy.open(event)  # erased: blank, and the reply says little
            await responder.respond(opened)
        else:  # a session started or closed: the same partition, so before its messages
            book.fold(event)

    # MANUAL: the dispatcher commits each partition up to the first message not yet done.
    @broker.subscriber(
        topics.CHAT_MESSAGES.name,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        title="chat-interviewer",
        description="Streams the interviewer's reply to chat.message.posted.",
    )
    async def reply_to_messages(message: KafkaMessage) -> None:
        await gate.wait()
        record = message.raw_message
        key = record.key.decode() if record.key else ""  # type: ignore[union-attr]
        await dispatcher.submit(
            key,
            record,
            lambda: processor.process(record, handle),
            message.consumer,
        )


def follow_log(
    broker: KafkaBroker,
    *,
    book: SessionBook,
    cancellations: Cancellations,
    outcomes: OutcomeHub,
    gate: ReplayGate,
    privacy: Privacy,
) -> None:
    """The broadcast tails every replica reads in full (they commit nothing: ACK_FIRST)."""

    @broker.subscriber(
        topics.CHAT_MESSAGES.name,
        topics.CHAT_REPLIES.name,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK_FIRST,
        title="chat-conversations",
        description="Rebuilds and follows every conversation's state; stops cancelled replies.",
    )
    async def follow_conversations(message: KafkaMessage) -> None:
        record = message.raw_message
        if is_reply_delta(record.headers):  # type: ignore[union-attr]
            gate.seen(record)  # live-only: a conversation is made of completed replies
            return
        event = _decoded(record.value)  # type: ignore[union-attr]
        if isinstance(event, ChatReplyCancelled):
            cancellations.cancel(event.message_id)
        if event is not None:
            book.fold((await privacy.open(event))[0])
        gate.seen(record)

    @broker.subscriber(
        topics.OUTCOMES.name,
        auto_offset_reset="latest",
        ack_policy=AckPolicy.ACK_FIRST,
        title="chat-outcomes",
        description="Outcomes the interviewer waits on; interview status changes.",
    )
    async def follow_outcomes(message: KafkaMessage) -> None:
        outcome = _decoded(message.raw_message.value)  # type: ignore[union-attr]
        if isinstance(outcome, OutcomeRecorded):
            outcomes.seen(outcome)
            if outcome.interview is not None:
                book.observe(outcome.interview)


def _decoded(value: bytes | None) -> Event | None:
    try:
        return decode_event(value or b"")
    except ValidationError:
        return None  # the owning consumers dead-letter poison; a tail skips it
