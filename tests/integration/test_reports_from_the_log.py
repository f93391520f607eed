"""`interview.evaluated` from the log on real Kafka: the evaluator asks no one, loses nothing
between a completion and its report, and a restart does not report again.

The store is played by the test: it publishes the `store.outcome_recorded` events the store
would (answer applied, interview COMPLETED), so only the evaluator's behaviour is under test.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from interview_evaluator.main import create_app
from interview_evaluator.settings import EvaluatorSettings
from interview_shared import topics
from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    AnswerSubmitted,
    EventEnvelope,
    InterviewState,
    OutcomeRecorded,
    QuestionSnapshot,
    encode_event,
)
from support import commit_group_at_end, eventually, matching, tail

pytestmark = [pytest.mark.kafka]


@asynccontextmanager
async def evaluator(bootstrap: str, prefix: str) -> AsyncIterator[FastAPI]:
    """The evaluator app (offline scorer) in this process, its follower caught up."""
    settings = EvaluatorSettings(
        kafka_bootstrap_servers=bootstrap, consumer_group_prefix=prefix, openai_api_key=None
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await eventually(app.state.reports.ready, timeout_s=60)
        yield app


def answer(interview_id: uuid.UUID, skill: str) -> AnswerSubmitted:
    question_id = uuid.uuid4()
    return AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=interview_id,
        question_id=question_id,
        text="It spreads incoming requests across several servers.",
        question=QuestionSnapshot(
            question_id=question_id,
            text="What does a load balancer do?",
            reference_answer="It spreads requests across servers so none is overloaded.",
            skills=(skill,),
        ),
    )


def applied(event: AnswerSubmitted) -> OutcomeRecorded:
    return OutcomeRecorded(
        subject_event_id=event.event_id,
        subject_type=event.type,
        subject_key=event.key,
        outcome="applied",
    )


def completed(interview_id: uuid.UUID) -> OutcomeRecorded:
    now = datetime.now(UTC)
    return OutcomeRecorded(
        subject_event_id=uuid.uuid4(),
        subject_type="interview.status_changed",
        subject_key=str(interview_id),
        outcome="applied",
        interview=InterviewState(
            interview_id=interview_id,
            candidate_id=uuid.uuid4(),
            title="t",
            question_ids=(),
            status=InterviewStatus.COMPLETED,
            created_at=now,
            updated_at=now,
            completed_at=now,
        ),
    )


async def publish(broker: KafkaBroker, *events: EventEnvelope) -> None:
    for event in events:
        await broker.publish(encode_event(event), topic=event.topic.name, key=event.key.encode())


def of(interview_id: uuid.UUID, kind: str) -> Any:
    return lambda v: v.get("type") == kind and v.get("interview_id") == str(interview_id)


async def reports_on_log(bootstrap: str, interview_id: uuid.UUID) -> list[Any]:
    """Every `interview.evaluated` of the interview on the whole evaluations topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topics.EVALUATIONS.name, p) for p in range(6)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp, offset in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, offset)
        found: list[Any] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [
                    v
                    for r in records
                    if of(interview_id, "interview.evaluated")(v := json.loads(r.value or b"{}"))
                ]
        return found
    finally:
        await consumer.stop()


@pytest.fixture
async def prefix(kafka_bootstrap: str) -> str:
    name = f"test-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(kafka_bootstrap, f"{name}-evaluator", topics.ANSWERS)
    return name


@pytest.mark.parametrize("completion_first", [True, False])
async def test_the_report_follows_the_last_of_completion_and_scores(
    kafka_bootstrap: str, prefix: str, completion_first: bool
) -> None:
    interview_id = uuid.uuid4()
    first, last = answer(interview_id, "sql"), answer(interview_id, "go")
    async with (
        evaluator(kafka_bootstrap, prefix),
        KafkaBroker(kafka_bootstrap) as broker,
        tail(kafka_bootstrap, topics.EVALUATIONS) as evaluations,
    ):
        await publish(broker, first, applied(first))
        await matching(evaluations, of(interview_id, "answer.evaluated"))
        if completion_first:
            # The store applied the last answer and the completion before it was scored.
            await publish(broker, applied(last), completed(interview_id), last)
        else:
            await publish(broker, last, applied(last))
            await matching(evaluations, of(interview_id, "answer.evaluated"))
            await publish(broker, completed(interview_id))
        [report] = await matching(evaluations, of(interview_id, "interview.evaluated"))

    assert {s["skill"] for s in report["skills"]} == {"sql", "go"}
    assert len(report["evaluation_ids"]) == 2


async def test_a_restart_reports_what_was_missed_and_nothing_twice(
    kafka_bootstrap: str, prefix: str
) -> None:
    reported, missed = uuid.uuid4(), uuid.uuid4()
    one, two = answer(reported, "sql"), answer(missed, "go")
    async with KafkaBroker(kafka_bootstrap) as broker:
        async with (
            evaluator(kafka_bootstrap, prefix),
            tail(kafka_bootstrap, topics.EVALUATIONS) as evaluations,
        ):
            await publish(broker, one, applied(one), two, applied(two), completed(reported))
            # One wait for both: a second `matching` would not see what the first read past.
            both = (of(reported, "interview.evaluated"), of(missed, "answer.evaluated"))
            await matching(evaluations, lambda v: any(m(v) for m in both), count=2)
        # No evaluator runs when `missed` completes: its report must not be lost.
        await publish(broker, completed(missed))

        async with (
            tail(kafka_bootstrap, topics.EVALUATIONS) as evaluations,
            evaluator(kafka_bootstrap, prefix),
        ):
            [late] = await matching(evaluations, of(missed, "interview.evaluated"))
            await asyncio.sleep(2.5)  # two sweeps of the follower: a wrong re-report would be out

    assert [s["skill"] for s in late["skills"]] == ["go"]
    assert len(await reports_on_log(kafka_bootstrap, reported)) == 1
    assert len(await reports_on_log(kafka_bootstrap, missed)) == 1
