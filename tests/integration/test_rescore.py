"""Re-scoring answers from the Kafka log: scope, active rubrics, idempotence, caps, dry runs."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from faststream.kafka import KafkaBroker
from interview_evaluator.ids import evaluation_id
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.replay import log_events, submitted_answers
from interview_evaluator.replay_run import (
    Budget,
    ReplayRequest,
    ReplayScope,
    ReplayStatus,
    read_context,
    run_replay,
)
from interview_evaluator.rescore_cli import _rescore
from interview_shared import topics
from interview_shared.domain import Criterion, Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    EventEnvelope,
    InterviewCreated,
    InterviewEvaluated,
    Lineage,
    QuestionCreated,
    QuestionRubricChanged,
    QuestionSnapshot,
    encode_event,
)
from interview_shared.messaging import EventPublisher

pytestmark = [pytest.mark.kafka]
NEW_RUBRIC = Rubric(version="2026-11", criteria=(Criterion(name="completeness", weight=1),))
REFERENCE = "It spreads requests across servers so none is overloaded."


def answer(
    interview_id: uuid.UUID, text: str, question_id: uuid.UUID | None = None
) -> AnswerSubmitted:
    question_id = question_id or uuid.uuid4()
    return AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=interview_id,
        question_id=question_id,
        text=text,
        question=QuestionSnapshot(
            question_id=question_id,
            text="What does a load balancer do?",
            reference_answer=REFERENCE,
            key_points=("spreads requests", "across servers"),
        ),
    )


async def publish(bootstrap: str, *events: EventEnvelope) -> None:
    async with KafkaBroker(bootstrap) as broker:
        for event in events:
            await broker.publish(
                encode_event(event), topic=event.topic.name, key=event.key.encode()
            )


async def replay_once(
    bootstrap: str, scope: ReplayScope, **options: object
) -> tuple[ReplayStatus, int, int, int]:
    """One replay as the CLI runs it; returns (status, scanned-in-scope evaluated, skipped...)."""
    context = await read_context(bootstrap, since=scope.since, candidates=bool(scope.candidate_ids))
    request = ReplayRequest(replay_id=uuid.uuid4(), scope=scope, **options)  # type: ignore[arg-type]
    async with KafkaBroker(bootstrap, enable_idempotence=True) as broker:
        done = await run_replay(
            submitted_answers(bootstrap, since=scope.since),
            request,
            context=context,
            scorer=OfflineScorer(),
            publisher=EventPublisher(broker),
        )
    return done.status, done.evaluated, done.skipped, done.scanned


async def verdicts_for(
    bootstrap: str, interview_id: uuid.UUID, since: datetime
) -> list[AnswerEvaluated]:
    return [
        e
        async for e in log_events(bootstrap, topics.EVALUATIONS, since=since)
        if isinstance(e, AnswerEvaluated) and e.interview_id == interview_id
    ]


async def test_rescore_selected_interview_with_new_rubric(kafka_bootstrap: str) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    interview_id = uuid.uuid4()
    mine = [
        answer(interview_id, "It spreads incoming requests across several servers."),
        answer(interview_id, "It balances load."),
    ]
    await publish(kafka_bootstrap, *mine, answer(uuid.uuid4(), "Not selected."))
    scope = ReplayScope(since=start, interview_ids=frozenset({interview_id}))

    status, evaluated, skipped, scanned = await replay_once(
        kafka_bootstrap, scope, rubric=NEW_RUBRIC
    )

    assert (status, evaluated, skipped) == (ReplayStatus.COMPLETED, 2, 0)
    assert scanned >= 3
    verdicts = await verdicts_for(kafka_bootstrap, interview_id, start)
    assert {v.answer_id for v in verdicts} == {e.answer_id for e in mine}
    for verdict in verdicts:
        assert verdict.lineage.rubric_version == "2026-11"
        assert [c.name for c in verdict.criteria] == ["completeness"]
        assert verdict.evaluation_id == evaluation_id(
            verdict.answer_id, scorer="offline", rubric_version="2026-11"
        )
    scores = {v.answer_id: v.score for v in verdicts}
    assert (scores[mine[0].answer_id] or 0) > (scores[mine[1].answer_id] or 0)


async def test_a_replay_twice_adds_one_evaluation_per_answer_and_rubric_version(
    kafka_bootstrap: str,
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    interview_id, question_id = uuid.uuid4(), uuid.uuid4()
    created = QuestionCreated(question_id=question_id, text="LB?", rubric=Rubric(version="v1"))
    answers = [
        answer(interview_id, f"It spreads requests, take {n}.", question_id) for n in range(3)
    ]
    await publish(kafka_bootstrap, created, *answers)
    scope = ReplayScope(since=start, interview_ids=frozenset({interview_id}))

    first = await replay_once(kafka_bootstrap, scope)
    second = await replay_once(kafka_bootstrap, scope)
    await publish(
        kafka_bootstrap, QuestionRubricChanged(question_id=question_id, rubric=NEW_RUBRIC)
    )
    third = await replay_once(kafka_bootstrap, scope)
    fourth = await replay_once(kafka_bootstrap, scope)

    assert [r[:3] for r in (first, second, third, fourth)] == [
        (ReplayStatus.COMPLETED, 3, 0),
        (ReplayStatus.COMPLETED, 0, 3),
        (ReplayStatus.COMPLETED, 3, 0),  # the question's active rubric is now 2026-11
        (ReplayStatus.COMPLETED, 0, 3),
    ]
    verdicts = await verdicts_for(kafka_bootstrap, interview_id, start)
    per_key = Counter((v.answer_id, v.lineage.rubric_version) for v in verdicts)
    assert set(per_key.values()) == {1}
    assert len(per_key) == 6


async def test_a_capped_replay_stops_at_its_cap(kafka_bootstrap: str) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    interview_id = uuid.uuid4()
    await publish(kafka_bootstrap, *(answer(interview_id, f"Answer {n}.") for n in range(4)))
    scope = ReplayScope(since=start, interview_ids=frozenset({interview_id}))

    capped = await replay_once(kafka_bootstrap, scope, budget=Budget(max_evaluations=2))
    rest = await replay_once(kafka_bootstrap, scope, budget=Budget(max_cost_usd=0.0))

    assert capped[:3] == (ReplayStatus.CAPPED, 2, 0)
    assert rest[:3] == (ReplayStatus.CAPPED, 0, 2)  # a zero budget judges nothing new
    assert len(await verdicts_for(kafka_bootstrap, interview_id, start)) == 2


async def test_a_dry_run_counts_and_publishes_nothing_and_scopes_by_candidate(
    kafka_bootstrap: str,
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    ada, other = uuid.uuid4(), uuid.uuid4()
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    await publish(
        kafka_bootstrap,
        InterviewCreated(interview_id=mine, candidate_id=ada, title="T", question_ids=()),
        InterviewCreated(interview_id=theirs, candidate_id=other, title="T", question_ids=()),
        answer(mine, "One."),
        answer(mine, "Two."),
        answer(theirs, "Three."),
    )
    scope = ReplayScope(since=start, candidate_ids=frozenset({ada}))

    status, evaluated, skipped, _ = await replay_once(kafka_bootstrap, scope, dry_run=True)

    assert (status, evaluated, skipped) == (ReplayStatus.COMPLETED, 2, 0)
    assert await verdicts_for(kafka_bootstrap, mine, start) == []


async def test_the_ops_rescore_recomputes_the_report_of_a_reported_interview(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    interview_id = uuid.uuid4()
    given = answer(interview_id, "It spreads incoming requests across several servers.")
    lineage = Lineage(scorer="retired", scorer_version="0", rubric_version="v1",
                      evaluator_version="0")  # fmt: skip
    old = AnswerEvaluated(
        answer_id=given.answer_id, interview_id=interview_id, question_id=given.question_id,
        score=10.0, lineage=lineage,
    )  # fmt: skip
    reported = InterviewEvaluated(
        interview_id=interview_id, overall_score=10.0, evaluation_ids=(old.evaluation_id,)
    )
    await publish(kafka_bootstrap, given, old, reported)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    scope = ReplayScope(since=start, interview_ids=frozenset({interview_id}))

    done = await _rescore(ReplayRequest(replay_id=uuid.uuid4(), scope=scope), out=None)

    assert (done.status, done.evaluated) == (ReplayStatus.COMPLETED, 1)
    [new] = [v for v in await verdicts_for(kafka_bootstrap, interview_id, start) if v != old]
    reports = [
        e
        async for e in log_events(kafka_bootstrap, topics.EVALUATIONS, since=start)
        if isinstance(e, InterviewEvaluated) and e.interview_id == interview_id
    ]
    assert [r.evaluation_ids for r in reports] == [(old.evaluation_id,), (new.evaluation_id,)]
