"""What each creating event makes: the read model's fields, defined once for every reader.

The store builds its rows from these, and the gateway answers a write with the same values
straight from the event it published, so a `201` body equals what a read right after returns.
Timestamps come from the event, never from a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    CandidateRegistered,
    ChatSessionStarted,
    InterviewCreated,
    InterviewState,
    QuestionCreated,
    QuestionSnapshot,
)
from interview_shared.read_models import Interview, Question
from interview_shared.reviews import review_reasons


def utc(moment: datetime) -> datetime:
    """Normalise a timestamp to aware UTC (naive values are taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def candidate_fields(event: CandidateRegistered) -> dict[str, Any]:
    """The `Candidate` a registration creates."""
    at = utc(event.occurred_at)
    return {
        "id": event.candidate_id,
        "name": event.name,
        "email": event.email,
        "cv_path": event.cv_path,
        "created_at": at,
        "updated_at": at,
        "org_id": event.org_id,
    }


def question_fields(event: QuestionCreated) -> dict[str, Any]:
    """The `Question` a creation adds to the bank."""
    at = utc(event.occurred_at)
    return {
        "id": event.question_id,
        "text": event.text,
        "type": event.question_type,
        "difficulty": event.difficulty,
        "skills": tuple(event.skills),
        "tags": tuple(event.tags),
        "reference_answer": event.reference_answer,
        "key_points": tuple(event.key_points),
        "rubric": event.rubric,
        "created_at": at,
        "updated_at": at,
        "similarity": None,  # only a search fills it in
        "org_id": event.org_id,
    }


def interview_fields(event: InterviewCreated) -> dict[str, Any]:
    """The `Interview` a scheduling creates: PREPARING, not started."""
    at = utc(event.occurred_at)
    return {
        "id": event.interview_id,
        "candidate_id": event.candidate_id,
        "title": event.title,
        "question_ids": tuple(event.question_ids),
        "status": InterviewStatus.PREPARING,
        "created_at": at,
        "updated_at": at,
        "started_at": None,
        "completed_at": None,
        "org_id": event.org_id,
    }


def answer_fields(event: AnswerSubmitted) -> dict[str, Any]:
    """The `Answer` a submission records, not yet evaluated."""
    at = utc(event.occurred_at)
    return {
        "id": event.answer_id,
        "interview_id": event.interview_id,
        "question_id": event.question_id,
        "text": event.text,
        "submitted_at": at,
        "created_at": at,
        "audio_uri": event.audio_uri,
        "evaluation": None,
    }


def evaluation_fields(event: AnswerEvaluated) -> dict[str, Any]:
    """The `Evaluation` a verdict (or a human grade) records, with its review-queue reasons."""
    return {
        "id": event.evaluation_id,
        "answer_id": event.answer_id,
        "interview_id": event.interview_id,
        "question_id": event.question_id,
        "outcome": event.outcome,
        "score": event.score,
        "criteria": tuple(event.criteria),
        "feedback": event.feedback,
        "unscorable_reason": event.unscorable_reason,
        "explanation": dict(event.explanation),
        "flags": tuple(event.flags),
        "lineage": event.lineage,
        "usage": event.usage,
        "created_at": utc(event.occurred_at),
        "confidence": event.confidence,
        "review": event.review,
        "review_reasons": review_reasons(
            scorer=event.lineage.scorer, outcome=event.outcome, flags=event.flags
        ),
    }


def chat_session_fields(event: ChatSessionStarted) -> dict[str, Any]:
    """The `ChatSession` a start opens."""
    return {
        "id": event.chat_session_id,
        "interview_id": event.interview_id,
        "created_at": utc(event.occurred_at),
        "org_id": event.org_id,
    }


def interview_state(interview: Interview) -> InterviewState:
    """The interview as an outcome event carries it."""
    fields = interview.model_dump(exclude={"id"})
    return InterviewState(interview_id=interview.id, **fields)


def interview_from_state(state: InterviewState) -> Interview:
    """The read model of an interview an outcome event carried."""
    return Interview(id=state.interview_id, **state.model_dump(exclude={"interview_id"}))


def snapshot_of(question: Question) -> QuestionSnapshot:
    """The part of a question an answer carries, so replays judge against the same text."""
    return QuestionSnapshot(
        question_id=question.id,
        text=question.text,
        reference_answer=question.reference_answer,
        key_points=question.key_points,
        skills=question.skills,
        rubric=question.rubric,
    )
