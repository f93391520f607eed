"""The fast write path gives the same answers as the plain one.

`rules.trusted` must build the read model validation would, `rules.event_invalid_reason` must
agree with the full `invalid_reason` walk, and PostgreSQL's first, unchecked attempt at a batch
must give the outcomes a checked one gives (including the rejection reason of a candidate whose
id exists and whose e-mail is taken by an earlier event of the same batch).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from interview_shared import events as ev
from interview_shared.domain import InterviewStatus, Rubric
from interview_store.port import (
    ApplyResult,
    Candidate,
    ChatMessage,
    Interview,
    Outcome,
    Question,
    Store,
)
from interview_store.postgres import PostgresStore
from interview_store.rules import event_invalid_reason, invalid_reason, trusted
from pydantic import BaseModel

from . import factories as f

T = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (ApplyResult, {"event_id": uuid.uuid4(), "outcome": Outcome.REJECTED, "reason": "x"}),
        (Candidate, {"id": uuid.uuid4(), "name": "n", "email": "e", "cv_path": None,
                     "created_at": T, "updated_at": T, "org_id": "acme"}),
        (Interview, {"id": uuid.uuid4(), "candidate_id": uuid.uuid4(), "title": "t",
                     "question_ids": (uuid.uuid4(),), "status": InterviewStatus.READY,
                     "created_at": T, "updated_at": T, "started_at": None, "completed_at": T,
                     "org_id": "acme"}),
        (Question, {"id": uuid.uuid4(), "text": "q", "type": "coding", "difficulty": "easy",
                    "skills": ("a",), "tags": (), "reference_answer": "", "key_points": (),
                    "rubric": Rubric(), "created_at": T, "updated_at": T,
                    "similarity": None, "org_id": "acme"}),
        (ChatMessage, {"id": uuid.uuid4(), "session_id": uuid.uuid4(), "role": "user",
                       "content": "c", "sequence": 1, "created_at": T}),
    ],
)  # fmt: skip
def test_trusted_builds_what_validation_builds(
    model: type[BaseModel], values: dict[str, Any]
) -> None:
    validated = model.model_validate(values)
    built = trusted(model, dict(validated.__dict__))
    assert built == validated
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
    assert built.model_fields_set == validated.model_fields_set
    copied = built.model_copy(update={next(iter(values)): values[next(iter(values))]})
    assert copied == validated
    assert built.model_fields_set == set(model.model_fields)


def test_trusted_refuses_missing_fields() -> None:
    with pytest.raises(TypeError):
        trusted(ApplyResult, {"event_id": uuid.uuid4(), "outcome": Outcome.APPLIED})


bad_texts = st.text(alphabet="ab\x00\ud800é", max_size=3)
numbers = st.sampled_from([0.0, 1.5, math.nan, math.inf, -math.inf])
payloads = st.dictionaries(
    st.sampled_from(["k", "l\x00"]), numbers | bad_texts | st.lists(numbers, max_size=2), max_size=2
)
events = st.one_of(
    st.builds(ev.CandidateRegistered, candidate_id=st.uuids(), name=bad_texts, email=bad_texts,
              cv_path=st.none() | bad_texts, correlation_id=st.none() | bad_texts),
    st.builds(ev.CvAnalyzed, candidate_id=st.uuids(), skills=payloads, summary=bad_texts),
    st.builds(ev.QuestionCreated, question_id=st.uuids(), text=bad_texts,
              skills=st.lists(bad_texts, max_size=2).map(tuple),
              rubric=st.builds(Rubric, version=st.sampled_from(["v1", "v\x00"]))),
    st.builds(ev.InterviewCreated, interview_id=st.uuids(), candidate_id=st.uuids(),
              title=bad_texts, question_ids=st.lists(st.uuids(), max_size=2).map(tuple)),
    st.builds(ev.InterviewStatusChanged, interview_id=st.uuids(),
              status=st.sampled_from(list(InterviewStatus))),
    st.builds(ev.AnswerEvaluated, answer_id=st.uuids(), interview_id=st.uuids(),
              question_id=st.uuids(), explanation=payloads, feedback=bad_texts,
              lineage=st.builds(ev.Lineage, scorer=bad_texts, scorer_version=st.just("1"),
                                rubric_version=st.just("v1"), evaluator_version=st.just("1"),
                                parameters=payloads),
              usage=st.builds(ev.EvaluationUsage, latency_ms=numbers)),
    st.builds(ev.ChatMessagePosted, chat_session_id=st.uuids(), message_id=st.uuids(),
              content=bad_texts),
)  # fmt: skip


@given(events)
def test_event_check_agrees_with_the_full_walk(event: BaseModel) -> None:
    assert event_invalid_reason(event) == invalid_reason(event)


def _store_outcomes(results: list[ApplyResult]) -> list[tuple[Outcome, str | None]]:
    return [(r.outcome, r.reason) for r in results]


async def test_unproven_absence_is_checked(store: Store) -> None:
    """A candidate whose id exists, rejected in its batch for an e-mail taken by the batch."""
    existing = f.candidate()
    await store.apply([existing])
    first = f.candidate("same@example.com")
    clash = f.candidate("same@example.com", candidate_id=existing.candidate_id)
    assert _store_outcomes(await store.apply([first, clash])) == [
        (Outcome.APPLIED, None),
        (Outcome.REJECTED, "already_exists"),
    ]


@pytest.mark.postgres
async def test_redelivery_falls_back_to_lookups_and_recovers(
    postgres_store: PostgresStore,
) -> None:
    batch: list[ev.Event] = [f.candidate(), f.question(), f.interview()]
    first = _store_outcomes(await postgres_store.apply(batch))
    assert first == [(Outcome.APPLIED, None)] * 3
    again = _store_outcomes(await postgres_store.apply([*batch, f.candidate()]))
    assert again == [(Outcome.DUPLICATE, None)] * 3 + [(Outcome.APPLIED, None)]
    assert postgres_store._optimistic is False  # the redelivery made it look things up first
    fresh = _store_outcomes(await postgres_store.apply([f.candidate()]))
    assert fresh == [(Outcome.APPLIED, None)]
    assert postgres_store._optimistic is True  # a batch that found nothing turns it back on
