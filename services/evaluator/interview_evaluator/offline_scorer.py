"""The offline scorer: a deterministic lexical-alignment scorer that needs no network or model.

How it scores one answer:

1. Gate: `gating.gate` returns a reason for answers that cannot be scored (UNSCORABLE).
2. Normalise the question, reference answer, key points and answer into content terms: lower-case
   words, number words folded to digits ("one" -> "1"), stopwords dropped, suffixes stripped.
3. Demote the question: terms that occur in the question are dropped from the reference and the
   answer, because restating the question earns nothing (Mohler et al. 2011; Sultan et al. 2016).
4. Align softly: each reference term is matched to its best answer term, 1.0 for the same stem
   and the character-trigram Dice coefficient for near misses, which absorbs misspellings
   ("refrence") and derivations the stemmer misses.
5. Measure recall (how much of the reference the answer covers), precision (how much of the
   answer's own content is in the reference), answer length, and key-point coverage. When the
   request has no key points they are derived from the reference answer's phrases.
6. Map the measurements to 0-5 with global linear calibrations learned on the human-graded
   development split (`DEFAULT_CALIBRATION`), one per measurable criterion: correctness from
   recall, precision and length; completeness from key-point coverage and length. Scaled to
   0-100, they become the rubric's criterion scores and the total is their weighted mean.

Recall matters more than precision for short answers (graders forgive extra words, not missing
ones), hence the square root on recall and coverage, which lifts partial matches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from interview_evaluator.gating import UnscorableReason, gate
from interview_evaluator.scoring import (
    Criterion,
    CriterionScore,
    Outcome,
    ScoringRequest,
    ScoringResult,
)

__all__ = [
    "DEFAULT_CALIBRATION",
    "OFFLINE_SCORER_NAME",
    "OFFLINE_SCORER_VERSION",
    "AnswerFeatures",
    "Calibration",
    "KeyPointMatch",
    "LinearCalibration",
    "OfflineScorer",
    "content_terms",
    "derive_key_points",
    "extract_features",
    "fit_calibration",
    "least_squares",
    "percent",
    "stem",
    "term_similarity",
]

OFFLINE_SCORER_NAME = "offline"
# Bump on any change that can move a score (rules, stopwords, calibration): scores are only
# comparable within one version.
OFFLINE_SCORER_VERSION = "1.0.0"

SCALE_MAX = 5.0  # the calibrations predict the golden data's 0-5 scale
_TO_PERCENT = 100.0 / SCALE_MAX

# English function words. Quantifiers and negations ("all", "one", "not", "first", "only") are
# deliberately kept: in short technical answers they are often the answer ("all but the first").
_STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto over under
    about as is are was were be been being am do does did doing have has had having it its this
    that these those there here which who whom whose what when where why how i me my we our you
    your he him his she her they them their can could will would shall should may might must
    also just so than too very nor such some few own s t don e g ie eg etc use used using another
    either neither ones again further""".split()
)
_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "first": "1",
    "second": "2",
    "once": "1",
    "single": "1",
    "twice": "2",
}
# Stripped repeatedly, longest first within each family, so "declaration" and "declared" both
# reach "declar". Over-stemming is cheap here: unrelated words rarely share a long stem within
# one question's vocabulary.
_SUFFIXES = (
    "ational",
    "ization",
    "isation",
    "ations",
    "ation",
    "ition",
    "ness",
    "ment",
    "ities",
    "ity",
    "ively",
    "ive",
    "ized",
    "izes",
    "ize",
    "ised",
    "ise",
    "ated",
    "ates",
    "ate",
    "able",
    "ible",
    "ings",
    "ing",
    "edly",
    "ers",
    "er",
    "ors",
    "or",
    "ions",
    "ion",
    "ally",
    "al",
    "ly",
    "ies",
    "ied",
    "es",
    "ed",
    "s",
    "e",
    "y",
)
_SHORT_SUFFIXES = frozenset({"s", "e", "y"})
_MIN_STEM = 4
_TOKEN = re.compile(r"[a-z0-9]+(?:\+\+)?")
# Where a reference answer is split into key points: clause punctuation and coordinators.
_PHRASE_BREAK = re.compile(r"[,;:.()\[\]]|\band\b|\bor\b|\bwhereas\b|\bbut\b", re.IGNORECASE)

_MIN_FUZZY_LENGTH = 4  # trigram similarity is noise on shorter terms ("ptr" vs "str")
_MIN_FUZZY_SIMILARITY = 0.5  # Dice below this is coincidental overlap, counted as no match
_KEY_POINT_FOUND = (
    0.6  # more than half of a key point's terms must match to "find" it (display only)
)
_LENGTH_CAP = 2.5  # log1p(answer terms); beyond ~11 terms more words stop signalling more content


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light iterative suffix stripper; numbers and short words are returned unchanged.

    Cached: a vocabulary is small and stemming dominated the scorer's run time.
    """
    if word.isdigit() or len(word) <= _MIN_STEM:
        return word
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            floor = _MIN_STEM - 1 if suffix in _SHORT_SUFFIXES else _MIN_STEM
            if not word.endswith(suffix) or len(word) - len(suffix) < floor:
                continue
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue  # "class", "status", "analysis" are not plurals
            word = word[: -len(suffix)]
            if len(word) >= 2 and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]  # "stopp(ed)" -> "stop"; keep "call", "class"
            changed = True
            break
    return word


def _terms_with_words(text: str) -> list[tuple[str, str]]:
    """(content term, the word it came from) pairs of the text, in order."""
    pairs = []
    for token in _TOKEN.findall(text.lower()):
        if token in _NUMBER_WORDS:
            pairs.append((_NUMBER_WORDS[token], token))
        elif token not in _STOPWORDS:
            pairs.append((stem(token), token))
    return pairs


def content_terms(text: str) -> list[str]:
    """The text's content terms in order: normalised stems without stopwords."""
    return [term for term, _ in _terms_with_words(text)]


@lru_cache(maxsize=65536)
def _trigrams(term: str) -> frozenset[str]:
    """Character trigrams of the term padded with boundary marks."""
    padded = f"#{term}#"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


@lru_cache(maxsize=262144)
def term_similarity(left: str, right: str) -> float:
    """1.0 for equal terms, trigram Dice for near misses of long terms, otherwise 0.0."""
    if left == right:
        return 1.0
    if len(left) < _MIN_FUZZY_LENGTH or len(right) < _MIN_FUZZY_LENGTH:
        return 0.0
    a, b = _trigrams(left), _trigrams(right)
    dice = 2.0 * len(a & b) / (len(a) + len(b))
    return dice if dice >= _MIN_FUZZY_SIMILARITY else 0.0


@dataclass(frozen=True)
class _Candidates:
    """Terms to match against, indexed for `_best_similarity`."""

    exact: frozenset[str]
    fuzzy: tuple[str, ...]  # the terms long enough for a fuzzy match, in order

    @classmethod
    def of(cls, terms: Sequence[str]) -> _Candidates:
        return cls(frozenset(terms), tuple(t for t in terms if len(t) >= _MIN_FUZZY_LENGTH))


def _best_similarity(term: str, candidates: _Candidates) -> float:
    """The highest `term_similarity` of `term` to any candidate (0.0 when none matches).

    The same value as scanning every candidate, faster: a term present verbatim scores 1.0, the
    maximum; otherwise only long terms can score above 0.0, against long candidates.
    """
    if term in candidates.exact:
        return 1.0
    if len(term) < _MIN_FUZZY_LENGTH:
        return 0.0
    best = 0.0
    for candidate in candidates.fuzzy:
        similarity = term_similarity(term, candidate)
        if similarity > best:
            best = similarity
            if best == 1.0:
                break
    return best


@dataclass(frozen=True)
class KeyPointMatch:
    """How well the answer covers one key point."""

    text: str
    coverage: float  # mean best-match similarity of the key point's terms, 0-1
    found: bool


@dataclass(frozen=True)
class AnswerFeatures:
    """What the offline scorer measures about one answer; inputs to the calibrations."""

    recall: float  # share of (question-demoted) reference terms the answer matches
    precision: float  # share of the answer's own (non-question) terms found in the reference
    length: float  # log1p of the answer's content terms
    key_point_coverage: float  # mean coverage over key points
    key_points: tuple[KeyPointMatch, ...]
    key_points_derived: bool  # True when derived from the reference answer
    matched_terms: tuple[str, ...]  # reference words (as written) the answer matches
    missed_terms: tuple[str, ...]  # reference words it does not

    def correctness_inputs(self) -> tuple[float, ...]:
        """Inputs to the correctness calibration: similarity to the reference answer."""
        return (math.sqrt(self.recall), self.precision, min(self.length, _LENGTH_CAP))

    def completeness_inputs(self) -> tuple[float, ...]:
        """Inputs to the completeness calibration: coverage of the key points."""
        return (math.sqrt(self.key_point_coverage), min(self.length, _LENGTH_CAP))


def _unique(terms: Sequence[str]) -> list[str]:
    """Terms without repeats, in first-seen order (keeps explanations deterministic)."""
    return list(dict.fromkeys(terms))


def _demote(terms: Sequence[str], question_terms: frozenset[str]) -> list[str]:
    """Drop terms that merely repeat the question; keep all if nothing else is left."""
    kept = [term for term in terms if term not in question_terms]
    return kept or list(terms)


def derive_key_points(reference_answer: str, question: str = "") -> tuple[str, ...]:
    """Split a reference answer into its content phrases, the implicit key points.

    Phrases that say nothing beyond the question are skipped; the whole reference answer is the
    single key point when no phrase remains.
    """
    question_terms = frozenset(content_terms(question))
    phrases: list[str] = []
    for piece in _PHRASE_BREAK.split(reference_answer):
        phrase = " ".join(piece.split())
        if any(term not in question_terms for term in content_terms(phrase)):
            phrases.append(phrase)
    phrases = _unique(phrases)
    if not phrases and reference_answer.strip():
        return (" ".join(reference_answer.split()),)
    return tuple(phrases)


@lru_cache(maxsize=4096)
def _question_terms(question: str) -> frozenset[str]:
    """The question's content terms (cached: one question is asked of many candidates)."""
    return frozenset(content_terms(question))


@lru_cache(maxsize=16384)
def _key_point_terms(text: str, question_terms: frozenset[str]) -> tuple[str, ...]:
    """A key point's own terms: question terms demoted, repeats dropped (cached)."""
    return tuple(_unique(_demote(content_terms(text), question_terms)))


@dataclass(frozen=True)
class _Reference:
    """What the scorer derives from a question and its reference material, once per question."""

    question_terms: frozenset[str]
    terms: tuple[str, ...]  # demoted, unique reference terms
    candidates: _Candidates
    word_of: dict[str, str]  # term -> the reference word it came from; never mutated
    key_points: tuple[str, ...]
    key_point_terms: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=4096)
def _reference(question: str, reference: str, key_points: tuple[str, ...]) -> _Reference:
    """Everything `extract_features` needs that does not depend on the answer (cached)."""
    question_terms = _question_terms(question)
    terms = tuple(_unique(_demote(content_terms(reference), question_terms)))
    points = derive_key_points(reference, question) if not key_points else key_points
    return _Reference(
        question_terms=question_terms,
        terms=terms,
        candidates=_Candidates.of(terms),
        # Explanations show words as the reference wrote them, not stems ("memory", not "memor").
        word_of=dict(reversed(_terms_with_words(reference))),
        key_points=points,
        key_point_terms=tuple(_key_point_terms(point, question_terms) for point in points),
    )


def _match_key_point(text: str, terms: Sequence[str], answer: _Candidates) -> KeyPointMatch:
    """Coverage of one key point (its own `terms`) by the answer's terms."""
    if not terms:
        return KeyPointMatch(text=text, coverage=0.0, found=False)
    coverage = sum(_best_similarity(term, answer) for term in terms) / len(terms)
    return KeyPointMatch(text=text, coverage=coverage, found=coverage >= _KEY_POINT_FOUND)


def _recall(
    reference_terms: Sequence[str], answer: _Candidates
) -> tuple[float, list[str], list[str]]:
    """Soft recall of the reference terms by the answer, with the terms matched and missed."""
    matched: list[str] = []
    missed: list[str] = []
    total = 0.0
    for term in reference_terms:
        similarity = _best_similarity(term, answer)
        total += similarity
        (matched if similarity > 0 else missed).append(term)
    return (total / len(reference_terms) if reference_terms else 0.0), matched, missed


def _precision(answer_terms: Sequence[str], reference: _Candidates) -> float:
    """Soft precision: how much of the answer's own content the reference supports."""
    if not answer_terms:
        return 0.0
    return sum(_best_similarity(term, reference) for term in answer_terms) / len(answer_terms)


def extract_features(
    question: str,
    reference_answer: str,
    answer: str,
    key_points: Sequence[str] = (),
) -> AnswerFeatures:
    """Measure how the answer aligns with the reference answer and key points.

    With no reference answer the key points stand in for it, and the reverse.
    """
    reference = reference_answer if reference_answer.strip() else " . ".join(key_points)
    ref = _reference(question, reference, tuple(key_points))
    word_of = ref.word_of
    answer_terms = content_terms(answer)
    answer_all = _unique(answer_terms)
    matchable = _Candidates.of(answer_all)
    answer_own = [term for term in answer_all if term not in ref.question_terms]

    recall, matched, missed = _recall(ref.terms, matchable)
    precision = _precision(answer_own, ref.candidates)

    derived = not key_points
    matches = tuple(
        _match_key_point(point, terms, matchable)
        for point, terms in zip(ref.key_points, ref.key_point_terms, strict=True)
    )
    coverage = sum(m.coverage for m in matches) / len(matches) if matches else recall
    return AnswerFeatures(
        recall=recall,
        precision=precision,
        length=math.log1p(len(answer_terms)),
        key_point_coverage=coverage,
        key_points=matches,
        key_points_derived=derived,
        matched_terms=tuple(word_of.get(term, term) for term in matched),
        missed_terms=tuple(word_of.get(term, term) for term in missed),
    )


@dataclass(frozen=True)
class LinearCalibration:
    """Maps a feature vector to the 0-5 scale: intercept + weights . inputs, clipped."""

    intercept: float
    weights: tuple[float, ...]

    def predict(self, inputs: Sequence[float]) -> float:
        """The calibrated 0-5 grade for these inputs."""
        if len(inputs) != len(self.weights):
            raise ValueError(f"expected {len(self.weights)} inputs, got {len(inputs)}")
        raw = self.intercept + sum(w * x for w, x in zip(self.weights, inputs, strict=True))
        return min(SCALE_MAX, max(0.0, raw))


@dataclass(frozen=True)
class Calibration:
    """The global calibrations of the measurable criteria; never per question."""

    name: str
    correctness: LinearCalibration
    completeness: LinearCalibration


# Learned by ordinary least squares on the 1,068 scorable answers of the human-graded development
# split (mohler-dev, score_human 0-5). Regenerate with:
#   uv run python -m interview_evaluator.cli calibrate [--golden PATH]
DEFAULT_CALIBRATION = Calibration(
    name="mohler-dev-ols-v1",
    correctness=LinearCalibration(intercept=2.5249, weights=(1.4364, 0.6294, 0.3438)),
    completeness=LinearCalibration(intercept=2.8583, weights=(1.8332, 0.1839)),
)


def least_squares(rows: Sequence[Sequence[float]], targets: Sequence[float]) -> LinearCalibration:
    """Ordinary least squares with an intercept, via the normal equations.

    The systems are tiny (at most a handful of inputs), so Gaussian elimination with partial
    pivoting is exact enough and keeps numpy out of the runtime dependencies.
    """
    if not rows or len(rows) != len(targets):
        raise ValueError("need one target per row and at least one row")
    design = [(1.0, *row) for row in rows]
    size = len(design[0])
    # Augmented matrix [X'X | X'y].
    matrix = [
        [sum(r[i] * r[j] for r in design) for j in range(size)]
        + [sum(r[i] * t for r, t in zip(design, targets, strict=True))]
        for i in range(size)
    ]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(matrix[r][col]))
        if abs(matrix[pivot][col]) < 1e-12:
            raise ValueError("singular design: an input is constant or collinear")
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        for row in range(size):
            if row != col:
                factor = matrix[row][col] / matrix[col][col]
                matrix[row] = [
                    a - factor * b for a, b in zip(matrix[row], matrix[col], strict=True)
                ]
    solution = [matrix[i][size] / matrix[i][i] for i in range(size)]
    return LinearCalibration(intercept=solution[0], weights=tuple(solution[1:]))


def fit_calibration(
    features: Sequence[AnswerFeatures], targets: Sequence[float], name: str = "fitted"
) -> Calibration:
    """Fit both criterion calibrations to human grades on the 0-5 scale."""
    return Calibration(
        name=name,
        correctness=least_squares([f.correctness_inputs() for f in features], targets),
        completeness=least_squares([f.completeness_inputs() for f in features], targets),
    )


# Rubric criterion names are free text; these words decide which measurement a criterion gets.
# Anything unrecognised gets the overall similarity to the reference (the correctness measure).
_COMPLETENESS_WORDS = frozenset({"completeness", "complete", "coverage", "thoroughness", "depth"})
_CORRECTNESS_WORDS = frozenset({"correctness", "correct", "accuracy", "accurate", "relevance"})


@lru_cache(maxsize=1024)
def _criterion_kind(name: str) -> str:
    """'completeness', 'correctness' or 'overall' for a rubric criterion name."""
    words = set(re.findall(r"[a-z]+", name.lower()))
    if words & _COMPLETENESS_WORDS:
        return "completeness"
    if words & _CORRECTNESS_WORDS:
        return "correctness"
    return "overall"


def percent(grade: float) -> float:
    """A 0-5 grade as a 0-100 score, rounded for stable serialisation."""
    return round(min(100.0, max(0.0, grade * _TO_PERCENT)), 2)


class OfflineScorer:
    """Deterministic lexical scorer implementing the `Scorer` protocol; safe to share."""

    def __init__(self, calibration: Calibration = DEFAULT_CALIBRATION) -> None:
        self._calibration = calibration

    @property
    def name(self) -> str:
        """The scorer name recorded with each evaluation."""
        return OFFLINE_SCORER_NAME

    @property
    def version(self) -> str:
        """The scorer version recorded with each evaluation."""
        return OFFLINE_SCORER_VERSION

    async def score(self, request: ScoringRequest) -> ScoringResult:
        """Score one answer (CPU-bound and fast: well under a millisecond per answer)."""
        return self.score_sync(request)

    def score_sync(self, request: ScoringRequest) -> ScoringResult:
        """Score one answer synchronously; the same request always gives the same result."""
        reason = gate(request.answer, request.question)
        if reason is None and not (request.reference_answer.strip() or request.key_points):
            reason = UnscorableReason.NO_REFERENCE
        if reason is not None:
            return self._unscorable(reason)
        features = extract_features(
            request.question, request.reference_answer, request.answer, request.key_points
        )
        grades, extra = self._grades(request, features)
        criteria = tuple(_criterion(c, features, grades) for c in request.rubric.criteria)
        total_weight = sum(c.weight for c in criteria)
        total = round(sum(c.score * c.weight for c in criteria) / total_weight, 2)
        return ScoringResult(
            outcome=Outcome.SCORED,
            score=total,
            criteria=criteria,
            feedback=_feedback(total, features),
            explanation=_explanation(features, grades) | extra,
            flags=("no_overlap",) if features.recall == 0.0 else (),
            scorer=self.name,
            scorer_version=self.version,
            confidence=extra.get("confidence", {}).get("value"),
            parameters={"calibration": self._calibration_name, "rubric": request.rubric.version},
        )

    @property
    def _calibration_name(self) -> str:
        return self._calibration.name

    def _grades(
        self, request: ScoringRequest, features: AnswerFeatures
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The criterion grades and anything the subclass adds to the explanation."""
        return self._lexical_grades(features), {}

    def _lexical_grades(self, features: AnswerFeatures) -> dict[str, float]:
        """The calibrated 0-100 score of each measurable criterion kind."""
        correctness = percent(self._calibration.correctness.predict(features.correctness_inputs()))
        completeness = percent(
            self._calibration.completeness.predict(features.completeness_inputs())
        )
        return {"correctness": correctness, "completeness": completeness, "overall": correctness}

    def _unscorable(self, reason: UnscorableReason) -> ScoringResult:
        """The result for an answer that gets no score."""
        return ScoringResult(
            outcome=Outcome.UNSCORABLE,
            unscorable_reason=reason.value,
            feedback=_UNSCORABLE_FEEDBACK[reason],
            explanation={"gate": reason.value},
            scorer=self.name,
            scorer_version=self.version,
            parameters={"calibration": self._calibration_name},
        )


def _criterion(
    criterion: Criterion, features: AnswerFeatures, grades: dict[str, float]
) -> CriterionScore:
    """Score one rubric criterion with the measurement its name maps to."""
    kind = _criterion_kind(criterion.name)
    score = grades[kind]
    if kind == "completeness":
        found = [m.text for m in features.key_points if m.found]
        rationale = f"Covers {len(found)} of {len(features.key_points)} key points."
        evidence = tuple(found)
    else:
        rationale = (
            f"Matches {len(features.matched_terms)} of "
            f"{len(features.matched_terms) + len(features.missed_terms)} reference terms "
            f"(recall {features.recall:.2f}, precision {features.precision:.2f})."
        )
        evidence = features.matched_terms
    return CriterionScore(
        name=criterion.name,
        score=score,
        weight=criterion.weight,
        rationale=rationale,
        evidence=evidence,
    )


_UNSCORABLE_FEEDBACK = {
    UnscorableReason.EMPTY: "No answer was given.",
    UnscorableReason.TOO_SHORT: "The answer is too short to assess.",
    UnscorableReason.NO_ANSWER: "The candidate declined to answer.",
    UnscorableReason.GIBBERISH: "The answer does not read as text that could be assessed.",
    UnscorableReason.COPIES_QUESTION: "The answer only restates the question.",
    UnscorableReason.NO_REFERENCE: "There is no reference answer or key point to compare with.",
}


def _feedback(total: float, features: AnswerFeatures) -> str:
    """Readable feedback: an overall verdict, then which key points are covered or missing."""
    if total >= 80:
        verdict = "Strong answer: it agrees closely with the expected answer."
    elif total >= 60:
        verdict = "Mostly correct answer with some gaps."
    elif total >= 40:
        verdict = "Partially correct answer."
    else:
        verdict = "The answer largely misses the expected answer."
    found = [m.text for m in features.key_points if m.found]
    missed = [m.text for m in features.key_points if not m.found]
    parts = [verdict]
    if found:
        parts.append("Covered: " + "; ".join(found) + ".")
    if missed:
        parts.append("Missing or unclear: " + "; ".join(missed) + ".")
    return " ".join(parts)


def _explanation(features: AnswerFeatures, grades: dict[str, float]) -> dict[str, Any]:
    """A JSON-serialisable account of the measurements behind the score."""
    return {
        "similarity": {
            "recall": round(features.recall, 4),
            "precision": round(features.precision, 4),
            "key_point_coverage": round(features.key_point_coverage, 4),
            "answer_length_log": round(features.length, 4),
        },
        "key_points": {
            "source": "derived_from_reference" if features.key_points_derived else "request",
            "found": [m.text for m in features.key_points if m.found],
            "missed": [m.text for m in features.key_points if not m.found],
            "items": [
                {"text": m.text, "coverage": round(m.coverage, 4), "found": m.found}
                for m in features.key_points
            ],
        },
        "reference_terms": {
            "matched": list(features.matched_terms),
            "missed": list(features.missed_terms),
        },
        "criterion_grades": {
            "correctness": grades["correctness"],
            "completeness": grades["completeness"],
        },
    }
