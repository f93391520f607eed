"""The evaluator service around the scorer: lineage, idempotency, aggregation, back-pressure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_evaluator.aggregate import summarise
from interview_evaluator.evaluation import EVALUATOR_VERSION, AnswerEvaluator
from interview_evaluator.handlers import AnswerBatchHandler
from interview_evaluator.main import create_app
from interview_evaluator.offline_scorer import (
    OFFLINE_SCORER_NAME,
    OFFLINE_SCORER_VERSION,
    OfflineScorer,
)
from interview_evaluator.resilience import CircuitBreaker, CircuitOpenError
from interview_evaluator.scoring import ScoringRequest, ScoringResult
from interview_evaluator.settings import EvaluatorSettings
from interview_shared import topics
from interview_shared.domain import Criterion, Difficulty, QuestionType, Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    Event,
    Lineage,
    QuestionSnapshot,
    decode_event,
    encode_event,
)
from interview_shared.messaging import EventProcessor, EventPublisher, RetryLater
from interview_shared.read_models import (
    Answer,
    ApplyResult,
    Evaluation,
    EvaluationFilter,
    ListQuery,
    Page,
    Question,
    StoreUnavailableError,
)
from interview_store.memory import MemoryStore
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


class EvaluationsRead(MemoryStore):
    """A read side holding the given evaluations (or, with `down`, unreachable)."""

    def __init__(self, evaluations: list[Evaluation] | None = None, *, down: bool = False) -> None:
        super().__init__()
        self.held = evaluations or []
        self.down = down

    async def event_outcome(self, event_id: uuid.UUID, *, wait_s: float = 0) -> ApplyResult | None:
        return await super().event_outcome(event_id)

    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]:
        if self.down:
            raise StoreUnavailableError("store read API unreachable")
        return Page(items=tuple(e for e in self.held if e.answer_id == filters.answer_id))


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


def stored_evaluation(
    answer: AnswerSubmitted, *, scorer: str = OFFLINE_SCORER_NAME, rubric_version: str = "r3"
) -> Evaluation:
    return Evaluation(
        id=uuid.uuid4(),
        answer_id=answer.answer_id,
        interview_id=answer.interview_id,
        question_id=answer.question_id,
        outcome="SCORED",
        score=50.0,
        lineage=Lineage(
            scorer=scorer, scorer_version="x", rubric_version=rubric_version, evaluator_version="x"
        ),
        created_at=NOW,
    )


def evaluator(
    recorder: Recorder, scorer: OfflineScorer, read: EvaluationsRead | None = None
) -> AnswerEvaluator:
    return AnswerEvaluator(scorer=scorer, publisher=EventPublisher(recorder), read=read)


# ---- AnswerEvaluator ---------------------------------------------------------------------------


async def test_a_verdict_is_published_with_its_full_lineage() -> None:
    recorder, answer = Recorder(), submitted(rubric_version="r3")

    await evaluator(recorder, OfflineScorer(), EvaluationsRead()).evaluate(answer)

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


async def test_an_answer_the_store_holds_a_verdict_for_is_not_judged_again() -> None:
    recorder, scorer, answer = Recorder(), CountingScorer(), submitted(rubric_version="r3")
    read = EvaluationsRead([stored_evaluation(answer, rubric_version="r3")])

    await evaluator(recorder, scorer, read).evaluate(answer)

    assert scorer.calls == 0
    assert recorder.events == []


@pytest.mark.parametrize(
    ("scorer_name", "rubric_version"), [(OFFLINE_SCORER_NAME, "r2"), ("openai-judge", "r3")]
)
async def test_a_verdict_by_another_rubric_or_scorer_does_not_count(
    scorer_name: str, rubric_version: str
) -> None:
    recorder, answer = Recorder(), submitted(rubric_version="r3")
    other = stored_evaluation(answer, scorer=scorer_name, rubric_version=rubric_version)

    await evaluator(recorder, OfflineScorer(), EvaluationsRead([other])).evaluate(answer)

    [verdict] = recorder.evaluations()
    assert verdict.lineage.rubric_version == "r3"


async def test_a_new_rubric_version_rejudges_an_answer_judged_in_this_process() -> None:
    recorder, scorer, answer_id = Recorder(), CountingScorer(), uuid.uuid4()
    judge = evaluator(recorder, scorer)

    await judge.evaluate(submitted(rubric_version="r1", answer_id=answer_id))
    await judge.evaluate(submitted(rubric_version="r2", answer_id=answer_id))

    assert scorer.calls == 2
    assert [v.lineage.rubric_version for v in recorder.evaluations()] == ["r1", "r2"]


async def test_an_unreachable_store_does_not_stop_judging() -> None:
    recorder, answer = Recorder(), submitted()

    await evaluator(recorder, OfflineScorer(), EvaluationsRead(down=True)).evaluate(answer)

    assert len(recorder.evaluations()) == 1


async def test_the_in_process_memory_is_bounded() -> None:
    recorder, scorer = Recorder(), CountingScorer()
    judge = AnswerEvaluator(
        scorer=scorer, publisher=EventPublisher(recorder), read=None, remember=1
    )
    first, second = submitted(), submitted()

    for answer in (first, second, first):
        await judge.evaluate(answer)

    assert scorer.calls == 3  # `first` was forgotten when `second` was remembered


# ---- aggregate.summarise -----------------------------------------------------------------------


def question(*skills: str) -> Question:
    return Question(
        id=uuid.uuid4(),
        text="Q?",
        type=QuestionType.GENERAL,
        difficulty=Difficulty.MEDIUM,
        skills=skills,
        tags=(),
        reference_answer="",
        key_points=(),
        rubric=Rubric(),
        created_at=NOW,
        updated_at=NOW,
    )


def answer(
    interview_id: uuid.UUID,
    asked: Question,
    score: float | None,
    *,
    minutes: int = 0,
    rubric_version: str = "v1",
    evaluated: bool = True,
) -> Answer:
    answer_id = uuid.uuid4()
    evaluation = Evaluation(
        id=uuid.uuid4(),
        answer_id=answer_id,
        interview_id=interview_id,
        question_id=asked.id,
        outcome="SCORED" if score is not None else "UNSCORABLE",
        score=score,
        unscorable_reason=None if score is not None else "gibberish",
        lineage=Lineage(
            scorer="offline",
            scorer_version="1",
            rubric_version=rubric_version,
            evaluator_version="0",
        ),
        created_at=NOW,
    )
    at = NOW + timedelta(minutes=minutes)
    return Answer(
        id=answer_id,
        interview_id=interview_id,
        question_id=asked.id,
        text="...",
        submitted_at=at,
        created_at=at,
        evaluation=evaluation if evaluated else None,
    )


def test_summarise_averages_per_skill_and_overall() -> None:
    interview_id = uuid.uuid4()
    sql_python, python, go, plain = (
        question("sql", "python"),
        question("python"),
        question("go"),
        question(),
    )
    answers = [
        answer(interview_id, sql_python, 80.0, rubric_version="v2"),
        answer(interview_id, python, 40.0),
        answer(interview_id, go, 30.0),
        answer(interview_id, plain, 70.0),
    ]
    questions = {q.id: q for q in (sql_python, python, go, plain)}

    report = summarise(interview_id, answers, questions)

    assert report.interview_id == interview_id
    assert report.overall_score == 55.0
    assert {(s.skill, s.score, s.answers) for s in report.skills} == {
        ("general", 70.0, 1),
        ("go", 30.0, 1),
        ("python", 60.0, 2),
        ("sql", 80.0, 1),
    }
    assert [s.skill for s in report.skills] == ["general", "go", "python", "sql"]
    assert report.strengths == ("general", "sql")  # >= 70
    assert report.weaknesses == ("go",)  # < 50
    assert report.rubric_versions == ("v1", "v2")
    assert set(report.evaluation_ids) == {a.evaluation.id for a in answers if a.evaluation}


@pytest.mark.parametrize(
    ("score", "strong", "weak"),
    [(70.0, True, False), (69.99, False, False), (50.0, False, False), (49.99, False, True)],
)
def test_strength_and_weakness_thresholds(score: float, strong: bool, weak: bool) -> None:
    interview_id, asked = uuid.uuid4(), question("sql")

    report = summarise(interview_id, [answer(interview_id, asked, score)], {asked.id: asked})

    assert (report.strengths == ("sql",)) is strong
    assert (report.weaknesses == ("sql",)) is weak


def test_unscorable_and_unscored_answers_count_in_no_average() -> None:
    interview_id = uuid.uuid4()
    scored, unscorable, pending = question("sql"), question("sql"), question("go")
    answers = [
        answer(interview_id, scored, 90.0),
        answer(interview_id, unscorable, None),
        answer(interview_id, pending, 10.0, evaluated=False),
    ]

    report = summarise(interview_id, answers, {q.id: q for q in (scored, unscorable, pending)})

    assert report.overall_score == 90.0
    assert [(s.skill, s.score, s.answers) for s in report.skills] == [("sql", 90.0, 1)]
    assert len(report.evaluation_ids) == 1


def test_the_newest_answer_to_a_question_is_the_one_that_counts() -> None:
    interview_id, asked, other = uuid.uuid4(), question("sql"), question("go")
    answers = [
        answer(interview_id, asked, 95.0, minutes=5),
        answer(interview_id, asked, 10.0, minutes=1),
        answer(interview_id, other, 80.0, minutes=1),
        answer(interview_id, other, None, minutes=9, evaluated=False),  # newest, not yet scored
    ]

    report = summarise(interview_id, answers, {asked.id: asked, other.id: other})

    assert [(s.skill, s.score) for s in report.skills] == [("sql", 95.0)]
    assert report.overall_score == 95.0


def test_an_interview_without_scores_has_no_overall_score() -> None:
    interview_id = uuid.uuid4()

    report = summarise(interview_id, [], {})

    assert report.overall_score is None
    assert report.skills == ()
    assert report.strengths == report.weaknesses == ()


# ---- AnswerBatchHandler ------------------------------------------------------------------------


def consumer_record(event: AnswerSubmitted, offset: int = 0) -> ConsumerRecord[Any, Any]:
    return event_record(event, offset=offset)


def batch_handler(
    recorder: Recorder, scorer: OfflineScorer, breaker: CircuitBreaker | None
) -> AnswerBatchHandler:
    publisher = EventPublisher(recorder)
    return AnswerBatchHandler(
        evaluator=AnswerEvaluator(scorer=scorer, publisher=publisher, read=None),
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


async def test_the_app_scores_a_submitted_answer_from_kafka() -> None:
    settings = EvaluatorSettings(openai_api_key=None, consumer_retry_backoff_s=0.01)
    app = create_app(settings, read=EvaluationsRead())
    broker: KafkaBroker = app.state.broker
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
    assert verdict.answer_id == answer.answer_id
    assert verdict.lineage.scorer == OFFLINE_SCORER_NAME
    assert verdict.lineage.rubric_version == "r3"
