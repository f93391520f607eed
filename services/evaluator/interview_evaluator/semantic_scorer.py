"""The semantic scorer: the offline scorer's lexical alignment plus sentence-embedding similarity.

The lexical features (`offline_scorer.extract_features`) see words; a sentence embedding of the
answer and of the reference answer (all-MiniLM-L6-v2, `interview_shared.embeddings`) sees
paraphrase ("two programs wait on each other's locks" for "deadlock"). Their cosine is added as
one more input to each global linear calibration. Which inputs to use was chosen by
leave-one-assignment-out cross-validation on the development split (`cli bench-judge` prints the
candidates), never by the fit on the whole split, and nothing is tuned per question.

Confidence comes from two independent views of the answer: the lexical-only grade (the v1
calibration) and the embedding-only grade. When they agree the combined score is rarely far from a
human's; when they disagree by more than `CONFIDENCE_SPAN` grades the score is a coin toss
between them, and `review.review_policy` sends it to a human.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from interview_shared.embeddings import Embedder, cosine, default_embedder

from interview_evaluator.offline_scorer import (
    DEFAULT_CALIBRATION,
    AnswerFeatures,
    LinearCalibration,
    OfflineScorer,
    least_squares,
    percent,
)
from interview_evaluator.scoring import ScoringRequest, ScoringResult

__all__ = [
    "DEFAULT_SEMANTIC_CALIBRATION",
    "SEMANTIC_SCORER_NAME",
    "SEMANTIC_SCORER_VERSION",
    "OfflineKind",
    "SemanticCalibration",
    "SemanticScorer",
    "fit_semantic_calibration",
    "offline_scorer",
    "semantic_inputs",
]

SEMANTIC_SCORER_NAME = "semantic"
# Bump on any change that can move a score (features, calibration, embedding model).
SEMANTIC_SCORER_VERSION = "2.0.0"
CONFIDENCE_SPAN = 2.0
"""Lexical and semantic grades this far apart (0-5 scale) give confidence 0."""


@dataclass(frozen=True)
class SemanticCalibration:
    """Global calibrations: the two criteria, and the embedding-only grade behind confidence."""

    name: str
    correctness: LinearCalibration
    completeness: LinearCalibration
    semantic_only: LinearCalibration


def semantic_inputs(features: AnswerFeatures, similarity: float) -> tuple[tuple[float, ...], ...]:
    """(correctness inputs, completeness inputs): the lexical ones plus the cosine."""
    return (
        (*features.correctness_inputs(), similarity),
        (*features.completeness_inputs(), similarity),
    )


def fit_semantic_calibration(
    features: Sequence[AnswerFeatures],
    similarities: Sequence[float],
    targets: Sequence[float],
    name: str = "fitted",
) -> SemanticCalibration:
    """Least-squares fit of every calibration to human 0-5 grades."""
    inputs = [semantic_inputs(f, s) for f, s in zip(features, similarities, strict=True)]
    return SemanticCalibration(
        name=name,
        correctness=least_squares([i[0] for i in inputs], targets),
        completeness=least_squares([i[1] for i in inputs], targets),
        semantic_only=least_squares([(s,) for s in similarities], targets),
    )


# Learned by ordinary least squares on the 1,068 scorable answers of the development split
# (mohler-dev); the inputs were chosen by leave-one-assignment-out CV. Regenerate with:
#   uv run python -m interview_evaluator.cli calibrate --scorer semantic [--golden PATH]
DEFAULT_SEMANTIC_CALIBRATION = SemanticCalibration(
    name="mohler-dev-ols-semantic-v1",
    correctness=LinearCalibration(intercept=2.4276, weights=(1.3289, 0.3934, 0.2306, 0.7996)),
    completeness=LinearCalibration(intercept=2.6067, weights=(1.5146, 0.1164, 0.9556)),
    semantic_only=LinearCalibration(intercept=2.7743, weights=(2.3846,)),
)


class SemanticScorer(OfflineScorer):
    """Lexical alignment plus embedding similarity; deterministic, offline, safe to share."""

    def __init__(
        self,
        calibration: SemanticCalibration = DEFAULT_SEMANTIC_CALIBRATION,
        *,
        embedder: Embedder | None = None,
    ) -> None:
        super().__init__()
        self._semantic = calibration
        self._embedder = embedder or default_embedder()

    @property
    def name(self) -> str:
        """The scorer name recorded with each evaluation."""
        return SEMANTIC_SCORER_NAME

    @property
    def version(self) -> str:
        """The scorer version recorded with each evaluation."""
        return SEMANTIC_SCORER_VERSION

    @property
    def calibration(self) -> SemanticCalibration:
        """The calibrations this scorer applies."""
        return self._semantic

    @property
    def _calibration_name(self) -> str:
        return f"{self._semantic.name}+{self._embedder.model_id}"

    async def score(self, request: ScoringRequest) -> ScoringResult:
        """Score off the event loop: one embedding takes milliseconds of CPU."""
        return await asyncio.to_thread(self.score_sync, request)

    def similarity(self, request: ScoringRequest) -> float:
        """Cosine of the answer's and the reference answer's (or key points') embeddings."""
        reference = request.reference_answer.strip() or " . ".join(request.key_points)
        vectors = self._embedder.embed([request.answer, reference])
        return round(cosine(vectors[0], vectors[1]), 6)

    def _grades(
        self, request: ScoringRequest, features: AnswerFeatures
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """Combined criterion grades, plus the similarity and confidence for the explanation."""
        similarity = self.similarity(request)
        correctness_in, completeness_in = semantic_inputs(features, similarity)
        correctness = percent(self._semantic.correctness.predict(correctness_in))
        completeness = percent(self._semantic.completeness.predict(completeness_in))
        lexical = DEFAULT_CALIBRATION.correctness.predict(features.correctness_inputs())
        semantic = self._semantic.semantic_only.predict((similarity,))
        confidence = round(max(0.0, 1.0 - abs(lexical - semantic) / CONFIDENCE_SPAN), 4)
        grades = {"correctness": correctness, "completeness": completeness}
        extra = {
            "semantic": {"similarity": similarity, "model": self._embedder.model_id},
            "confidence": {
                "value": confidence,
                "lexical_grade": round(lexical, 4),
                "semantic_grade": round(semantic, 4),
            },
        }
        return grades | {"overall": correctness}, extra


OfflineKind = Literal["semantic", "lexical"]


def offline_scorer(kind: OfflineKind = "semantic") -> OfflineScorer:
    """The offline scorer of that kind: the semantic one (default) or the v1 lexical one."""
    return SemanticScorer() if kind == "semantic" else OfflineScorer()
