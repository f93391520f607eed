"""The Store port: one contract, implemented in memory and on PostgreSQL.

The write side is `apply`: a batch of domain events, applied in one transaction, idempotent on
event id, each with a recorded outcome (applied, duplicate or rejected with a reason). Business
rules that need current state (unique e-mail, legal status transitions) are enforced here, so a
racing pair of writers cannot both win. The read side serves the gateway's queries; its models
live in `interview_shared.read_models` because other services read them over HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from interview_shared.events import Event
from interview_shared.read_models import (
    SORT_FIELDS,
    Answer,
    AnswerFilter,
    ApplyResult,
    Candidate,
    ChatMessage,
    ChatSession,
    CvAnalysis,
    Evaluation,
    EvaluationFilter,
    Interview,
    InterviewFilter,
    InterviewLogEntry,
    InterviewReport,
    InvalidQueryError,
    ListQuery,
    Outcome,
    Page,
    Question,
    QuestionFilter,
    Record,
    StoreUnavailableError,
)

__all__ = [
    "SORT_FIELDS",
    "Answer",
    "AnswerFilter",
    "ApplyResult",
    "Candidate",
    "ChatMessage",
    "ChatSession",
    "CvAnalysis",
    "Evaluation",
    "EvaluationFilter",
    "Interview",
    "InterviewFilter",
    "InterviewLogEntry",
    "InterviewReport",
    "InvalidQueryError",
    "ListQuery",
    "Outcome",
    "Page",
    "Question",
    "QuestionFilter",
    "Record",
    "Store",
    "StoreUnavailableError",
]


class Store(Protocol):
    """The product's memory: applies events and answers the read side's queries."""

    backend: str
    """"memory" or "postgres"."""

    async def apply(self, events: Sequence[Event]) -> list[ApplyResult]:
        """Apply a batch atomically, skipping events already applied; one result per event."""
        ...

    async def event_outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        """The recorded outcome of an event, or None if it has not been applied yet."""
        ...

    async def healthy(self) -> bool:
        """Whether the read side can answer queries now."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...

    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None: ...
    async def get_candidate_by_email(self, email: str) -> Candidate | None: ...
    async def list_candidates(self, query: ListQuery) -> Page[Candidate]: ...
    async def list_cv_analyses(self, candidate_id: uuid.UUID) -> list[CvAnalysis]: ...

    async def get_question(self, question_id: uuid.UUID) -> Question | None: ...
    async def list_questions(self, query: ListQuery, filters: QuestionFilter) -> Page[Question]: ...

    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None: ...
    async def list_interviews(
        self, query: ListQuery, filters: InterviewFilter
    ) -> Page[Interview]: ...
    async def interview_log(self, interview_id: uuid.UUID) -> list[InterviewLogEntry]: ...
    async def get_interview_report(self, interview_id: uuid.UUID) -> InterviewReport | None: ...

    async def get_answer(self, answer_id: uuid.UUID) -> Answer | None: ...
    async def list_answers(self, query: ListQuery, filters: AnswerFilter) -> Page[Answer]: ...

    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]: ...

    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None: ...
    async def list_chat_messages(self, session_id: uuid.UUID) -> list[ChatMessage]: ...
