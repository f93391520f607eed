"""Re-scoring from Kafka's log: answers already given, judged again with a new rubric or scorer.

The answers topic holds every `answer.submitted` with the question snapshot it was judged
against, so a replay needs nothing but the log. Each new verdict is an ordinary
`answer.evaluated` whose lineage names the rubric version, scorer and a replay id; the replay id
is part of the evaluation id (see `ids`), so a deliberate re-score appends to the answer's history
in the store even under an unchanged rubric version, and nothing is overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from interview_shared import topics
from interview_shared.domain import Rubric
from interview_shared.events import AnswerEvaluated, AnswerSubmitted, decode_event
from interview_shared.messaging import EventPublisher
from pydantic import ValidationError

from interview_evaluator.evaluation import evaluated_event, scoring_request
from interview_evaluator.scoring import Scorer


@dataclass(frozen=True)
class ReplayFilter:
    """Which answers to re-score: a submission time window and optionally some interviews."""

    since: datetime | None = None
    until: datetime | None = None
    interview_ids: frozenset[uuid.UUID] = frozenset()

    def matches(self, event: AnswerSubmitted) -> bool:
        """Whether `event` is in the window and, if interviews are named, in one of them."""
        if self.since is not None and event.occurred_at < self.since:
            return False
        if self.until is not None and event.occurred_at >= self.until:
            return False
        return not self.interview_ids or event.interview_id in self.interview_ids


@dataclass
class ReplaySummary:
    """What a replay did."""

    replay_id: str
    scanned: int = 0
    rescored: int = 0
    unscorable: int = 0
    scores: list[float] = field(default_factory=list)

    @property
    def mean_score(self) -> float | None:
        """Mean of the new scores (unscorable answers excluded)."""
        return round(fmean(self.scores), 2) if self.scores else None


async def submitted_answers(
    bootstrap: str, *, since: datetime | None = None
) -> AsyncIterator[AnswerSubmitted]:
    """Every `answer.submitted` in the log from `since` (or the beginning) up to the end as it
    was when the replay started; reads with no consumer group, so no service is disturbed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topics.ANSWERS.name, p) for p in range(topics.ANSWERS.partitions)
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await _seek_to_start(consumer, partitions, since)
        while await _behind(consumer, ends):
            for records in (await consumer.getmany(timeout_ms=1000, max_records=500)).values():
                for record in records:
                    if record.offset >= ends[TopicPartition(record.topic, record.partition)]:
                        continue
                    event = _decode(record.value)
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


def _decode(value: bytes | None) -> AnswerSubmitted | None:
    try:
        event = decode_event(value or b"")
    except ValidationError:
        return None  # poison messages were dead-lettered when first consumed
    return event if isinstance(event, AnswerSubmitted) else None


def with_rubric(event: AnswerSubmitted, rubric: Rubric | None) -> AnswerSubmitted:
    """The same answer, to be judged against `rubric` instead of the one it was given with."""
    if rubric is None:
        return event
    return event.model_copy(
        update={"question": event.question.model_copy(update={"rubric": rubric})}
    )


async def replay(
    answers: AsyncIterator[AnswerSubmitted],
    *,
    scorer: Scorer,
    rubric: Rubric | None,
    selection: ReplayFilter,
    publisher: EventPublisher | None,
    on_verdict: Callable[[AnswerEvaluated], Any] = lambda _: None,
) -> ReplaySummary:
    """Re-score every selected answer; publish each verdict unless `publisher` is None (dry run)."""
    summary = ReplaySummary(replay_id=str(uuid.uuid4()))
    async for submitted in answers:
        summary.scanned += 1
        if not selection.matches(submitted):
            continue
        event = with_rubric(submitted, rubric)
        result = await scorer.score(scoring_request(event))
        result = result.model_copy(
            update={"parameters": {**result.parameters, "replay_id": summary.replay_id}}
        )
        verdict = evaluated_event(event, result, replay_id=summary.replay_id)
        if publisher is not None:
            await publisher.publish(verdict)
        on_verdict(verdict)
        summary.rescored += 1
        if verdict.score is None:
            summary.unscorable += 1
        else:
            summary.scores.append(verdict.score)
    return summary
