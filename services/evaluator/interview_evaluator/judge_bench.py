"""`make bench-judge`: every scorer against human grades, cross-validated the honest way.

Six offline methods are compared, each refitted on the training folds only: the lexical (v1)
offline scorer, the semantic scorer with its 2.0.0 input (whole-answer cosine) and with its
2.1.0 one (sentence coverage, the default), the token-F1 baseline and each embedding measure
alone. Folds leave out a whole assignment (6 folds: new topics, the closest to "unseen
questions") or one question (37 folds). A fresh split (fit on assignments 1-4 only, scored on 5-6)
shows how far a cross-validated figure over-promises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from interview_shared.embeddings import Embedder

from interview_evaluator.agreement import (
    GoldenItem,
    fit_on,
    golden_features,
    golden_request,
    linear_fit,
    offline_grade,
    token_f1,
)
from interview_evaluator.agreement_bands import FullFigures
from interview_evaluator.offline_scorer import AnswerFeatures, OfflineScorer
from interview_evaluator.review import needs_review
from interview_evaluator.semantic_scorer import (
    Measure,
    SemanticScorer,
    fit_semantic_calibration,
    sentence_coverage,
    whole_cosine,
)

__all__ = ["METHODS", "Prepared", "cross_validated", "fresh_split", "prepare"]

Predictor = Callable[[int], float]
Method = Callable[["Prepared", Sequence[int]], Predictor]


@dataclass(frozen=True)
class Prepared:
    """The golden items with everything the methods need, computed once."""

    items: Sequence[GoldenItem]
    features: Sequence[AnswerFeatures | None]  # None: the gate rejects the answer
    similarity: Sequence[float]  # sentence coverage of the reference (the default measure)
    cosine: Sequence[float]  # cosine(whole answer, whole reference answer), 2.0.0's measure
    f1: Sequence[float]
    embedder: Embedder

    @property
    def actual(self) -> list[float]:
        """The human grades."""
        return [item.score_human for item in self.items]


def prepare(items: Sequence[GoldenItem], embedder: Embedder) -> Prepared:
    """Measure every golden answer once."""
    scorer = SemanticScorer(embedder=embedder)
    cosine = SemanticScorer(embedder=embedder, measure=whole_cosine)
    requests = [golden_request(it, i) for i, it in enumerate(items)]
    return Prepared(
        items=items,
        features=golden_features(items),
        similarity=[scorer.similarity(request) for request in requests],
        cosine=[cosine.similarity(request) for request in requests],
        f1=[token_f1(item.answer, item.reference_answer) for item in items],
        embedder=embedder,
    )


def _current(data: Prepared, train: Sequence[int]) -> Predictor:
    scorer = OfflineScorer(fit_on(data.items, data.features, train))
    return lambda i: offline_grade(scorer, golden_request(data.items[i], i))


def semantic_scorer_on(
    data: Prepared, train: Sequence[int], measure: Measure = sentence_coverage
) -> SemanticScorer:
    """A semantic scorer with this measure, calibrated on the scorable answers among `train`."""
    kept = [i for i in train if data.features[i] is not None]
    values = data.similarity if measure is sentence_coverage else data.cosine
    calibration = fit_semantic_calibration(
        [f for i in kept if (f := data.features[i]) is not None],
        [values[i] for i in kept],
        [data.items[i].score_human for i in kept],
        name="fold",
    )
    return SemanticScorer(calibration, embedder=data.embedder, measure=measure)


def _semantic(measure: Measure) -> Method:
    def method(data: Prepared, train: Sequence[int]) -> Predictor:
        scorer = semantic_scorer_on(data, train, measure)
        return lambda i: offline_grade(scorer, golden_request(data.items[i], i))

    return method


def _line(
    values: Callable[[Prepared], Sequence[float]],
) -> Callable[[Prepared, Sequence[int]], Predictor]:
    def method(data: Prepared, train: Sequence[int]) -> Predictor:
        x = values(data)
        line = linear_fit([x[i] for i in train], [data.items[i].score_human for i in train])
        return lambda i: line(x[i])

    return method


METHODS: dict[str, Method] = {
    "current: offline v1 (lexical)": _current,
    "semantic v2.0 (lexical + whole-answer cosine)": _semantic(whole_cosine),
    "new: semantic v2.1 (lexical + sentence coverage)": _semantic(sentence_coverage),
    "token-overlap F1": _line(lambda d: d.f1),
    "embeddings alone (cosine)": _line(lambda d: d.cosine),
    "embeddings alone (sentence coverage)": _line(lambda d: d.similarity),
}


def cross_validated(
    data: Prepared,
    method: Method,
    group_of: Callable[[GoldenItem], str],
    indices: Sequence[int] | None = None,
) -> list[float]:
    """Leave-one-group-out predictions for `indices` (default all), refitted per fold."""
    chosen = list(range(len(data.items))) if indices is None else list(indices)
    predicted = dict.fromkeys(chosen, 0.0)
    for group in sorted({group_of(data.items[i]) for i in chosen}):
        test = [i for i in chosen if group_of(data.items[i]) == group]
        predict = method(data, [i for i in chosen if group_of(data.items[i]) != group])
        for i in test:
            predicted[i] = predict(i)
    return [predicted[i] for i in chosen]


@dataclass(frozen=True)
class FreshSplit:
    """Leave-assignment-out CV inside the training assignments vs the untouched ones."""

    train_groups: tuple[str, ...]
    test_groups: tuple[str, ...]
    cv: FullFigures
    fresh: FullFigures


def fresh_split(
    data: Prepared,
    method: Method,
    test_groups: tuple[str, ...] = ("5", "6"),
) -> FreshSplit:
    """Fit on the other assignments, score the held-out ones once; CV inside the training part."""
    train = [i for i, item in enumerate(data.items) if item.group not in test_groups]
    test = [i for i, item in enumerate(data.items) if item.group in test_groups]
    cv = cross_validated(data, method, lambda item: item.group, train)
    predict = method(data, train)
    return FreshSplit(
        train_groups=tuple(sorted({data.items[i].group for i in train})),
        test_groups=test_groups,
        cv=FullFigures.of(cv, [data.actual[i] for i in train]),
        fresh=FullFigures.of([predict(i) for i in test], [data.actual[i] for i in test]),
    )


@dataclass(frozen=True)
class ReviewSplit:
    """Agreement of the cross-validated semantic scores kept vs sent to human review."""

    kept: FullFigures
    flagged: FullFigures
    low_confidence: int


def review_split(data: Prepared, group_of: Callable[[GoldenItem], str]) -> ReviewSplit:
    """Apply the review policy to cross-validated semantic verdicts and split the figures."""
    kept: list[int] = []
    flagged: list[int] = []
    grades: dict[int, float] = {}
    low = 0
    for group in sorted({group_of(item) for item in data.items}):
        test = [i for i, item in enumerate(data.items) if group_of(item) == group]
        scorer = semantic_scorer_on(data, [i for i in range(len(data.items)) if i not in test])
        for i in test:
            result = scorer.score_sync(golden_request(data.items[i], i))
            grades[i] = 0.0 if result.score is None else result.score / 20.0
            review = needs_review(result)
            low += "low_confidence" in review
            (flagged if review else kept).append(i)
    actual = data.actual
    return ReviewSplit(
        kept=FullFigures.of([grades[i] for i in kept], [actual[i] for i in kept]),
        flagged=FullFigures.of([grades[i] for i in flagged], [actual[i] for i in flagged]),
        low_confidence=low,
    )
