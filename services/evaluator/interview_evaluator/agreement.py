"""Agreement between a scorer and human graders on the golden set: the statistics behind
`cli bench-judge` and `cli calibrate` (pure Python; scipy is a dev-only dependency)."""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from interview_evaluator.gating import gate
from interview_evaluator.offline_scorer import (
    SCALE_MAX,
    AnswerFeatures,
    Calibration,
    OfflineScorer,
    extract_features,
    fit_calibration,
)
from interview_evaluator.scoring import ScoringRequest

GOLDEN_FILE = "mohler-dev.jsonl"
_REPO_ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------------------------
# Metrics (pure Python: scipy is a dev-only dependency).


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation; 0.0 when either side is constant."""
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("need two equally long sequences of at least two values")
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks with ties given their average rank, as Spearman's rho requires."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2.0
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson on tie-averaged ranks)."""
    return pearson(_ranks(x), _ranks(y))


def rmse(predicted: Sequence[float], actual: Sequence[float]) -> float:
    """Root mean squared error."""
    pairs = list(zip(predicted, actual, strict=True))
    return math.sqrt(sum((p - a) ** 2 for p, a in pairs) / len(pairs))


# ---------------------------------------------------------------------------------------------
# Golden data.


@dataclass(frozen=True)
class GoldenItem:
    """One human-graded answer of the development split."""

    question_id: str
    question: str
    reference_answer: str
    answer: str
    score_human: float

    @property
    def group(self) -> str:
        """The assignment a question belongs to ("3.4" -> "3"), a coarser CV group."""
        return self.question_id.split(".", 1)[0]


def default_golden_path() -> Path:
    """Where the golden file is when no path is given (see the module docstring)."""
    golden_dir = os.environ.get("GOLDEN_DIR")
    if golden_dir:
        return Path(golden_dir) / GOLDEN_FILE
    candidates = [
        _REPO_ROOT / ".." / "shared" / "golden" / GOLDEN_FILE,
        Path.cwd() / ".." / "shared" / "golden" / GOLDEN_FILE,
    ]
    return next((p.resolve() for p in candidates if p.exists()), candidates[0].resolve())


def load_golden(path: Path) -> list[GoldenItem]:
    """Read the golden JSONL file; ValueError names the first bad line."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append(
                    GoldenItem(
                        question_id=str(row["question_id"]),
                        question=str(row["question"]),
                        reference_answer=str(row["reference_answer"]),
                        answer=str(row["answer"]),
                        score_human=float(row["score_human"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}: line {number}: {error!r}") from error
    return items


def golden_request(item: GoldenItem, index: int) -> ScoringRequest:
    """A scoring request for a golden item (no key points: the scorer derives them)."""
    return ScoringRequest(
        answer_id=f"{item.question_id}/{index}",
        question=item.question,
        reference_answer=item.reference_answer,
        answer=item.answer,
    )


# ---------------------------------------------------------------------------------------------
# Token-overlap F1 baseline.

_BASELINE_TOKEN = re.compile(r"[a-z0-9]+")


def token_f1(answer: str, reference: str) -> float:
    """Multiset token-overlap F1 on lower-cased words: the classic lexical baseline."""
    got = Counter(_BASELINE_TOKEN.findall(answer.lower()))
    want = Counter(_BASELINE_TOKEN.findall(reference.lower()))
    overlap = sum((got & want).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(got.values())
    recall = overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def linear_fit(x: Sequence[float], y: Sequence[float]) -> Callable[[float], float]:
    """The least-squares line y = a + b*x, clipped to the 0-5 scale."""
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxx = sum((a - mx) ** 2 for a in x)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx if sxx else 0.0
    intercept = my - slope * mx
    return lambda value: min(SCALE_MAX, max(0.0, intercept + slope * value))


# ---------------------------------------------------------------------------------------------
# Benchmark.


@dataclass(frozen=True)
class Figures:
    """Agreement of predictions with human grades on the 0-5 scale."""

    pearson: float
    spearman: float
    rmse: float
    n: int

    @classmethod
    def of(cls, predicted: Sequence[float], actual: Sequence[float]) -> Figures:
        """Compute the figures for a prediction."""
        return cls(
            pearson(predicted, actual),
            spearman(predicted, actual),
            rmse(predicted, actual),
            len(actual),
        )


def offline_grade(scorer: OfflineScorer, request: ScoringRequest) -> float:
    """The offline score on the 0-5 scale; an unscorable answer counts as 0 (see docs)."""
    result = scorer.score_sync(request)
    return 0.0 if result.score is None else result.score / (100.0 / SCALE_MAX)


def offline_grades(items: Sequence[GoldenItem], scorer: OfflineScorer | None = None) -> list[float]:
    """Score every golden answer on the 0-5 scale (unscorable counts as 0)."""
    scorer = scorer or OfflineScorer()
    return [offline_grade(scorer, golden_request(item, i)) for i, item in enumerate(items)]


def fit_on(
    items: Sequence[GoldenItem], features: Sequence[AnswerFeatures | None], indices: Sequence[int]
) -> Calibration:
    """Fit the offline calibration on the scorable answers (features not None) among `indices`.

    Gated answers never reach a calibration at run time, so they are left out of fitting too.
    """
    train = [i for i in indices if features[i] is not None]
    return fit_calibration(
        [f for i in train if (f := features[i]) is not None],
        [items[i].score_human for i in train],
        name="fold",
    )


def golden_features(items: Sequence[GoldenItem]) -> list[AnswerFeatures | None]:
    """The offline features of every golden answer; None for answers the gate rejects."""
    return [
        None
        if gate(item.answer, item.question) is not None
        else extract_features(item.question, item.reference_answer, item.answer)
        for item in items
    ]


def cross_validate(
    items: Sequence[GoldenItem],
    features: Sequence[AnswerFeatures | None],
    group_of: Callable[[GoldenItem], str],
) -> tuple[Figures, Figures]:
    """Leave-one-group-out CV of the offline scorer and the baseline, both refitted per fold.

    Each held-out answer is scored end to end by an `OfflineScorer` whose calibration never saw
    its group, so the figures estimate performance on unseen questions.
    """
    offline = [0.0] * len(items)
    baseline = [0.0] * len(items)
    f1 = [token_f1(item.answer, item.reference_answer) for item in items]
    for group in sorted({group_of(item) for item in items}):
        test = [i for i, item in enumerate(items) if group_of(item) == group]
        train = [i for i, item in enumerate(items) if group_of(item) != group]
        scorer = OfflineScorer(fit_on(items, features, train))
        line = linear_fit([f1[i] for i in train], [items[i].score_human for i in train])
        for i in test:
            offline[i] = offline_grade(scorer, golden_request(items[i], i))
            baseline[i] = line(f1[i])
    actual = [item.score_human for item in items]
    return Figures.of(offline, actual), Figures.of(baseline, actual)


@dataclass(frozen=True)
class Timing:
    """Throughput and per-answer latency of the offline scorer."""

    answers_per_second: float
    p50_ms: float
    p99_ms: float


TIMING_PASSES = 3


def time_scorer(
    scorer: OfflineScorer, requests: Sequence[ScoringRequest]
) -> tuple[list[float], Timing]:
    """Score every request, timing each call; returns the 0-5 grades and the timing.

    Runs several passes because the machine may be shared: throughput is the median pass, and
    the latency percentiles pool all calls. The first pass starts with cold caches.
    """
    grades: list[float] = []
    latencies: list[float] = []
    rates: list[float] = []
    for _ in range(TIMING_PASSES):
        grades = []
        started = time.perf_counter()
        for request in requests:
            before = time.perf_counter()
            grades.append(offline_grade(scorer, request))
            latencies.append((time.perf_counter() - before) * 1000.0)
        rates.append(len(requests) / (time.perf_counter() - started))
    ordered = sorted(latencies)
    timing = Timing(
        answers_per_second=statistics.median(rates),
        p50_ms=ordered[len(ordered) // 2],
        p99_ms=ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)],
    )
    return grades, timing
