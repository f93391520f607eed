"""Request bodies of the public API. Validation here is what keeps bad input a 4xx."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from interview_shared.domain import Criterion, Difficulty, InterviewStatus, QuestionType, Rubric
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than lose the event later.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _bounded(max_length: int, *, min_length: int = 1) -> StringConstraints:
    """Trimmed, with a length range."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# What the validators below accept, stated in the OpenAPI document too, so that a client (or
# schemathesis) generating "valid" text generates what the gateway accepts: no NUL, and for a
# required text at least one character that is not whitespace (values are trimmed).
# Whitespace spelled out, as Python's str.strip() (which trims values) knows it: `\s` means
# something else to ECMA-262 (how clients read the schema) and to pydantic's Rust regex.
SPACE = r"\t\n\v\f\r\x1c-\x1f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SOME_TEXT = Field(json_schema_extra={"pattern": rf"^[^\x00]*[^{SPACE}\x00][^\x00]*$"})
ANY_TEXT = Field(json_schema_extra={"pattern": r"^[^\x00]*$"})
NoNul = AfterValidator(_no_nul)
Name = Annotated[str, _bounded(200), NoNul, SOME_TEXT]
Label = Annotated[str, _bounded(64), NoNul, SOME_TEXT]
Text = Annotated[str, NoNul, SOME_TEXT]
OptionalText = Annotated[str, NoNul, ANY_TEXT]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=320,
        pattern=rf"^[^@{SPACE}\x00]+@[^@{SPACE}\x00]+\.[^@{SPACE}\x00]+$",
    ),
    NoNul,
]


class Body(BaseModel):
    """Unknown fields are refused so typos surface as errors instead of being ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CandidateIn(Body):
    name: Name
    email: Email
    cv_path: Annotated[Text, _bounded(1000)] | None = None


class CvAnalysisIn(Body):
    """The result of analysing a candidate's CV (by a person or a tool)."""

    skills: dict[str, Any] = Field(default_factory=dict, max_length=200)
    summary: Annotated[OptionalText, _bounded(10_000, min_length=0)] = ""


class QuestionIn(Body):
    text: Annotated[Text, _bounded(5000)]
    type: QuestionType = QuestionType.GENERAL
    difficulty: Difficulty = Difficulty.MEDIUM
    skills: list[Label] = Field(default_factory=list, max_length=20)
    tags: list[Label] = Field(default_factory=list, max_length=20)
    reference_answer: Annotated[OptionalText, _bounded(10_000, min_length=0)] = ""
    key_points: list[Annotated[Text, _bounded(1000)]] = Field(default_factory=list, max_length=30)
    rubric: Rubric = Rubric()


class RubricIn(Body):
    """A question's new rubric: the shape of `Question.rubric`; without `version` the next one."""

    version: Annotated[str, _bounded(64), NoNul] | None = None
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=20)


class ReplayScopeIn(Body):
    """Which answers to re-score; omitted lists mean "any"."""

    since: datetime | None = None
    until: datetime | None = None
    interview_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    question_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    candidate_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class ReplayIn(Body):
    """A re-scoring run: its scope and budget; `dry_run` gives counts and estimated cost only."""

    scope: ReplayScopeIn
    scorer: Label | None = None
    model: Label | None = None
    max_evaluations: int | None = Field(default=None, ge=0)
    max_cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    dry_run: bool = False


class ReplayAccepted(BaseModel):
    """A replay was asked for; follow it at GET /replays/{id}."""

    id: uuid.UUID
    status: str = "running"


class InterviewIn(Body):
    candidate_id: uuid.UUID
    title: Name
    question_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class StatusChangeIn(Body):
    status: InterviewStatus


class AnswerIn(Body):
    question_id: uuid.UUID
    text: Annotated[Text, _bounded(20_000)]


class ChatSessionIn(Body):
    interview_id: uuid.UUID | None = None


class ChatMessageIn(Body):
    content: Annotated[Text, _bounded(4000)]


class Accepted(BaseModel):
    """Answer to a write the store has not applied yet: it is durable in Kafka and will be."""

    id: uuid.UUID
    event_id: uuid.UUID
    status: str = "accepted"
