"""Confidence and the review flags: low confidence and mid-band scores go to a human."""

from __future__ import annotations

import pytest
from interview_evaluator.review import REVIEW_FLAG, needs_review, reviewed
from interview_evaluator.scoring import Outcome, ScoringRequest, ScoringResult
from interview_evaluator.semantic_scorer import SemanticScorer


def _result(score: float | None, **fields: object) -> ScoringResult:
    outcome = Outcome.SCORED if score is not None else Outcome.UNSCORABLE
    return ScoringResult.model_validate(
        {"outcome": outcome, "score": score, "scorer": "t", "scorer_version": "1"} | fields
    )


@pytest.mark.parametrize(
    ("score", "confidence", "flags"),
    [
        (85.0, 0.9, set()),
        (85.0, 0.3, {"low_confidence", REVIEW_FLAG}),
        (50.0, 0.9, {"mid_band", REVIEW_FLAG}),
        (29.99, None, set()),
        (30.0, None, {"mid_band", REVIEW_FLAG}),
        (69.99, 0.1, {"low_confidence", "mid_band", REVIEW_FLAG}),
        (70.0, 0.5, set()),
        (None, 0.1, set()),
    ],
)
def test_review_flags(score: float | None, confidence: float | None, flags: set[str]) -> None:
    assert needs_review(_result(score, confidence=confidence)) == flags


def test_an_llm_verdict_gets_its_confidence_from_the_spread_of_its_totals() -> None:
    spread = _result(80.0, explanation={"sample_totals": [80, 90], "second_model_total": 50})
    done = reviewed(spread)
    assert done.confidence == pytest.approx(0.2)  # 40 points apart of 50
    assert {"low_confidence", REVIEW_FLAG} <= set(done.flags)
    assert reviewed(_result(80.0, explanation={"sample_totals": [80]})).confidence is None


def test_existing_flags_are_kept_and_not_repeated() -> None:
    done = reviewed(_result(50.0, confidence=0.9, flags=("no_overlap", REVIEW_FLAG)))
    assert done.flags == ("mid_band", REVIEW_FLAG, "no_overlap")


def test_the_semantic_scorer_is_less_confident_when_words_and_meaning_disagree() -> None:
    scorer = SemanticScorer()
    base = {"answer_id": "1", "question": "What is a deadlock?"}
    reference = "Two or more processes wait forever for resources held by each other."
    agreeing = ScoringRequest.model_validate(
        base | {"reference_answer": reference, "answer": "Processes wait forever for resources."}
    )
    # No word in common with the reference, same meaning: lexical says poor, embeddings good.
    paraphrase = ScoringRequest.model_validate(
        base
        | {
            "reference_answer": reference,
            "answer": "Each one keeps the lock the other needs, so nobody ever proceeds.",
        }
    )
    confident = scorer.score_sync(agreeing).confidence
    unsure = scorer.score_sync(paraphrase).confidence
    assert confident is not None
    assert unsure is not None
    assert unsure < confident
