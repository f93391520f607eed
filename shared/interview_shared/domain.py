"""Domain vocabulary shared by every service: statuses, the transition rule, rubrics.

The interview status rule lives here and only here, so the gateway's pre-check and both store
backends cannot disagree about which transitions are legal.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_ORG = "default"
"""The organisation of everything recorded before organisations existed: events written before
`org_id` was added decode with it, so an old log replays into one organisation."""


class InterviewStatus(StrEnum):
    """Lifecycle of an interview."""

    PREPARING = "PREPARING"
    READY = "READY"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


_FORWARD: dict[InterviewStatus, InterviewStatus] = {
    InterviewStatus.PREPARING: InterviewStatus.READY,
    InterviewStatus.READY: InterviewStatus.IN_PROGRESS,
    InterviewStatus.IN_PROGRESS: InterviewStatus.COMPLETED,
}
TERMINAL_STATUSES = frozenset({InterviewStatus.COMPLETED, InterviewStatus.CANCELLED})


def can_transition(current: InterviewStatus, target: InterviewStatus) -> bool:
    """Return whether an interview may move from `current` to `target`.

    Forward one step at a time, or CANCELLED from any state that is not terminal.
    """
    if target is InterviewStatus.CANCELLED:
        return current not in TERMINAL_STATUSES
    return _FORWARD.get(current) is target


class QuestionType(StrEnum):
    """What kind of answer a question expects."""

    TECHNICAL = "technical"
    BEHAVIORAL = "behavioral"
    SYSTEM_DESIGN = "system_design"
    CODING = "coding"
    GENERAL = "general"


class Difficulty(StrEnum):
    """How hard a question is."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Criterion(BaseModel):
    """One rubric criterion; weights are relative and need not sum to one."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    weight: float = Field(default=1.0, gt=0, le=100)


class Rubric(BaseModel):
    """A versioned rubric. Scores are only comparable within one rubric version."""

    model_config = ConfigDict(frozen=True)

    version: str = Field(default="v1", min_length=1, max_length=64)
    criteria: tuple[Criterion, ...] = Field(
        default=(
            Criterion(
                name="correctness", description="Agrees with the reference answer", weight=0.6
            ),
            Criterion(name="completeness", description="Covers the key points", weight=0.4),
        ),
        min_length=1,
        max_length=20,
    )


class ChatRole(StrEnum):
    """Who wrote a chat message."""

    USER = "user"
    ASSISTANT = "assistant"


def email_key(email: str) -> str:
    """The case-insensitive identity of an e-mail, computed in Python so every reader agrees.

    PostgreSQL's lower() depends on the database's ctype locale; Python's does not. casefold()
    rather than lower(), so that caseless matching holds beyond ASCII too (ß ~ SS).
    """
    return email.casefold()


def email_partition_key(email: str) -> str:
    """The Kafka key of a registration: a digest of the e-mail's identity, not the address.

    Registrations of one address then share a partition, so the store applies them in log
    order on every pass and the same one wins on a rebuild; the address stays out of the key.
    """
    return hashlib.sha256(email_key(email).encode()).hexdigest()
