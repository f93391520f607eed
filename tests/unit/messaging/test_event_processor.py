"""EventProcessor: at-least-once handling with bounded retries and a dead-letter topic."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from aiokafka.structs import ConsumerRecord
from interview_shared import topics
from interview_shared.events import CandidateRegistered, Event, encode_event
from interview_shared.messaging import (
    DeadLetter,
    EventProcessor,
    EventPublisher,
    PermanentError,
    RetryLater,
)
from support import consumer_record

GROUP = "test-group"


@dataclass
class Broker:
    """A RawPublisher that records what is published, or fails when `down`."""

    down: bool = False
    sent: list[tuple[str, bytes | None, dict[str, str], bytes]] = field(default_factory=list)

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if self.down:
            raise ConnectionError("kafka unreachable")
        self.sent.append((topic, key, dict(headers or {}), message))

    def dead_letters(self) -> list[DeadLetter]:
        return [
            DeadLetter.model_validate_json(value)
            for topic, _, _, value in self.sent
            if topic == topics.DEAD_LETTER.name
        ]


@dataclass
class Handler:
    """Records calls; raises each error of `errors` in turn, then succeeds."""

    errors: list[BaseException] = field(default_factory=list)
    calls: list[Event] = field(default_factory=list)

    async def __call__(self, event: Event) -> None:
        self.calls.append(event)
        if self.errors:
            raise self.errors.pop(0)


def record(
    value: bytes | None, *, key: bytes | None = b"key-1", offset: int = 42
) -> ConsumerRecord[Any, Any]:
    return consumer_record(
        topic=topics.CANDIDATES.name,
        value=value,
        key=key,
        partition=2,
        offset=offset,
        timestamp=1_700_000_000_000,
    )


def event() -> CandidateRegistered:
    return CandidateRegistered(
        candidate_id=uuid.uuid4(), name="Ada", email="ada@example.com", correlation_id="c-1"
    )


def processor(broker: Broker, *, max_attempts: int = 3) -> EventProcessor:
    return EventProcessor(
        publisher=EventPublisher(broker),
        group=GROUP,
        max_attempts=max_attempts,
        backoff_s=0.001,
        max_backoff_s=0.002,
    )


async def test_a_handled_record_is_not_dead_lettered() -> None:
    broker, handler, sent = Broker(), Handler(), event()

    await processor(broker).process(record(encode_event(sent)), handler)

    assert handler.calls == [sent]
    assert broker.sent == []


@pytest.mark.parametrize(
    "value",
    [
        b"{not json",
        b'{"type": "candidate.promoted", "candidate_id": "x"}',
        b'{"type": "candidate.registered"}',
        b"\xff\xfe binary",
        b"",
        None,
    ],
)
async def test_a_poison_record_is_dead_lettered_with_its_original_bytes(
    value: bytes | None,
) -> None:
    broker, handler = Broker(), Handler()

    await processor(broker).process(record(value), handler)

    assert handler.calls == []
    [letter] = broker.dead_letters()
    assert base64.b64decode(letter.value_base64) == (value or b"")
    assert letter.error_type == "ValidationError"
    assert letter.attempts == 0
    assert letter.consumer_group == GROUP
    assert (letter.original_topic, letter.partition, letter.offset) == (
        topics.CANDIDATES.name,
        2,
        42,
    )
    assert letter.key == "key-1"
    [(topic, key, headers, _)] = broker.sent
    assert topic == topics.DEAD_LETTER.name
    assert key == b"key-1"  # dead letters keep the original key
    assert headers == {"error_type": "ValidationError", "consumer_group": GROUP}


async def test_a_poison_record_without_a_key_is_dead_lettered_without_one() -> None:
    broker = Broker()

    await processor(broker).process(record(b"nope", key=None), Handler())

    [letter] = broker.dead_letters()
    assert letter.key is None
    assert broker.sent[0][1] is None


async def test_a_transient_failure_is_retried_with_backoff_then_dead_lettered() -> None:
    broker = Broker()
    handler = Handler(errors=[TimeoutError(f"slow {i}") for i in range(5)])

    with structlog.testing.capture_logs() as logs:
        await processor(broker, max_attempts=4).process(record(encode_event(event())), handler)

    assert len(handler.calls) == 4
    [letter] = broker.dead_letters()
    assert letter.attempts == 4
    assert letter.error_type == "TimeoutError"
    assert letter.error == "slow 3"
    delays = [log["delay_s"] for log in logs if log["event"] == "handler_failed_retrying"]
    assert delays == [0.001, 0.002, 0.002]  # doubling, capped at max_backoff_s


async def test_a_transient_failure_that_clears_is_not_dead_lettered() -> None:
    broker = Broker()
    handler = Handler(errors=[ConnectionError("blip"), ConnectionError("blip")])

    with structlog.testing.capture_logs():
        await processor(broker, max_attempts=3).process(record(encode_event(event())), handler)

    assert len(handler.calls) == 3
    assert broker.sent == []


async def test_a_permanent_error_is_dead_lettered_at_once() -> None:
    broker = Broker()
    handler = Handler(errors=[PermanentError("rule violated")])

    with structlog.testing.capture_logs():
        await processor(broker, max_attempts=5).process(record(encode_event(event())), handler)

    assert len(handler.calls) == 1
    [letter] = broker.dead_letters()
    assert (letter.error_type, letter.error, letter.attempts) == (
        "PermanentError",
        "rule violated",
        1,
    )


async def test_retry_later_propagates_without_a_dead_letter() -> None:
    broker = Broker()
    handler = Handler(errors=[RetryLater("breaker open")])

    with pytest.raises(RetryLater):
        await processor(broker, max_attempts=5).process(record(encode_event(event())), handler)

    assert len(handler.calls) == 1
    assert broker.sent == []


async def test_a_dead_letter_kafka_refuses_propagates_so_the_record_is_redelivered() -> None:
    broker = Broker(down=True)

    with pytest.raises(ConnectionError), structlog.testing.capture_logs():
        await processor(broker).process(record(b"poison"), Handler())


async def test_a_failed_handler_whose_dead_letter_fails_propagates() -> None:
    broker = Broker(down=True)
    handler = Handler(errors=[PermanentError("bad")])

    with pytest.raises(ConnectionError), structlog.testing.capture_logs():
        await processor(broker).process(record(encode_event(event())), handler)


def test_a_dead_letter_preview_is_cut_and_readable() -> None:
    value = b"\xff" + b"x" * 5000
    letter = DeadLetter.from_record(
        record(value), group=GROUP, error=ValueError("e" * 9000), attempts=2
    )

    assert len(letter.value_preview) == 2000
    assert letter.value_preview.startswith("\ufffd")
    assert len(letter.error) == 4000
    assert base64.b64decode(letter.value_base64) == value


def test_a_dead_letter_keeps_the_exact_key_and_headers_for_a_redrive() -> None:
    headers = [("event_id", b"e-1"), ("bin", b"\x00\xff")]
    failed = dataclasses.replace(record(b"{}", key=b"\xffkey"), headers=headers)

    letter = DeadLetter.from_record(failed, group=GROUP, error=ValueError("e"), attempts=1)
    read_back = DeadLetter.model_validate_json(letter.model_dump_json())

    assert read_back.original_key() == b"\xffkey"
    assert read_back.original_value() == b"{}"
    assert read_back.original_headers() == headers


def test_a_dead_letter_written_before_headers_were_kept_still_redrives() -> None:
    old = DeadLetter.model_validate(
        {"consumer_group": GROUP, "original_topic": "t", "partition": 0, "offset": 1,
         "key": "k-1", "value_base64": "e30=", "value_preview": "{}", "error_type": "E",
         "error": "e", "attempts": 1}
    )  # fmt: skip

    assert (old.original_key(), old.original_value(), old.original_headers()) == (b"k-1", b"{}", [])


async def test_events_are_published_to_their_topic_keyed_by_aggregate() -> None:
    broker, sent = Broker(), event()

    await EventPublisher(broker).publish(sent)

    [(topic, key, headers, value)] = broker.sent
    assert topic == topics.CANDIDATES.name
    assert key == sent.key.encode()  # the digest of the e-mail: registrations of one address
    assert headers == {
        "event_type": "candidate.registered",
        "event_id": str(sent.event_id),
        "correlation_id": "c-1",
    }
    assert value == encode_event(sent)
