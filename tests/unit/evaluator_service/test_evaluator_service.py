"""The evaluator service around the scorer: lineage, idempotency, aggregation, back-pressure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import structlog
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_evaluator.evaluation import EVALUATOR_VERSION, AnswerEvaluator
from interview_evaluator.handlers import AnswerBatchHandler
from interview_evaluator.ids import NAMESPACE, answer_evaluated_event_id, evaluation_id
from interview_evaluator.main import create_app
from interview_evaluator.offline_scorer import (
    OFFLINE_SCORER_NAME,
    OFFLINE_SCORER_VERSION,
    OfflineScorer,
)
from interview_evaluator.reports import MemoryLogTail
from interview_evaluator.resilience import CircuitBreaker, CircuitOpenError, RetriesExhausted
from interview_evaluator.scoring import ScoringRequest, ScoringResult
from interview_evaluator.semantic_scorer import SEMANTIC_SCORER_NAME, SEMANTIC_SCORER_VERSION
from interview_evaluator.settings import EvaluatorSettings
from interview_shared import topics
from interview_shared.domain import Criterion, Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    Event,
    QuestionSnapshot,
    decode_event,
    encode_event,
)
from interview_shared.messaging import EventProcessor, EventPublisher, RetryLater
from pydantic import ValidationError
from support import event_record

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Recorder:
    """A RawPublisher that keeps the decoded events it is given."""

    events: list[Event] = field(default_factory=list)
    keys: list[bytes | None] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.topics.append(topic)
        self.keys.append(key)
        if topic != topics.DEAD_LETTER.name:
            self.events.append(decode_event(message))

    def evaluations(self) -> list[AnswerEvaluated]:
        return [e for e in self.events if isinstance(e, AnswerEvaluated)]


class CountingScorer(OfflineScorer):
    """The offline scorer, counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def score(self, request: ScoringRequest) -> ScoringResult:
        self.calls += 1
        return await super().score(request)


def submitted(*, rubric_version: str = "r3", answer_id: uuid.UUID | None = None) -> AnswerSubmitted:
    question_id = uuid.uuid4()
    rubric = Rubric(version=rubric_version, criteria=(Criterion(name="correctness"),))
    return AnswerSubmitted(
        answer_id=answer_id or uuid.uuid4(),
        interview_id=uuid.uuid4(),
        question_id=question_id,
        text="Only one thread at a time may hold the lock, giving mutual exclusion.",
        question=QuestionSnapshot(
            question_id=question_id,
            text="What is a mutex?",
            reference_answer="A lock giving mutual exclusion: one thread at a time.",
            key_points=("mutual exclusion", "one thread at a time"),
            skills=("concurrency",),
            rubric=rubric,
        ),
        correlation_id="corr-9",
    )


def evaluator(recorder: Recorder, scorer: OfflineScorer) -> AnswerEvaluator:
    return AnswerEvaluator(scorer=scorer, publisher=EventPublisher(recorder))


# ---- AnswerEvaluator ---------------------------------------------------------------------------


async def test_a_verdict_is_published_with_its_full_lineage() -> None:
    recorder, answer = Recorder(), submitted(rubric_version="r3")

    await evaluator(recorder, OfflineScorer()).evaluate(answer)

    [verdict] = recorder.evaluations()
    assert (verdict.answer_id, verdict.interview_id, verdict.question_id) == (
        answer.answer_id,
        answer.interview_id,
        answer.question_id,
    )
    assert verdict.outcome == "SCORED"
    assert verdict.score is not None
    assert verdict.lineage.scorer == OFFLINE_SCORER_NAME
    assert verdict.lineage.scorer_version == OFFLINE_SCORER_VERSION
    assert verdict.lineage.rubric_version == "r3"
    assert verdict.lineage.evaluator_version == EVALUATOR_VERSION
    assert verdict.lineage.prompt_hash is None
    assert verdict.lineage.model is None
    assert verdict.correlation_id == "corr-9"
    assert [c.name for c in verdict.criteria] == ["correctness"]
    assert recorder.topics == [topics.EVALUATIONS.name]
    assert recorder.keys == [str(answer.interview_id).encode()]


async def test_an_answer_judged_in_this_process_is_not_judged_again() -> None:
    recorder, scorer, answer = Recorder(), CountingScorer(), submitted()
    judge = evaluator(recorder, scorer)

    await judge.evaluate(answer)
    await judge.evaluate(answer)

    assert scorer.calls == 1
    assert len(recorder.evaluations()) == 1


async def test_judging_an_answer_again_gives_the_same_ids() -> None:
    # Another process (or this one after a restart) judges a redelivered answer: the verdict's
    # ids are the same, so the store keeps one evaluation without being asked first.
    first, second, answer = Recorder(), Recorder(), submitted(rubric_version="r3")

    await evaluator(first, OfflineScorer()).evaluate(answer)
    await evaluator(second, OfflineScorer()).evaluate(answer)

    [one], [two] = first.evaluations(), second.evaluations()
    assert (
        one.evaluation_id
        == two.evaluation_id
        == evaluation_id(answer.answer_id, scorer=OFFLINE_SCORER_NAME, rubric_version="r3")
    )
    assert one.event_id == two.event_id == answer_evaluated_event_id(one.evaluation_id)


@pytest.mark.parametrize(
    ("scorer", "rubric_version", "replay_id"),
    [
        (OFFLINE_SCORER_NAME, "r2", None),
        ("openai-judge", "r3", None),
        (OFFLINE_SCORER_NAME, "r3", "x"),
    ],
)
def test_another_rubric_scorer_or_replay_is_another_evaluation(
    scorer: str, rubric_version: str, replay_id: str | None
) -> None:
    answer_id = uuid.uuid4()
    live = evaluation_id(answer_id, scorer=OFFLINE_SCORER_NAME, rubric_version="r3")

    other = evaluation_id(
        answer_id, scorer=scorer, rubric_version=rubric_version, replay_id=replay_id
    )

    assert other != live
    assert evaluation_id(uuid.uuid4(), scorer=OFFLINE_SCORER_NAME, rubric_version="r3") != live


def test_the_id_namespace_is_pinned() -> None:
    # Changing the namespace would turn every redelivered answer into a new evaluation.
    answer_id = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert NAMESPACE == uuid.uuid5(uuid.NAMESPACE_URL, "https://interview.example/evaluator/ids")
    assert evaluation_id(answer_id, scorer="s", rubric_version="v") == uuid.uuid5(
        NAMESPACE, f"evaluation/{answer_id}/s/v"
    )


async def test_a_new_rubric_version_rejudges_an_answer_judged_in_this_process() -> None:
    recorder, scorer, answer_id = Recorder(), CountingScorer(), uuid.uuid4()
    judge = evaluator(recorder, scorer)

    await judge.evaluate(submitted(rubric_version="r1", answer_id=answer_id))
    await judge.evaluate(submitted(rubric_version="r2", answer_id=answer_id))

    assert scorer.calls == 2
    assert [v.lineage.rubric_version for v in recorder.evaluations()] == ["r1", "r2"]


async def test_the_in_process_memory_is_bounded() -> None:
    recorder, scorer = Recorder(), CountingScorer()
    judge = AnswerEvaluator(scorer=scorer, publisher=EventPublisher(recorder), remember=1)
    first, second = submitted(), submitted()

    for answer in (first, second, first):
        await judge.evaluate(answer)

    assert scorer.calls == 3  # `first` was forgotten when `second` was remembered


# ---- AnswerBatchHandler ------------------------------------------------------------------------


def consumer_record(event: AnswerSubmitted, offset: int = 0) -> ConsumerRecord[Any, Any]:
    return event_record(event, offset=offset)


def batch_handler(
    recorder: Recorder, scorer: OfflineScorer, breaker: CircuitBreaker | None
) -> AnswerBatchHandler:
    publisher = EventPublisher(recorder)
    return AnswerBatchHandler(
        evaluator=AnswerEvaluator(scorer=scorer, publisher=publisher),
        processor=EventProcessor(publisher=publisher, group="interview-evaluator", max_attempts=1),
        breaker=breaker,
        pause_s=0.02,
    )


async def test_a_batch_is_scored_concurrently_and_fully() -> None:
    recorder = Recorder()
    answers = [submitted() for _ in range(5)]

    await batch_handler(recorder, OfflineScorer(), None).handle_batch(
        tuple(consumer_record(a, i) for i, a in enumerate(answers))
    )

    assert {v.answer_id for v in recorder.evaluations()} == {a.answer_id for a in answers}


async def test_an_open_breaker_pauses_and_redelivers_the_batch_unscored() -> None:
    async def failing() -> None:
        raise ConnectionError("judge down")

    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=3600)
    with pytest.raises(ConnectionError):
        await breaker.call(failing)
    recorder, scorer = Recorder(), CountingScorer()

    with pytest.raises(RetryLater):
        await batch_handler(recorder, scorer, breaker).handle_batch((consumer_record(submitted()),))

    assert scorer.calls == 0
    assert recorder.topics == []  # nothing scored, nothing dead-lettered


async def test_a_scorer_failing_fast_on_an_open_circuit_redelivers_the_batch() -> None:
    class TrippedScorer(OfflineScorer):
        async def score(self, request: ScoringRequest) -> ScoringResult:
            raise CircuitOpenError(30.0)

    recorder = Recorder()

    with pytest.raises(RetryLater):
        await batch_handler(recorder, TrippedScorer(), None).handle_batch(
            (consumer_record(submitted()),)
        )

    assert recorder.topics == []


class ExhaustedScorer(OfflineScorer):
    """Every call runs out of retries on `error`, except for answers in `fine`."""

    def __init__(self, error: Exception, fine: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.error, self.fine = error, fine

    async def score(self, request: ScoringRequest) -> ScoringResult:
        if request.answer_id in self.fine:
            return await super().score(request)
        raise RetriesExhausted(self.error, attempts=4)


def service_breaker() -> CircuitBreaker:
    return CircuitBreaker(
        failure_threshold=100, counts_as_failure=lambda e: isinstance(e, ConnectionError)
    )


async def test_retries_exhausted_by_a_failing_model_redeliver_and_never_dead_letter() -> None:
    recorder, down, up = Recorder(), submitted(), submitted()
    scorer = ExhaustedScorer(ConnectionError("model down"), fine=frozenset({str(up.answer_id)}))
    handler = batch_handler(recorder, scorer, service_breaker())

    for _ in range(10):  # however often it is redelivered
        with pytest.raises(RetryLater):
            await handler.handle_batch((consumer_record(down, 0), consumer_record(up, 1)))

    assert topics.DEAD_LETTER.name not in recorder.topics
    # The answer that was scored is published at the first delivery, not held with the batch.
    assert [v.answer_id for v in recorder.evaluations()] == [up.answer_id]


async def test_unusable_replies_are_redelivered_a_few_times_then_dead_lettered() -> None:
    recorder, answer = Recorder(), submitted()
    handler = batch_handler(recorder, ExhaustedScorer(ValueError("not JSON")), service_breaker())

    with structlog.testing.capture_logs():
        for _ in range(3):
            with pytest.raises(RetryLater):
                await handler.handle_batch((consumer_record(answer),))
        await handler.handle_batch((consumer_record(answer),))

    assert recorder.topics == [topics.DEAD_LETTER.name]


async def test_a_poison_record_in_a_batch_is_dead_lettered_and_the_rest_scored() -> None:
    recorder, good = Recorder(), submitted()
    poison = consumer_record(good, 1)
    poison.value = b"not an event"

    with structlog.testing.capture_logs():
        await batch_handler(recorder, OfflineScorer(), None).handle_batch(
            (consumer_record(good, 0), poison)
        )

    assert [v.answer_id for v in recorder.evaluations()] == [good.answer_id]
    assert recorder.topics.count(topics.DEAD_LETTER.name) == 1


# ---- settings ----------------------------------------------------------------------------------


def test_a_judge_whose_worst_case_outlasts_the_poll_interval_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_poll_interval_ms"):
        EvaluatorSettings(
            openai_api_key=None,
            judge_timeout_s=120,
            judge_max_attempts=4,
            judge_breaker_reset_s=30,
            max_poll_interval_ms=600_000,
        )  # 4 * (120 + 30) + 30 = 630 s > 600 s


def test_a_judge_that_fits_the_poll_interval_is_accepted() -> None:
    settings = EvaluatorSettings(
        openai_api_key=None,
        judge_timeout_s=30,
        judge_max_attempts=4,
        judge_breaker_reset_s=30,
        max_poll_interval_ms=600_000,
    )  # 4 * (30 + 30) + 30 = 270 s

    assert settings.max_poll_interval_ms == 600_000


# ---- the whole app on an in-memory broker ------------------------------------------------------


class ViaBroker:
    """The app's sender through its own (in-memory) broker, so TestKafkaBroker sees verdicts."""

    broker: KafkaBroker

    async def publish(self, message: Any, topic: str = "", **kwargs: Any) -> None:
        await self.broker.publish(message, topic, **kwargs)


async def test_the_app_scores_a_submitted_answer_from_kafka(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http_calls: list[str] = []

    async def no_http(self: httpx.AsyncClient, request: httpx.Request, **_: Any) -> None:
        http_calls.append(str(request.url))
        raise AssertionError(f"the scoring path called {request.url}")

    # Every HTTP client of the product (the read client included) sends through httpx.
    monkeypatch.setattr(httpx.AsyncClient, "send", no_http)
    settings = EvaluatorSettings(openai_api_key=None, consumer_retry_backoff_s=0.01)
    via_broker = ViaBroker()
    app = create_app(settings, log_tail=MemoryLogTail, sender=via_broker)
    broker: KafkaBroker = app.state.broker
    via_broker.broker = broker
    verdicts: list[AnswerEvaluated] = []

    @broker.subscriber(topics.EVALUATIONS.name)
    async def collect(message: KafkaMessage) -> None:
        event = decode_event(message.body)
        assert isinstance(event, AnswerEvaluated)
        verdicts.append(event)

    answer = submitted()
    async with TestKafkaBroker(broker), app.router.lifespan_context(app):
        await broker.publish(
            encode_event(answer), topic=topics.ANSWERS.name, key=answer.key.encode()
        )

    [verdict] = verdicts
    assert http_calls == []
    assert verdict.answer_id == answer.answer_id
    assert verdict.lineage.scorer == SEMANTIC_SCORER_NAME  # the default without an API key
    assert verdict.lineage.scorer_version == SEMANTIC_SCORER_VERSION
    assert verdict.lineage.rubric_version == "r3"
    assert verdict.confidence is not None
