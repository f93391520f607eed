"""Reading Kafka's log for a replay: answers already given, to be judged again.

The answers topic holds every `answer.submitted` with the question snapshot it was judged
against, so a replay needs nothing but the log. Each new verdict is an ordinary
`answer.evaluated` whose lineage names the rubric version, scorer and a replay id; the store
appends it to the answer's history, nothing is overwritten. `replay_run` decides what to judge.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from interview_shared import topics
from interview_shared.domain import Rubric
from interview_shared.events import AnswerSubmitted, Event, ReplayProgressed, decode_event
from pydantic import ValidationError

YIELD_EVERY = 16
"""Records decoded between two turns of the event loop while reading the log."""


async def submitted_answers(
    bootstrap: str, *, since: datetime | None = None
) -> AsyncGenerator[AnswerSubmitted]:
    """Every `answer.submitted` in the log from `since` (or the beginning) up to the end as it
    was when the replay started; reads with no consumer group, so no service is disturbed."""
    async for event in log_events(bootstrap, topics.ANSWERS, since=since):
        if isinstance(event, AnswerSubmitted):
            yield event


async def log_events(
    bootstrap: str, topic: topics.Topic, *, since: datetime | None = None
) -> AsyncGenerator[Event]:
    """Every decodable event on `topic` from `since` (or the beginning) up to its end offsets at
    the start: assigned partitions and start offsets found by time, never a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await _seek_to_start(consumer, partitions, since)
        decoded = 0
        while await _behind(consumer, ends):
            for records in (await consumer.getmany(timeout_ms=1000, max_records=500)).values():
                for record in records:
                    if record.offset >= ends[TopicPartition(record.topic, record.partition)]:
                        continue
                    event = _decode(record.value)
                    decoded += 1
                    if decoded % YIELD_EVERY == 0:
                        # A fetched batch is decoded without any await: hand the event loop to
                        # the live consumer now and then, or a replay's reading of the log
                        # (hundreds of records a batch) holds live answers up for tens of ms.
                        await asyncio.sleep(0)
                    if event is not None:
                        yield event
    finally:
        await consumer.stop()


async def _seek_to_start(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], since: datetime | None
) -> None:
    if since is None:
        # Explicit offsets: aiokafka's lazy seek_to_beginning was seen resolving to the end on a
        # freshly created topic.
        for tp, offset in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, offset)
        return
    # The record timestamp is the produce time, at or after the event's occurred_at; seeking a
    # minute early and filtering on occurred_at keeps the window exact.
    found = await consumer.offsets_for_times(
        {tp: int(since.timestamp() * 1000) - 60_000 for tp in partitions}
    )
    ends = await consumer.end_offsets(partitions)
    for tp in partitions:
        hit = found[tp]
        consumer.seek(tp, ends[tp] if hit is None else hit.offset)


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether some partition has not been read up to its end offset yet."""
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


def _decode(value: bytes | None) -> Event | None:
    try:
        return decode_event(value or b"")
    except ValidationError:
        return None  # poison messages were dead-lettered when first consumed


async def log_size(bootstrap: str, topic: topics.Topic, *, since: datetime | None = None) -> int:
    """How many records `log_events` would read (for a progress bar's total and ETA)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await _seek_to_start(consumer, partitions, since)
        total = 0
        for tp in partitions:
            total += ends[tp] - await consumer.position(tp)
        return total
    finally:
        await consumer.stop()


async def replay_reported(
    bootstrap: str, replay_id: uuid.UUID, *, partition: int, after: int
) -> bool:
    """Whether `replay_id` has a progress report on the replays topic after offset `after` of
    `partition`: its request was run before. A replay's events share its key, so its reports
    follow its request on the same partition; reads that partition only, with no group."""
    tp = TopicPartition(topics.REPLAYS.name, partition)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, after + 1)
        while await consumer.position(tp) < end:
            for record in (await consumer.getmany(tp, timeout_ms=1000, max_records=500)).get(
                tp, []
            ):
                event = _decode(record.value) if record.offset < end else None
                if isinstance(event, ReplayProgressed) and event.replay_id == replay_id:
                    return True
        return False
    finally:
        await consumer.stop()


def with_rubric(event: AnswerSubmitted, rubric: Rubric | None) -> AnswerSubmitted:
    """The same answer, to be judged against `rubric` instead of the one it was given with."""
    if rubric is None:
        return event
    return event.model_copy(
        update={"question": event.question.model_copy(update={"rubric": rubric})}
    )
