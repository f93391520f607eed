"""Dead letters back to their original topics: which ones (`Selection`) and the redrive itself.

A redrive produces a letter's original value to its original topic with the original key bytes
(so the key's partition, after the events that were consumed meanwhile) and the original
headers, plus one `redriven_from` header naming the dead letter (`topic:partition@offset`), so a
redriven message can be told from a first delivery. A letter without a key goes back to its
original partition. The dead letter itself stays: the log is immutable.

Every consumer group on the original topic sees the message again, not only the one that gave
up; that is safe because consumers are idempotent by event id (the store de-duplicates event
ids, the evaluator derives its ids from the answer), which also makes a letter redriven twice
harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from interview_shared import topics

from interview_localinfra.ops_kafka import Letter

REDRIVEN_FROM = "redriven_from"


def parse_position(text: str) -> tuple[int, int]:
    """A dead letter's position as the CLI shows it, `partition@offset`, or a bare offset (the
    dead-letter topic has one partition)."""
    partition, _, offset = text.rpartition("@")
    return int(partition or 0), int(offset)


@dataclass(frozen=True)
class Selection:
    """Which dead letters to act on; every given criterion must hold."""

    positions: frozenset[tuple[int, int]] = frozenset()
    group: str | None = None
    topic: str | None = None
    error_type: str | None = None
    everything: bool = False

    @property
    def empty(self) -> bool:
        """Nothing chosen: a redrive refuses to run rather than take every letter by accident."""
        criteria = (self.positions, self.group, self.topic, self.error_type)
        return not self.everything and not any(criteria)

    def matches(self, letter: Letter) -> bool:
        """Whether `letter` is chosen (an unreadable letter never is: its origin is unknown)."""
        d = letter.letter
        if d is None:
            return False
        return (
            (not self.positions or (letter.partition, letter.offset) in self.positions)
            and (self.group is None or d.consumer_group == self.group)
            and (self.topic is None or d.original_topic == self.topic)
            and (self.error_type is None or d.error_type == self.error_type)
        )


async def redrive(
    bootstrap: str, letters: Sequence[Letter], *, progress: Callable[[int], None] = lambda _: None
) -> int:
    """Produce each letter back to its original topic; returns how many the broker took."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, client_id="interview-ops", enable_idempotence=True
    )
    await producer.start()
    try:
        sent = [await _send(producer, letter) for letter in letters]
        for done in asyncio.as_completed(sent):  # sent in order, acknowledged in any order
            await done
            progress(1)
    finally:
        await producer.stop()
    return len(sent)


async def _send(producer: AIOKafkaProducer, letter: Letter) -> asyncio.Future[object]:
    d = letter.letter
    assert d is not None  # `Selection.matches` chose it
    origin = f"{topics.DEAD_LETTER.name}:{letter.partition}@{letter.offset}"
    key = d.original_key()
    future: asyncio.Future[object] = await producer.send(
        d.original_topic,
        d.original_value(),
        key=key,
        headers=[*d.original_headers(), (REDRIVEN_FROM, origin.encode())],
        partition=None if key is not None else d.partition,
    )
    return future
