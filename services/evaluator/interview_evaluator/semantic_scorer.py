"""The semantic scorer: the offline scorer's lexical alignment plus sentence-embedding similarity.

The lexical features (`offline_scorer.extract_features`) see words; a sentence embedding of the
answer and of the reference answer (all-MiniLM-L6-v2, `interview_shared.embeddings`) sees
paraphrase ("two programs wait on each other's locks" for "deadlock"). Since 2.1.0 the semantic
input is the reference's *sentence coverage*: each reference sentence is matched to its most
similar answer sentence and the cosines are averaged, so a correct sentence inside a long or
rambling answer is not diluted by the rest of it (2.0.0 used the cosine of the two whole texts).
It is one more input to each global linear calibration. Which inputs to use was chosen by
leave-one-assignment-out cross-validation on the development split (`cli bench-judge` prints the
candidates), never by the fit on the whole split, and nothing is tuned per question.

Confidence comes from two independent views of the answer: the lexical-only grade (the v1
calibration) and the embedding-only grade. When they agree the combined score is rarely far from a
human's; when they disagree by more than `CONFIDENCE_SPAN` grades the score is a coin toss
between them, and `review.review_policy` sends it to a human.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
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
    "Measure",
    "OfflineKind",
    "SemanticCalibration",
    "SemanticScorer",
    "fit_semantic_calibration",
    "offline_scorer",
    "semantic_inputs",
    "sentence_coverage",
    "sentences",
    "whole_cosine",
]

SEMANTIC_SCORER_NAME = "semantic"
# Bump on any change that can move a score (features, calibration, embedding model).
SEMANTIC_SCORER_VERSION = "2.1.0"
CONFIDENCE_SPAN = 2.0
"""Lexical and semantic grades this far apart (0-5 scale) give confidence 0."""
MAX_SENTENCES = 16
"""Sentences embedded per text; the rest are ignored (the longest golden answer has 10). Bounds
the inference cost of one answer: each sentence is one model run."""

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
_MIN_SENTENCE_WORDS = 3  # shorter fragments ("Yes.", "e.g.") carry no meaning of their own

Measure = Callable[[Embedder, str, str], float]
"""A similarity of (answer, reference) on the embedder's vectors."""


def sentences(text: str) -> list[str]:
    """The text's sentences of at least three words (at most `MAX_SENTENCES`); else the text."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    kept = [p for p in parts if len(p.split()) >= _MIN_SENTENCE_WORDS]
    return kept[:MAX_SENTENCES] or [text]


def sentence_coverage(embedder: Embedder, answer: str, reference: str) -> float:
    """Mean over reference sentences of the best cosine with any answer sentence (2.1.0)."""
    wanted = sentences(reference)
    vectors = embedder.embed([*wanted, *sentences(answer)])
    best = (vectors[len(wanted) :] @ vectors[: len(wanted)].T).max(axis=0)
    return round(float(best.mean()), 6)


def whole_cosine(embedder: Embedder, answer: str, reference: str) -> float:
    """Cosine of the two whole texts' embeddings (2.0.0; kept for the benchmark)."""
    vectors = embedder.embed([answer, reference])
    return round(cosine(vectors[0], vectors[1]), 6)


@dataclass(frozen=True)
class SemanticCalibration:
    """Global calibrations: the two criteria, and the embedding-only grade behind confidence."""

    name: str
    correctness: LinearCalibration
    completeness: LinearCalibration
    semantic_only: LinearCalibration


def semantic_inputs(features: AnswerFeatures, similarity: float) -> tuple[tuple[float, ...], ...]:
    """(correctness inputs, completeness inputs): the lexical ones plus the similarity."""
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
# (mohler-dev), similarity = sentence_coverage; the inputs were chosen by leave-one-assignment-out
# CV. Regenerate with:
#   uv run python -m interview_evaluator.cli calibrate --scorer semantic [--golden PATH]
DEFAULT_SEMANTIC_CALIBRATION = SemanticCalibration(
    name="mohler-dev-ols-semantic-v2",
    correctness=LinearCalibration(intercept=2.3680, weights=(1.2811, 0.4104, 0.2379, 0.9262)),
    completeness=LinearCalibration(intercept=2.5497, weights=(1.4802, 0.1220, 1.0843)),
    semantic_only=LinearCalibration(intercept=2.6746, weights=(2.6066,)),
)


class SemanticScorer(OfflineScorer):
    """Lexical alignment plus embedding similarity; deterministic, offline, safe to share."""

    def __init__(
        self,
        calibration: SemanticCalibration = DEFAULT_SEMANTIC_CALIBRATION,
        *,
        embedder: Embedder | None = None,
        measure: Measure = sentence_coverage,
    ) -> None:
        super().__init__()
        self._semantic = calibration
        self._embedder = embedder or default_embedder()
        self._measure = measure

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
        """The measure of the answer against the reference answer (or the key points joined)."""
        reference = request.reference_answer.strip() or " . ".join(request.key_points)
        return self._measure(self._embedder, request.answer, reference)

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
            "semantic": {
                "similarity": similarity,
                "measure": self._measure.__name__,
                "model": self._embedder.model_id,
            },
            "confidence": {
                "value": confidence,
                "lexical_grade": round(lexical, 4),
                "semantic_grade": round(semantic, 4),
            },
        }
        return grades | {"overall": correctness}, extra


OfflineKind = Literal["semantic", "lexical"]


def offline_scorer(
    kind: OfflineKind = "semantic", *, embedder: Embedder | None = None
) -> OfflineScorer:
    """The offline scorer of that kind: the semantic one (default, on `embedder` or the
    process-wide one) or the v1 lexical one."""
    return SemanticScorer(embedder=embedder) if kind == "semantic" else OfflineScorer()
