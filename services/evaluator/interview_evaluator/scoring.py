"""The scorer port: what every scorer (offline, LLM judge, ...) takes and returns.

A scorer is a pure function of its input as far as the rest of the evaluator is concerned: the
rubric and the reference material travel inside `ScoringRequest`, so a replay with a new rubric is
just the same answer scored with a different request.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from interview_shared.domain import Criterion, Rubric
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Criterion",
    "CriterionScore",
    "GradedExample",
    "Outcome",
    "Rubric",
    "Scorer",
    "ScoringRequest",
    "ScoringResult",
    "Usage",
]


class GradedExample(BaseModel):
    """An answer to the same question with the grade a human gave it (0-100)."""

    model_config = ConfigDict(frozen=True)

    answer_id: str
    answer: str
    score: float = Field(ge=0, le=100)
    source: str = "golden"  # "golden" (graded data set) or "review" (a human review)


class ScoringRequest(BaseModel):
    """Everything a scorer may look at for one answer."""

    model_config = ConfigDict(frozen=True)

    answer_id: str
    question: str
    answer: str
    reference_answer: str = ""
    key_points: tuple[str, ...] = ()
    rubric: Rubric = Rubric()
    examples: tuple[GradedExample, ...] = ()
    """Human-graded answers to the same question (the LLM judge shows them; others ignore)."""


class Outcome(StrEnum):
    """Whether a score was given; UNSCORABLE is not a low score, it is no score."""

    SCORED = "SCORED"
    UNSCORABLE = "UNSCORABLE"


class CriterionScore(BaseModel):
    """The score of one criterion (0-100) with the evidence behind it."""

    model_config = ConfigDict(frozen=True)

    name: str
    score: float = Field(ge=0, le=100)
    weight: float = Field(gt=0)
    rationale: str = ""
    evidence: tuple[str, ...] = ()


class Usage(BaseModel):
    """What one evaluation cost: tokens, wall time and money (0 for offline scorers)."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0


class ScoringResult(BaseModel):
    """A scorer's verdict on one answer, with enough lineage to reproduce it."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    score: float | None = Field(default=None, ge=0, le=100)
    criteria: tuple[CriterionScore, ...] = ()
    feedback: str = ""
    unscorable_reason: str | None = None
    explanation: dict[str, Any] = Field(default_factory=dict)
    flags: tuple[str, ...] = ()
    confidence: float | None = Field(default=None, ge=0, le=1)
    """How far the score can be trusted, 0-1 (None: the scorer cannot tell); see `review`."""
    scorer: str
    scorer_version: str
    model: str | None = None
    prompt_hash: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    usage: Usage = Usage()


class Scorer(Protocol):
    """Scores one answer. Implementations must be safe to call concurrently."""

    @property
    def name(self) -> str:
        """A stable name recorded as the evaluation's scorer."""
        ...

    async def score(self, request: ScoringRequest) -> ScoringResult:
        """Score one answer; raise only for transient failures worth retrying."""
        ...
