"""Which verdicts a human should look at: low confidence, or a score in the middle band.

Every evaluation leaves with a confidence (0-1) and, when it deserves a second look, the
`needs_human_review` flag that the injection policy already uses, plus the reason as its own flag
(`low_confidence`, `mid_band`), so the review queue is one filter on flags.

Middle band: a 0-5 grade of 2-3 (scores 30 to under 70). Humans disagree most there, the offline
scorers place only about half of those answers in the right band (`make bench-judge`), and it is
where a pass/fail decision is made. Confidence comes from the scorer when it can tell (the
semantic scorer: agreement of its lexical and embedding views); for an LLM judge from the spread
of its samples and the second model's total.
"""

from __future__ import annotations

from interview_evaluator.scoring import Outcome, ScoringResult

__all__ = ["LOW_CONFIDENCE", "MID_BAND", "REVIEW_FLAG", "confidence_of", "needs_review", "reviewed"]

REVIEW_FLAG = "needs_human_review"
LOW_CONFIDENCE = 0.5
MID_BAND = (30.0, 70.0)  # [low, high) on 0-100: grades 1.5 to under 3.5 round to 2-3
_JUDGE_SPREAD = 50.0  # totals 50 points apart (of 100) give an LLM verdict confidence 0


def _spread_confidence(result: ScoringResult) -> float | None:
    """1 - spread/50 over the LLM judge's sample totals and second-model total, if any."""
    totals = [float(t) for t in result.explanation.get("sample_totals", ())]
    second = result.explanation.get("second_model_total")
    if second is not None:
        totals.append(float(second))
    if len(totals) < 2:
        return None
    return round(max(0.0, 1.0 - (max(totals) - min(totals)) / _JUDGE_SPREAD), 4)


def confidence_of(result: ScoringResult) -> float | None:
    """The verdict's confidence: the scorer's own, else derived from its samples."""
    if result.confidence is not None:
        return result.confidence
    return _spread_confidence(result)


def needs_review(result: ScoringResult) -> set[str]:
    """The review flags this verdict earns (empty: no human needed)."""
    if result.outcome is not Outcome.SCORED or result.score is None:
        return set()  # unscorable verdicts are already routed by their own flags
    reasons = set()
    confidence = confidence_of(result)
    if confidence is not None and confidence < LOW_CONFIDENCE:
        reasons.add("low_confidence")
    if MID_BAND[0] <= result.score < MID_BAND[1]:
        reasons.add("mid_band")
    return reasons | {REVIEW_FLAG} if reasons else set()


def reviewed(result: ScoringResult) -> ScoringResult:
    """The verdict with its confidence filled in and its review flags added."""
    flags = tuple(sorted(set(result.flags) | needs_review(result)))
    return result.model_copy(update={"confidence": confidence_of(result), "flags": flags})
