"""Publishing events and consuming them at least once, with retries and a dead-letter topic.

FastStream's default Kafka ack policy commits before the handler runs (at-most-once), so every
subscriber in this product uses `CONSUMER_ACK_POLICY`: the offset is committed only after the
handler returns. A handler returns only once its work is durable or the message has been
written to the dead-letter topic; if even that fails it raises, and the message is redelivered.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from aiokafka.structs import ConsumerRecord
from faststream.middlewares import AckPolicy
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interview_shared import topics
from interview_shared.events import Event, EventEnvelope, decode_event, encode_event
from interview_shared.keyring import Privacy
from interview_shared.logging import get_logger
from interview_shared.metrics import EVENTS_HANDLED, HANDLER_SECONDS
from interview_shared.telemetry import record_span

CONSUMER_ACK_POLICY = AckPolicy.NACK_ON_ERROR
"""Commit after the handler succeeds; on an exception seek back so the message is redelivered."""

log = get_logger(__name__)


class RawPublisher(Protocol):
    """What we need of a broker: FastStream's KafkaBroker satisfies it."""

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any: ...


class EventPublisher:
    """Publishes domain events to their catalogue topic, keyed by aggregate id."""

    def __init__(self, broker: RawPublisher, *, privacy: Privacy | None = None) -> None:
        self._broker = broker
        self._privacy = privacy

    async def publish(self, event: EventEnvelope) -> None:
        """Publish one event, personal fields sealed, and wait for the broker's acknowledgement."""
        key = event.key.encode()  # of the plain event: a registration is keyed by its e-mail
        if self._privacy is not None:
            event = await self._privacy.seal(event)
        await self._broker.publish(
            encode_event(event), topic=event.topic.name, key=key, headers=_headers(event)
        )

    async def publish_many(self, events: Iterable[EventEnvelope]) -> None:
        """Publish events concurrently and wait until the broker has acknowledged all of them.

        One at a time would serialise on the broker's round trip; concurrent sends share the
        producer's batches. Same-key order holds: the idempotent producer keeps send order.
        """
        await asyncio.gather(*(self.publish(event) for event in events))

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        """Publish a dead letter; raises if the broker does not take it."""
        await self._broker.publish(
            letter.model_dump_json().encode(),
            topic=topics.DEAD_LETTER.name,
            key=letter.key.encode() if letter.key else None,
            headers={"error_type": letter.error_type, "consumer_group": letter.consumer_group},
        )


def is_reply_delta(headers: Sequence[tuple[str, bytes]] | None) -> bool:
    """Whether a record is a `chat.reply.delta`, read from its headers without decoding it.

    Most records of a streamed reply are deltas and only the gateway's live tail needs their
    bodies; readers that keep completed replies skip them by this header.
    """
    return any(name == "event_type" and value == _REPLY_DELTA for name, value in headers or ())


_REPLY_DELTA = b"chat.reply.delta"


def _headers(event: EventEnvelope) -> dict[str, str]:
    headers = {"event_type": str(getattr(event, "type", "")), "event_id": str(event.event_id)}
    if event.correlation_id:
        headers["correlation_id"] = event.correlation_id
    # An outcome names its subject in the headers too, so that a reader which needs only a few
    # outcomes (a gateway picking out its own) can skip the rest without decoding them.
    if (subject := getattr(event, "subject_event_id", None)) is not None:
        headers["subject_event_id"] = str(subject)
        headers["subject_type"] = str(getattr(event, "subject_type", ""))
    return headers


class DeadLetter(BaseModel):
    """A message a consumer gave up on, with the original bytes and the reason.

    It holds all a redrive needs to put the message back as it was: the topic, the exact key
    and value bytes and the original headers (letters written before `key_base64` and `headers`
    existed redrive with `key` as UTF-8 and no headers).
    """

    model_config = ConfigDict(frozen=True)

    consumer_group: str
    original_topic: str
    partition: int
    offset: int
    key: str | None
    key_base64: str | None = None
    value_base64: str
    headers: tuple[tuple[str, str], ...] = Field(
        default=(), description="The original headers, in order, each value base64-encoded"
    )
    value_preview: str = Field(description="The value as UTF-8 text, cut to 2,000 characters")
    error_type: str
    error: str
    attempts: int
    failed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_record(
        cls, record: ConsumerRecord[Any, Any], *, group: str, error: BaseException, attempts: int
    ) -> DeadLetter:
        """Build a dead letter from the record that failed and the error that failed it."""
        value: bytes = record.value or b""
        key: bytes | None = record.key
        return cls(
            consumer_group=group,
            original_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=key.decode(errors="replace") if key else None,
            key_base64=base64.b64encode(key).decode() if key is not None else None,
            value_base64=base64.b64encode(value).decode(),
            headers=tuple(
                (name, base64.b64encode(raw or b"").decode()) for name, raw in record.headers or ()
            ),
            value_preview=value[:2000].decode(errors="replace"),
            error_type=type(error).__name__,
            error=str(error)[:4000],
            attempts=attempts,
        )

    def original_key(self) -> bytes | None:
        """The key the message had."""
        if self.key_base64 is not None:
            return base64.b64decode(self.key_base64)
        return self.key.encode() if self.key is not None else None

    def original_value(self) -> bytes:
        """The value the message had."""
        return base64.b64decode(self.value_base64)

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the message had, in order."""
        return [(name, base64.b64decode(value)) for name, value in self.headers]


class PermanentError(Exception):
    """Retrying cannot help (bad data, a rule violated): dead-letter at once."""


class RetryLater(Exception):
    """The message is fine but a dependency is not (a tripped circuit breaker): redeliver it.

    Propagates out of the processor, so the subscriber's ack policy seeks back and the message is
    consumed again after the next poll instead of being dead-lettered.
    """


EventHandler = Callable[[Event], Awaitable[None]]


class EventProcessor:
    """Decodes a record, runs a handler with bounded retries, and dead-letters what fails.

    A message that cannot be decoded, raises `PermanentError`, or fails `max_attempts` times is
    written to the dead-letter topic and the consumer moves on: one poison message must not stop
    a partition. Only a failure to write the dead letter propagates (and the record is redelivered).
    """

    def __init__(
        self,
        *,
        publisher: EventPublisher,
        group: str,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._publisher = publisher
        self._group = group
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s

    @property
    def group(self) -> str:
        """The consumer group it processes (and dead-letters) for."""
        return self._group

    async def process(self, record: ConsumerRecord[Any, Any], handler: EventHandler) -> None:
        """Handle one record at least once; see the class docstring for the failure rules."""
        try:
            event = decode_event(record.value or b"")
        except ValidationError as exc:
            await self.dead_letter(record, exc, attempts=0)
            return
        with (
            structlog.contextvars.bound_contextvars(
                event_id=str(event.event_id),
                event_type=event.type,
                correlation_id=event.correlation_id,
            ),
            HANDLER_SECONDS.labels(self._group).time(),
            record_span(record, f"{self._group} handle", event_type=event.type),
        ):
            await self._run(record, event, handler)

    async def _run(
        self, record: ConsumerRecord[Any, Any], event: Event, handler: EventHandler
    ) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                await handler(event)
                EVENTS_HANDLED.labels(self._group, "handled").inc()
                return
            except PermanentError as exc:
                await self.dead_letter(record, exc, attempts=attempt)
                return
            except RetryLater:
                raise
            except Exception as exc:
                if attempt == self._max_attempts:
                    await self.dead_letter(record, exc, attempts=attempt)
                    return
                delay = min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s)
                log.warning(
                    "handler_failed_retrying", attempt=attempt, delay_s=delay, error=repr(exc)
                )
                await asyncio.sleep(delay)

    async def dead_letter(
        self, record: ConsumerRecord[Any, Any], error: BaseException, *, attempts: int
    ) -> None:
        """Write the record to the dead-letter topic (raises if Kafka does not take it)."""
        letter = DeadLetter.from_record(record, group=self._group, error=error, attempts=attempts)
        await self._publisher.publish_dead_letter(letter)
        EVENTS_HANDLED.labels(self._group, "dead_lettered").inc()
        log.error(
            "message_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_type=letter.error_type,
            error=letter.error,
            attempts=attempts,
        )
