"""Human review: which evaluations a person should grade, and the grade a person gives.

A machine verdict that deserves a second look carries flags (`needs_human_review` and the
reason, set by the evaluator's review policy and the LLM judge's injection and disagreement
checks) or is UNSCORABLE. `review_reasons` turns those into the queue's stable reason codes,
in one place for the store (which lists the queue) and the gateway (which validates the
`reason` filter). A person's grade is an ordinary `answer.evaluated` whose scorer is `human`
and which carries a `HumanReview`; it is the answer's current evaluation over machine scores
of any rubric version (`rank_current`), so every reader that picks "the current evaluation"
(store, report follower, report recompute) agrees.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

HUMAN_SCORER: Final = "human"
REVIEW_FLAG: Final = "needs_human_review"

ReviewReason = Literal[
    "injection_suspected", "judges_disagree", "low_confidence", "mid_band", "unscorable", "flagged"
]
REVIEW_REASONS: Final[tuple[ReviewReason, ...]] = (
    "injection_suspected",
    "judges_disagree",
    "low_confidence",
    "mid_band",
    "unscorable",
    "flagged",
)
"""Stable codes (stored and filtered on): never rename one."""

# Evaluation flag -> queue reason; a flag not named here is not a reason by itself.
_FLAG_REASONS: Final[dict[str, ReviewReason]] = {
    "possible_prompt_injection": "injection_suspected",
    "judges_disagree": "judges_disagree",
    "low_confidence": "low_confidence",
    "mid_band": "mid_band",
}


class HumanReview(BaseModel):
    """Who graded an answer by hand, why it was in the queue, and which verdict they reviewed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reviewed_evaluation_id: uuid.UUID
    reviewer: str = Field(min_length=1, max_length=200)
    reasons: tuple[str, ...] = ()
    """The reviewed evaluation's queue reasons when it was graded (empty: it was not queued)."""


def review_reasons(*, scorer: str, outcome: str, flags: Iterable[str]) -> tuple[str, ...]:
    """The queue reasons of a verdict, in `REVIEW_REASONS` order (empty: no person needed).

    A human grade is never queued. An UNSCORABLE verdict is, because no score is not a low
    score: a person decides; one withheld for a suspected injection says so instead.
    """
    if scorer == HUMAN_SCORER:
        return ()
    flags = set(flags)
    reasons: set[str] = {_FLAG_REASONS[f] for f in flags if f in _FLAG_REASONS}
    if outcome == "UNSCORABLE" and "injection_suspected" not in reasons:
        reasons.add("unscorable")
    if not reasons and REVIEW_FLAG in flags:
        reasons.add("flagged")
    return tuple(r for r in REVIEW_REASONS if r in reasons)


def rank_current(*, scorer: str, rubric_version: str, active_rubric: str | None) -> int:
    """How strongly a verdict claims to be the answer's current one (higher wins; the newest
    wins among equals): a human grade, then a verdict under the active rubric, then any."""
    if scorer == HUMAN_SCORER:
        return 2
    return 1 if rubric_version == active_rubric else 0
