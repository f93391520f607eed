"""Polled batches: verdicts keep the batch's order, scorer calls are bounded, settings fit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import structlog
from aiokafka.structs import ConsumerRecord
from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.handlers import AnswerBatchHandler
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.scoring import ScoringRequest, ScoringResult
from interview_evaluator.settings import EvaluatorSettings
from interview_shared import topics
from interview_shared.domain import Criterion, Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    QuestionSnapshot,
    decode_event,
)
from interview_shared.messaging import EventProcessor, EventPublisher
from pydantic import ValidationError
from support import event_record


class Recorder:
    """A RawPublisher keeping what it is given, in the order the publishes were issued."""

    def __init__(self, *, fail_for: set[uuid.UUID] | None = None) -> None:
        self.evaluated: list[AnswerEvaluated] = []
        self.dead_letters = 0
        self._fail_for = fail_for or set()

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if topic == topics.DEAD_LETTER.name:
            self.dead_letters += 1
            return
        event = decode_event(message)
        assert isinstance(event, AnswerEvaluated)
        if event.answer_id in self._fail_for:
            raise ConnectionError("broker refused the verdict")
        self.evaluated.append(event)  # before the first await: the order of `send()` calls
        await asyncio.sleep(0.001)  # the acknowledgement


class SlowScorer(OfflineScorer):
    """Finishes answers out of order (later answers first) and records its concurrency."""

    def __init__(self, delays: dict[str, float]) -> None:
        super().__init__()
        self._delays = delays
        self.running = 0
        self.most = 0

    async def score(self, request: ScoringRequest) -> ScoringResult:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self._delays.get(request.answer_id, 0.0))
            return await super().score(request)
        finally:
            self.running -= 1


def answer(interview_id: uuid.UUID) -> AnswerSubmitted:
    question_id = uuid.uuid4()
    return AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=interview_id,
        question_id=question_id,
        text="Only one thread at a time may hold the lock, giving mutual exclusion.",
        question=QuestionSnapshot(
            question_id=question_id,
            text="What is a mutex?",
            reference_answer="A lock giving mutual exclusion: one thread at a time.",
            rubric=Rubric(version="r1", criteria=(Criterion(name="correctness"),)),
        ),
    )


def record(event: AnswerSubmitted, offset: int) -> ConsumerRecord[Any, Any]:
    return event_record(event, offset=offset)


def handler(recorder: Recorder, scorer: OfflineScorer, concurrency: int) -> AnswerBatchHandler:
    publisher = EventPublisher(recorder)
    return AnswerBatchHandler(
        evaluator=AnswerEvaluator(scorer=scorer, publisher=publisher, concurrency=concurrency),
        processor=EventProcessor(publisher=publisher, group="interview-evaluator", max_attempts=1),
        breaker=None,
        pause_s=0.02,
    )


async def test_verdicts_are_published_in_the_batch_order_when_scored_out_of_order() -> None:
    interview = uuid.uuid4()
    answers = [answer(interview) for _ in range(12)]
    # The first answers take longest: a judge finishing them last.
    delays = {str(a.answer_id): 0.002 * (len(answers) - i) for i, a in enumerate(answers)}
    recorder, scorer = Recorder(), SlowScorer(delays)

    await handler(recorder, scorer, concurrency=4).handle_batch(
        tuple(record(a, i) for i, a in enumerate(answers))
    )

    assert [v.answer_id for v in recorder.evaluated] == [a.answer_id for a in answers]
    assert scorer.most == 4  # at most EVALUATOR_CONCURRENCY scorer calls at once


async def test_a_failed_publish_dead_letters_its_answer_and_does_not_block_the_rest() -> None:
    interview = uuid.uuid4()
    answers = [answer(interview) for _ in range(4)]
    recorder = Recorder(fail_for={answers[1].answer_id})

    with structlog.testing.capture_logs():
        await handler(recorder, OfflineScorer(), concurrency=2).handle_batch(
            tuple(record(a, i) for i, a in enumerate(answers))
        )

    assert [v.answer_id for v in recorder.evaluated] == [
        answers[0].answer_id,
        answers[2].answer_id,
        answers[3].answer_id,
    ]
    assert recorder.dead_letters == 1


async def test_an_already_judged_answer_in_a_batch_is_skipped_in_order() -> None:
    interview = uuid.uuid4()
    first, second = answer(interview), answer(interview)
    recorder = Recorder()
    batch = handler(recorder, OfflineScorer(), concurrency=8)

    await batch.handle_batch((record(first, 0),))
    await batch.handle_batch((record(first, 0), record(second, 1)))  # a redelivery

    assert [v.answer_id for v in recorder.evaluated] == [first.answer_id, second.answer_id]


def test_the_poll_interval_covers_every_round_of_a_batch() -> None:
    # 2 rounds of 4 * (30 + 30) s, plus the breaker's 30 s: 510 s fits 600 s ...
    settings = EvaluatorSettings(
        openai_api_key=None,
        evaluator_batch_size=16,
        evaluator_concurrency=8,
        judge_timeout_s=30,
        judge_max_attempts=4,
        judge_breaker_reset_s=30,
        max_poll_interval_ms=600_000,
    )
    assert settings.evaluator_batch_size == 16
    # ... 3 rounds (750 s) do not.
    with pytest.raises(ValidationError, match="EVALUATOR_BATCH_SIZE"):
        EvaluatorSettings(
            openai_api_key=None,
            evaluator_batch_size=17,
            evaluator_concurrency=8,
            judge_timeout_s=30,
            judge_max_attempts=4,
            judge_breaker_reset_s=30,
            max_poll_interval_ms=600_000,
        )


def test_the_default_settings_fit_the_default_poll_interval() -> None:
    settings = EvaluatorSettings(openai_api_key=None)
    assert settings.evaluator_batch_size >= settings.evaluator_concurrency
