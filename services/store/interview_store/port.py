"""The Store port: one contract, implemented in memory and on PostgreSQL.

The write side is `apply`: a batch of domain events, applied in one transaction, idempotent on
event id, each with a recorded outcome (applied, duplicate or rejected with a reason). Business
rules that need current state (unique e-mail, legal status transitions) are enforced here, so a
racing pair of writers cannot both win. `apply` also keeps, in the same transaction, the Kafka
offsets the batch was read up to (`Offsets`), as Kafka Connect sinks do: the data and the
position in the log cannot disagree, so a store on an empty database rebuilds from offset 0 and
a restarted one resumes where its data ends. The read side serves the gateway's queries; its models
live in `interview_shared.read_models` because other services read them over HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

from interview_shared.events import Event
from interview_shared.read_client import ReadQueries
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
    Replay,
    ReviewFilter,
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
    "KeptOffset",
    "ListQuery",
    "Offsets",
    "Outcome",
    "Page",
    "Question",
    "QuestionFilter",
    "Record",
    "Replay",
    "ReviewFilter",
    "Store",
    "StoreUnavailableError",
]


class KeptOffset(NamedTuple):
    """Where the data of one partition ends, kept in the data's own transaction."""

    next_offset: int
    """Every record below this offset is applied."""
    announced: int
    """Every record below this offset had its outcome announced (in this life or before)."""


Offsets = Mapping[tuple[str, int], KeptOffset]
"""(topic, partition) -> its kept offset."""


class Store(ReadQueries, Protocol):
    """The product's memory: applies events and answers the read side's queries."""

    backend: str
    """"memory" or "postgres"."""

    async def apply(
        self, events: Sequence[Event], *, offsets: Offsets | None = None
    ) -> list[ApplyResult]:
        """Apply a batch atomically, skipping events already applied; one result per event.

        `offsets` are kept in the same transaction (never moved backwards); an empty batch with
        offsets only records them (a batch whose records were all dead-lettered)."""
        ...

    async def consumed_offsets(self) -> dict[tuple[str, int], KeptOffset]:
        """The offsets kept by `apply`: where a consumer resumes (empty: from the start)."""
        ...

    async def event_outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        """The recorded outcome of an event, or None if it has not been applied yet."""
        ...

    async def get_interviews(self, interview_ids: Sequence[uuid.UUID]) -> list[Interview]:
        """The interviews among `interview_ids` that exist (one round trip, for outcomes)."""
        ...

    async def healthy(self) -> bool:
        """Whether the read side can answer queries now."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
