"""Agreement beyond one correlation: quadratic weighted kappa and per-score-band agreement.

Half of the golden answers have the top grade, so one Pearson figure hides how a scorer does on
the weak answers that matter most to a hiring decision. The bands are the human grade rounded to
0-1 (wrong), 2-3 (partial) and 4-5 (right).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from interview_evaluator.agreement import pearson, rmse, spearman

__all__ = ["BANDS", "BandAgreement", "FullFigures", "band_of", "qwk"]

BANDS = ("0-1", "2-3", "4-5")
_SCALE = 5


def _grade(value: float) -> int:
    """A 0-5 value as an integer grade, halves rounded up (a 3.5 average is a 4)."""
    return min(_SCALE, max(0, math.floor(value + 0.5)))


def band_of(value: float) -> str:
    """The band of a 0-5 grade."""
    return BANDS[min(2, _grade(value) // 2)]


def qwk(predicted: Sequence[float], actual: Sequence[float]) -> float:
    """Cohen's quadratic weighted kappa on integer 0-5 grades."""
    size = _SCALE + 1
    observed = [[0.0] * size for _ in range(size)]
    for p, a in zip(predicted, actual, strict=True):
        observed[_grade(a)][_grade(p)] += 1
    total = float(len(actual))
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(size)) for j in range(size)]
    numerator = denominator = 0.0
    for i in range(size):
        for j in range(size):
            weight = (i - j) ** 2 / (size - 1) ** 2
            numerator += weight * observed[i][j]
            denominator += weight * rows[i] * cols[j] / total
    return 1.0 - numerator / denominator if denominator else 0.0


@dataclass(frozen=True)
class BandAgreement:
    """How a scorer does on the answers humans put in one band."""

    band: str
    n: int
    same_band: float  # share of those answers the scorer puts in the same band
    mae: float  # mean absolute error on the 0-5 scale

    def cell(self) -> str:
        """'62% / 0.71 (n=40)' for a table cell."""
        if not self.n:
            return "-"
        return f"{self.same_band:.0%} / {self.mae:.2f} (n={self.n})"


@dataclass(frozen=True)
class FullFigures:
    """Pearson, Spearman, RMSE, QWK and per-band agreement of one prediction."""

    pearson: float
    spearman: float
    rmse: float
    qwk: float
    bands: tuple[BandAgreement, ...]
    n: int

    @classmethod
    def of(cls, predicted: Sequence[float], actual: Sequence[float]) -> FullFigures:
        """Compute every figure for a prediction of human grades."""
        bands = []
        for band in BANDS:
            pairs = [(p, a) for p, a in zip(predicted, actual, strict=True) if band_of(a) == band]
            same = sum(band_of(p) == band for p, _ in pairs)
            error = sum(abs(p - a) for p, a in pairs)
            bands.append(
                BandAgreement(
                    band=band,
                    n=len(pairs),
                    same_band=same / len(pairs) if pairs else 0.0,
                    mae=error / len(pairs) if pairs else 0.0,
                )
            )
        return cls(
            pearson=pearson(predicted, actual),
            spearman=spearman(predicted, actual),
            rmse=rmse(predicted, actual),
            qwk=qwk(predicted, actual),
            bands=tuple(bands),
            n=len(actual),
        )
