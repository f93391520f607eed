"""Re-scoring last month's answers with a new rubric, straight from the Kafka log."""

from __future__ import annotations

import uuid

import pytest
from faststream.kafka import KafkaBroker
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.replay import ReplayFilter, replay, submitted_answers
from interview_shared import topics
from interview_shared.domain import Criterion, Rubric
from interview_shared.events import AnswerSubmitted, QuestionSnapshot, encode_event
from interview_shared.messaging import EventPublisher
from support import matching, tail

pytestmark = [pytest.mark.kafka]
NEW_RUBRIC = Rubric(version="2026-11", criteria=(Criterion(name="completeness", weight=1),))


def answer(interview_id: uuid.UUID, text: str) -> AnswerSubmitted:
    question_id = uuid.uuid4()
    return AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=interview_id,
        question_id=question_id,
        text=text,
        question=QuestionSnapshot(
            question_id=question_id,
            text="What does a load balancer do?",
            reference_answer="It spreads requests across servers so none is overloaded.",
            key_points=("spreads requests", "across servers"),
        ),
    )


async def test_rescore_selected_interview_with_new_rubric(kafka_bootstrap: str) -> None:
    interview_id = uuid.uuid4()
    mine = [
        answer(interview_id, "It spreads incoming requests across several servers."),
        answer(interview_id, "It balances load."),
    ]
    other = answer(uuid.uuid4(), "Something else entirely, not selected.")
    async with KafkaBroker(kafka_bootstrap) as broker:
        for event in (*mine, other):
            await broker.publish(
                encode_event(event), topic=event.topic.name, key=event.key.encode()
            )

        dry = await replay(
            submitted_answers(kafka_bootstrap),
            scorer=OfflineScorer(),
            rubric=NEW_RUBRIC,
            selection=ReplayFilter(interview_ids=frozenset({interview_id})),
            publisher=None,
        )
        assert dry.rescored == 2
        assert dry.scanned >= 3

        async with tail(kafka_bootstrap, topics.EVALUATIONS) as evaluations:
            summary = await replay(
                submitted_answers(kafka_bootstrap),
                scorer=OfflineScorer(),
                rubric=NEW_RUBRIC,
                selection=ReplayFilter(interview_ids=frozenset({interview_id})),
                publisher=EventPublisher(broker),
            )
            verdicts = await matching(
                evaluations, lambda v: v.get("interview_id") == str(interview_id), count=len(mine)
            )
    assert summary.rescored == 2
    assert {v["answer_id"] for v in verdicts} == {str(e.answer_id) for e in mine}
    for verdict in verdicts:
        assert verdict["lineage"]["rubric_version"] == "2026-11"
        assert verdict["lineage"]["parameters"]["replay_id"] == summary.replay_id
        assert [c["name"] for c in verdict["criteria"]] == ["completeness"]
    scores = {v["answer_id"]: v["score"] for v in verdicts}
    assert scores[str(mine[0].answer_id)] > scores[str(mine[1].answer_id)]
