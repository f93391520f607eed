"""Event contracts: round trips, the tolerant reader, upcasting, keys, and the status rule."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from itertools import product
from typing import Any, get_args

import pytest
from interview_shared import topics
from interview_shared.domain import ChatRole, InterviewStatus, Rubric, can_transition
from interview_shared.events import (
    UPCASTERS,
    V1_DEFAULT_RUBRIC,
    AnswerAudioSubmitted,
    AnswerEvaluated,
    AnswerSubmitted,
    CandidateErased,
    CandidateRegistered,
    ChatMessagePosted,
    ChatReplyCancelled,
    ChatReplyCompleted,
    ChatReplyDelta,
    ChatSessionClosed,
    ChatSessionStarted,
    CriterionResult,
    CvAnalyzed,
    Event,
    EventEnvelope,
    InterviewCreated,
    InterviewEvaluated,
    InterviewState,
    InterviewStatusChanged,
    InterviewTurn,
    Lineage,
    OutcomeRecorded,
    QuestionCreated,
    QuestionRubricChanged,
    QuestionSnapshot,
    ReplayFinished,
    ReplayProgressed,
    ReplayRequested,
    ReplayScope,
    SkillScore,
    decode_event,
    encode_event,
)
from pydantic import ValidationError

CANDIDATE, QUESTION, INTERVIEW, ANSWER, SESSION, MESSAGE, REPLAY = (uuid.uuid4() for _ in range(7))
LINEAGE = Lineage(
    scorer="offline", scorer_version="1", rubric_version="v1", evaluator_version="0.1.0"
)
SAMPLES: list[EventEnvelope] = [
    CandidateRegistered(candidate_id=CANDIDATE, name="Ada", email="ada@example.com", cv_path="cv"),
    CvAnalyzed(candidate_id=CANDIDATE, skills={"python": 0.9}, summary="Strong."),
    CandidateErased(candidate_id=CANDIDATE),
    QuestionCreated(
        question_id=QUESTION,
        text="Q?",
        skills=("sql",),
        tags=("db",),
        key_points=("a", "b"),
        rubric=Rubric(version="r1"),
    ),
    QuestionRubricChanged(question_id=QUESTION, rubric=Rubric(version="v2")),
    InterviewCreated(
        interview_id=INTERVIEW, candidate_id=CANDIDATE, title="T", question_ids=(QUESTION,)
    ),
    InterviewStatusChanged(interview_id=INTERVIEW, status=InterviewStatus.READY),
    AnswerSubmitted(
        answer_id=ANSWER,
        interview_id=INTERVIEW,
        question_id=QUESTION,
        text="An answer.",
        question=QuestionSnapshot(question_id=QUESTION, text="Q?", rubric=Rubric(version="r2")),
        correlation_id="corr",
    ),
    AnswerEvaluated(
        answer_id=ANSWER,
        interview_id=INTERVIEW,
        question_id=QUESTION,
        score=72.5,
        criteria=(CriterionResult(name="correctness", score=70, weight=0.6, evidence=("x",)),),
        explanation={"matched": ["a"]},
        flags=("injection",),
        lineage=LINEAGE,
    ),
    InterviewEvaluated(
        interview_id=INTERVIEW,
        overall_score=72.5,
        skills=(SkillScore(skill="sql", score=72.5, answers=1),),
        strengths=("sql",),
        evaluation_ids=(uuid.uuid4(),),
    ),
    ChatSessionStarted(chat_session_id=SESSION, interview_id=INTERVIEW),
    ChatMessagePosted(chat_session_id=SESSION, message_id=MESSAGE, content="Hi"),
    ChatReplyDelta(
        chat_session_id=SESSION, reply_id=uuid.uuid4(), in_reply_to=MESSAGE, index=0, delta="He"
    ),
    ChatReplyCompleted(
        chat_session_id=SESSION,
        reply_id=uuid.uuid4(),
        in_reply_to=MESSAGE,
        content="He",
        deltas=1,
        turn=InterviewTurn(step=1, phase="asking", pending_message_ids=(MESSAGE,)),
    ),
    ChatReplyCancelled(chat_session_id=SESSION, message_id=MESSAGE),
    AnswerAudioSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=INTERVIEW,
        question_id=QUESTION,
        audio_uri="file:///blobs/a.wav",
        content_type="audio/wav",
        filename="a.wav",
        question=QuestionSnapshot(question_id=QUESTION, text="Why?"),
    ),
    ChatSessionClosed(chat_session_id=SESSION),
    ReplayRequested(
        replay_id=REPLAY,
        scope=ReplayScope(interview_ids=(INTERVIEW,), since=datetime(2026, 1, 1, tzinfo=UTC)),
        max_evaluations=10,
        max_cost_usd=1.5,
    ),
    ReplayProgressed(replay_id=REPLAY, scanned=5, evaluated=3, skipped=2, cost_usd=0.01),
    ReplayFinished(replay_id=REPLAY, status="capped", scanned=9, evaluated=10),
    OutcomeRecorded(
        subject_event_id=uuid.uuid4(),
        subject_type="interview.status_changed",
        subject_key=str(INTERVIEW),
        outcome="applied",
        interview=InterviewState(
            interview_id=INTERVIEW,
            candidate_id=CANDIDATE,
            title="Backend",
            question_ids=(QUESTION,),
            status=InterviewStatus.READY,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            updated_at=datetime(2026, 1, 2, tzinfo=UTC),
        ),
    ),
]
EVENT_TYPES: tuple[type[EventEnvelope], ...] = get_args(get_args(Event)[0])

# The aggregate each event type belongs to: what orders it on its partition.
EXPECTED_KEY: dict[type[EventEnvelope], uuid.UUID | str] = {
    # Registrations of one address share a partition (the digest of its casefolded form).
    CandidateRegistered: hashlib.sha256(b"ada@example.com").hexdigest(),
    CvAnalyzed: CANDIDATE,
    CandidateErased: CANDIDATE,
    QuestionCreated: QUESTION,
    QuestionRubricChanged: QUESTION,
    InterviewCreated: INTERVIEW,
    InterviewStatusChanged: INTERVIEW,
    AnswerSubmitted: INTERVIEW,
    AnswerEvaluated: INTERVIEW,
    InterviewEvaluated: INTERVIEW,
    ChatSessionStarted: SESSION,
    ChatMessagePosted: SESSION,
    ChatReplyDelta: SESSION,
    ChatReplyCompleted: SESSION,
    ChatReplyCancelled: SESSION,
    AnswerAudioSubmitted: INTERVIEW,
    ChatSessionClosed: SESSION,
    ReplayRequested: REPLAY,
    ReplayProgressed: REPLAY,
    ReplayFinished: REPLAY,
    OutcomeRecorded: INTERVIEW,  # the subject event's key, so outcomes keep its order
}


def ids(sample: EventEnvelope) -> str:
    return type(sample).__name__


def test_the_samples_cover_every_event_type() -> None:
    assert {type(s) for s in SAMPLES} == set(EVENT_TYPES) == set(EXPECTED_KEY)


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_every_event_round_trips(sample: EventEnvelope) -> None:
    decoded = decode_event(encode_event(sample))

    assert decoded == sample
    assert type(decoded) is type(sample)


def test_registrations_of_one_address_share_a_key_that_hides_it() -> None:
    first = CandidateRegistered(candidate_id=uuid.uuid4(), name="A", email="Ada@Example.com")
    second = CandidateRegistered(candidate_id=uuid.uuid4(), name="B", email="ada@EXAMPLE.COM")
    assert first.key == second.key
    assert "ada" not in first.key.lower()


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_every_event_is_keyed_by_its_aggregate(sample: EventEnvelope) -> None:
    assert sample.key == str(EXPECTED_KEY[type(sample)])
    assert sample.topic.key.value in type(sample).model_fields
    assert sample.topic in (*topics.DOMAIN_TOPICS, topics.OUTCOMES)


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_unknown_fields_are_ignored(sample: EventEnvelope) -> None:
    payload = json.loads(encode_event(sample))
    payload["added_in_a_later_release"] = {"nested": [1, 2]}

    assert decode_event(json.dumps(payload)) == sample


def test_unknown_fields_inside_nested_models_are_ignored() -> None:
    answered = next(s for s in SAMPLES if isinstance(s, AnswerSubmitted))
    payload = json.loads(encode_event(answered))
    payload["question"]["difficulty_hint"] = "hard"
    payload["question"]["rubric"]["criteria"][0]["new_knob"] = 3

    assert decode_event(json.dumps(payload)) == answered


def test_missing_optional_fields_get_defaults() -> None:
    decoded = decode_event(
        json.dumps({"type": "chat.message.posted", "chat_session_id": str(SESSION),
                    "message_id": str(MESSAGE), "content": "Hi"})
    )  # fmt: skip

    assert isinstance(decoded, ChatMessagePosted)
    assert decoded.role is ChatRole.USER
    assert decoded.version == 1
    assert decoded.correlation_id is None


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b'{"type": "question.deleted"}', b'{"question_id": "x"}', b"\x00\x01"],
)
def test_undecodable_payloads_raise_validation_error(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        decode_event(raw)


def test_registered_upcasters_bring_an_old_version_up_to_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def v0_to_v1(payload: dict[str, Any]) -> dict[str, Any]:
        # version 0 called the question text "prompt"
        renamed = {k: v for k, v in payload.items() if k != "prompt"}
        return {**renamed, "text": payload["prompt"], "version": 1}

    def v_minus1_to_v0(payload: dict[str, Any]) -> dict[str, Any]:
        # an even older version had no skills list, only one "skill"
        rest = {k: v for k, v in payload.items() if k != "skill"}
        return {**rest, "skills": [payload["skill"]], "version": 0}

    monkeypatch.setitem(UPCASTERS, ("question.created", 0), v0_to_v1)
    monkeypatch.setitem(UPCASTERS, ("question.created", -1), v_minus1_to_v0)
    old = {"type": "question.created", "version": -1, "question_id": str(QUESTION),
           "prompt": "What is a mutex?", "skill": "concurrency"}  # fmt: skip

    decoded = decode_event(json.dumps(old))

    assert isinstance(decoded, QuestionCreated)
    assert decoded.text == "What is a mutex?"
    assert decoded.skills == ("concurrency",)
    assert decoded.version == 2  # and on through the real v1 -> v2 upcaster
    assert decoded.rubric == Rubric()
    # current-version events are untouched while upcasters are registered
    assert [decode_event(encode_event(s)) for s in SAMPLES] == SAMPLES


def test_a_version_1_question_without_a_rubric_reads_with_the_v1_default() -> None:
    v1 = {"type": "question.created", "version": 1, "question_id": str(QUESTION), "text": "Q?"}

    decoded = decode_event(json.dumps(v1))

    assert isinstance(decoded, QuestionCreated)
    assert decoded.version == 2
    assert decoded.rubric == Rubric.model_validate(V1_DEFAULT_RUBRIC) == Rubric()


def test_a_version_1_question_with_a_rubric_keeps_it() -> None:
    rubric = {"version": "r5", "criteria": [{"name": "depth", "weight": 1.0}]}
    v1 = {"type": "question.created", "version": 1, "question_id": str(QUESTION), "text": "Q?",
          "rubric": rubric}  # fmt: skip

    decoded = decode_event(json.dumps(v1).encode())

    assert isinstance(decoded, QuestionCreated)
    assert (decoded.version, decoded.rubric.version) == (2, "r5")


def test_a_version_2_question_must_state_its_rubric() -> None:
    v2 = {"type": "question.created", "version": 2, "question_id": str(QUESTION), "text": "Q?"}

    with pytest.raises(ValidationError):
        decode_event(json.dumps(v2))


def test_without_an_upcaster_an_old_incompatible_payload_is_refused() -> None:
    old = {"type": "question.created", "version": 0, "question_id": str(QUESTION), "prompt": "Q"}

    with pytest.raises(ValidationError):
        decode_event(json.dumps(old))


# ---- the interview status rule -----------------------------------------------------------------

S = InterviewStatus
ALLOWED = {
    (S.PREPARING, S.READY),
    (S.READY, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.PREPARING, S.CANCELLED),
    (S.READY, S.CANCELLED),
    (S.IN_PROGRESS, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), list(product(S, S)))
def test_can_transition_truth_table(current: InterviewStatus, target: InterviewStatus) -> None:
    assert can_transition(current, target) is ((current, target) in ALLOWED)
