"""Read models and query types: the contract of the store's read API.

The store serves these over HTTP and the gateway, chat and evaluator read them, so they live
in shared like the events do. Timestamps come from the events, never from a wall clock, so a
store rebuilt from the Kafka log is identical to the original.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from interview_shared.domain import (
    DEFAULT_ORG,
    ChatRole,
    Difficulty,
    InterviewStatus,
    QuestionType,
    Rubric,
)
from interview_shared.events import CriterionResult, EvaluationUsage, Lineage, SkillScore
from interview_shared.reviews import HumanReview, ReviewReason


class Record(BaseModel):
    """Base of every read model: frozen, serialisable as the gateway's JSON."""

    model_config = ConfigDict(frozen=True)


class Candidate(Record):
    id: uuid.UUID
    name: str
    email: str
    cv_path: str | None = None
    created_at: datetime
    updated_at: datetime
    org_id: str = DEFAULT_ORG


class CvAnalysis(Record):
    id: uuid.UUID
    candidate_id: uuid.UUID
    skills: dict[str, Any]
    summary: str
    created_at: datetime


class Question(Record):
    id: uuid.UUID
    text: str
    type: QuestionType
    difficulty: Difficulty
    skills: tuple[str, ...]
    tags: tuple[str, ...]
    reference_answer: str
    key_points: tuple[str, ...]
    rubric: Rubric
    created_at: datetime
    updated_at: datetime
    similarity: float | None = None
    """Cosine similarity to the `similar_to` text of a search (-1..1); None outside a search."""
    org_id: str = DEFAULT_ORG


class Interview(Record):
    id: uuid.UUID
    candidate_id: uuid.UUID
    title: str
    question_ids: tuple[uuid.UUID, ...]
    status: InterviewStatus
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    org_id: str = DEFAULT_ORG


class Evaluation(Record):
    id: uuid.UUID
    answer_id: uuid.UUID
    interview_id: uuid.UUID
    question_id: uuid.UUID
    outcome: Literal["SCORED", "UNSCORABLE"]
    score: float | None
    criteria: tuple[CriterionResult, ...] = ()
    feedback: str = ""
    unscorable_reason: str | None = None
    explanation: dict[str, Any] = Field(default_factory=dict)
    flags: tuple[str, ...] = ()
    lineage: Lineage
    usage: EvaluationUsage = EvaluationUsage()
    created_at: datetime
    confidence: float | None = None
    """How far the score can be trusted (0-1), when the scorer could tell."""
    review: HumanReview | None = None
    """Set on a human grade (scorer `human`): who gave it and what it reviewed."""
    review_reasons: tuple[str, ...] = ()
    """Why a person should grade this verdict (`reviews.REVIEW_REASONS`); empty: no need."""


class Answer(Record):
    id: uuid.UUID
    interview_id: uuid.UUID
    question_id: uuid.UUID
    text: str
    submitted_at: datetime
    created_at: datetime
    audio_uri: str | None = None
    """Where the recording of a spoken answer is kept (its text is the transcript)."""
    evaluation: Evaluation | None = None
    """The current evaluation: the newest human grade, else the newest for the question's
    active rubric version, else the newest."""


class InterviewReport(Record):
    interview_id: uuid.UUID
    overall_score: float | None
    skills: tuple[SkillScore, ...] = ()
    strengths: tuple[str, ...] = ()
    weaknesses: tuple[str, ...] = ()
    rubric_versions: tuple[str, ...] = ()
    created_at: datetime


class ChatSession(Record):
    id: uuid.UUID
    interview_id: uuid.UUID | None
    created_at: datetime
    org_id: str = DEFAULT_ORG


class ChatMessage(Record):
    id: uuid.UUID
    session_id: uuid.UUID
    role: ChatRole
    content: str
    sequence: int
    created_at: datetime


class Replay(Record):
    """A re-scoring run and how far it has got (what GET /replays/{id} answers)."""

    id: uuid.UUID
    status: Literal["running", "completed", "capped", "failed"]
    scanned: int
    evaluated: int
    skipped: int
    cost_usd: float
    org_id: str = DEFAULT_ORG
    """The organisation whose answers it re-scores (its admins alone may read it)."""


class InterviewLogEntry(Record):
    """One row of the interview log: a question, its latest answer and current score."""

    position: int
    question_id: uuid.UUID
    question: str
    answer_id: uuid.UUID | None = None
    answer: str | None = None
    score: float | None = None


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class ApplyResult(Record):
    """What happened to one event; rejected events carry a stable reason code."""

    event_id: uuid.UUID
    outcome: Outcome
    reason: str | None = None


T = TypeVar("T")


class Page(Record, Generic[T]):
    """One page of a listing; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None = None


class ListQuery(Record):
    """Paging and ordering common to every listing. `cursor` and `offset` are exclusive."""

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None
    offset: int = Field(default=0, ge=0)
    sort: str = "-created_at"
    org_id: str | None = None
    """Only rows of this organisation (the gateway always sets it from the caller's token)."""


class InterviewFilter(Record):
    status: InterviewStatus | None = None
    candidate_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class QuestionFilter(Record):
    skills: tuple[str, ...] = ()
    """Match any of these skills."""
    tags: tuple[str, ...] = ()
    """Match any of these tags."""
    difficulty: Difficulty | None = None
    type: QuestionType | None = None
    similar_to: str | None = Field(default=None, min_length=1, max_length=2000)
    """Rank by semantic similarity to this text (with `similarity` in each item)."""


class EvaluationFilter(Record):
    answer_id: uuid.UUID | None = None
    interview_id: uuid.UUID | None = None
    min_score: float | None = Field(default=None, ge=0, le=100)
    max_score: float | None = Field(default=None, ge=0, le=100)


class ReviewFilter(Record):
    """The review queue's filter: one reason (any when None)."""

    reason: ReviewReason | None = None


class AnswerFilter(Record):
    interview_id: uuid.UUID | None = None
    question_id: uuid.UUID | None = None


SORT_FIELDS: dict[str, frozenset[str]] = {
    "interviews": frozenset({"created_at", "updated_at", "title"}),
    "candidates": frozenset({"created_at", "updated_at", "name"}),
    "questions": frozenset({"created_at", "updated_at"}),
    "answers": frozenset({"created_at"}),
    "evaluations": frozenset({"created_at", "score"}),
    "reviews": frozenset({"created_at"}),
}


class StoreUnavailableError(Exception):
    """The backend cannot be reached; the caller should retry later."""


class InvalidQueryError(ValueError):
    """A listing query names an unknown sort field or carries a malformed cursor."""
