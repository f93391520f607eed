"""The offline scorer: protocol, determinism, rubric handling, explanations and feedback."""

from __future__ import annotations

import math

import pytest
from interview_evaluator.offline_scorer import (
    DEFAULT_CALIBRATION,
    OFFLINE_SCORER_VERSION,
    AnswerFeatures,
    OfflineScorer,
    content_terms,
    derive_key_points,
    extract_features,
    fit_calibration,
    stem,
)
from interview_evaluator.scoring import (
    Criterion,
    Outcome,
    Rubric,
    Scorer,
    ScoringRequest,
)

QUESTION = "What is a pointer?"
REFERENCE = "A variable that contains the address in memory of another variable."
GOOD = "A pointer is a variable holding the memory address of another variable."
PARTIAL = "It holds an address in memory."
WRONG = "A loop that repeats a block of statements until a condition becomes false."


def request(answer: str, **overrides: object) -> ScoringRequest:
    fields: dict[str, object] = {
        "answer_id": "a1",
        "question": QUESTION,
        "reference_answer": REFERENCE,
        "answer": answer,
    }
    fields.update(overrides)
    return ScoringRequest.model_validate(fields)


@pytest.fixture
def scorer() -> OfflineScorer:
    return OfflineScorer()


def test_implements_the_scorer_protocol(scorer: OfflineScorer) -> None:
    port: Scorer = scorer
    assert port.name == "offline"
    assert scorer.version == OFFLINE_SCORER_VERSION


async def test_async_score_matches_sync(scorer: OfflineScorer) -> None:
    assert await scorer.score(request(GOOD)) == scorer.score_sync(request(GOOD))


def test_deterministic_across_calls_and_instances(scorer: OfflineScorer) -> None:
    first = scorer.score_sync(request(GOOD)).model_dump()
    assert scorer.score_sync(request(GOOD)).model_dump() == first
    assert OfflineScorer().score_sync(request(GOOD)).model_dump() == first


def test_scored_result_carries_lineage(scorer: OfflineScorer) -> None:
    result = scorer.score_sync(request(GOOD))
    assert result.outcome is Outcome.SCORED
    assert result.scorer == "offline"
    assert result.scorer_version == OFFLINE_SCORER_VERSION
    assert result.parameters["calibration"] == DEFAULT_CALIBRATION.name
    assert result.unscorable_reason is None


def test_better_answers_score_higher(scorer: OfflineScorer) -> None:
    scores = [scorer.score_sync(request(a)).score for a in (GOOD, PARTIAL, WRONG)]
    assert None not in scores
    good, partial, wrong = (s or 0.0 for s in scores)
    assert good > partial > wrong
    assert wrong >= 0.0
    assert good <= 100.0


def test_restating_the_question_earns_nothing(scorer: OfflineScorer) -> None:
    # Question demoting: "pointer" is in the question, so it is not evidence of an answer.
    restated = scorer.score_sync(request("A pointer is a kind of pointer."))
    assert restated.explanation["similarity"]["recall"] == 0.0
    assert "no_overlap" in restated.flags


def test_explanation_names_key_points_and_figures(scorer: OfflineScorer) -> None:
    result = scorer.score_sync(
        request(
            "The data members of the class.",
            question="What is typically included in a class definition?",
            reference_answer="Data members (attributes) and member functions.",
        )
    )
    explanation = result.explanation
    assert set(explanation["similarity"]) >= {"recall", "precision", "key_point_coverage"}
    key_points = explanation["key_points"]
    assert key_points["source"] == "derived_from_reference"
    assert key_points["found"] == ["Data members"]
    assert key_points["missed"] == ["attributes", "member functions"]
    assert "data" in explanation["reference_terms"]["matched"]
    assert "Covered: Data members." in result.feedback
    assert "Missing or unclear: attributes; member functions." in result.feedback


def test_given_key_points_are_used(scorer: OfflineScorer) -> None:
    result = scorer.score_sync(
        request(PARTIAL, key_points=("holds a memory address", "is itself a variable"))
    )
    key_points = result.explanation["key_points"]
    assert key_points["source"] == "request"
    assert key_points["found"] == ["holds a memory address"]
    assert key_points["missed"] == ["is itself a variable"]
    assert "is itself a variable" in result.feedback


def test_key_points_alone_are_enough(scorer: OfflineScorer) -> None:
    result = scorer.score_sync(request(GOOD, reference_answer="", key_points=("memory address",)))
    assert result.outcome is Outcome.SCORED


def test_nothing_to_compare_with_is_unscorable(scorer: OfflineScorer) -> None:
    result = scorer.score_sync(request(GOOD, reference_answer=""))
    assert result.outcome is Outcome.UNSCORABLE
    assert result.unscorable_reason == "no_reference"


@pytest.mark.parametrize(("answer", "reason"), [("", "empty"), ("asdfghjkl", "gibberish")])
def test_gated_answers_get_no_score(scorer: OfflineScorer, answer: str, reason: str) -> None:
    result = scorer.score_sync(request(answer))
    assert result.outcome is Outcome.UNSCORABLE
    assert result.score is None
    assert result.criteria == ()
    assert result.unscorable_reason == reason
    assert result.feedback


def test_total_is_the_weighted_mean_of_criteria(scorer: OfflineScorer) -> None:
    rubric = Rubric(
        version="v7",
        criteria=(
            Criterion(name="Correctness", weight=3.0),
            Criterion(name="completeness", weight=1.0),
            Criterion(name="clarity", weight=2.0),
        ),
    )
    result = scorer.score_sync(request(PARTIAL, rubric=rubric))
    assert [c.name for c in result.criteria] == ["Correctness", "completeness", "clarity"]
    assert [c.weight for c in result.criteria] == [3.0, 1.0, 2.0]
    expected = sum(c.score * c.weight for c in result.criteria) / 6.0
    assert result.score == pytest.approx(expected, abs=0.01)
    assert result.parameters["rubric"] == "v7"


def test_weights_move_the_total(scorer: OfflineScorer) -> None:
    def total(correctness: float, completeness: float) -> float:
        rubric = Rubric(
            criteria=(
                Criterion(name="correctness", weight=correctness),
                Criterion(name="completeness", weight=completeness),
            )
        )
        result = scorer.score_sync(request(PARTIAL, rubric=rubric))
        assert result.score is not None
        return result.score

    result = scorer.score_sync(request(PARTIAL))
    by_name = {c.name: c.score for c in result.criteria}
    assert by_name["correctness"] != by_name["completeness"]
    assert total(1.0, 1e-6) == pytest.approx(by_name["correctness"], abs=0.01)
    assert total(1e-6, 1.0) == pytest.approx(by_name["completeness"], abs=0.01)


def test_unknown_criteria_get_the_overall_similarity(scorer: OfflineScorer) -> None:
    rubric = Rubric(criteria=(Criterion(name="correctness"), Criterion(name="communication")))
    result = scorer.score_sync(request(PARTIAL, rubric=rubric))
    correctness, communication = result.criteria
    assert communication.score == correctness.score
    assert communication.rationale


def test_stemming_and_number_words() -> None:
    assert stem("declaration") == stem("declared") == stem("declaring")
    assert stem("functions") == stem("function")
    assert content_terms("One of the two") == ["1", "2"]
    assert "not" in content_terms("not all")  # negations and quantifiers are content


def test_misspellings_match_softly() -> None:
    features = extract_features("How are arrays passed?", "By reference.", "by refrence")
    assert 0.5 <= features.recall < 1.0


def test_derived_key_points_skip_question_only_phrases() -> None:
    points = derive_key_points(
        "Data members (attributes) and member functions.", "What is in a class definition?"
    )
    assert points == ("Data members", "attributes", "member functions")


def test_fit_calibration_recovers_a_linear_rule() -> None:
    def features(recall: float, precision: float, length: float) -> AnswerFeatures:
        return AnswerFeatures(
            recall=recall,
            precision=precision,
            length=length,
            key_point_coverage=recall,
            key_points=(),
            key_points_derived=True,
            matched_terms=(),
            missed_terms=(),
        )

    grid = [
        features(r, p, ln)
        for r in (0.0, 0.25, 0.5, 1.0)
        for p in (0.0, 0.5, 1.0)
        for ln in (0.5, 1.5, 2.0)
    ]
    targets = [1.0 + 2.0 * math.sqrt(f.recall) + 0.5 * f.precision + 0.25 * f.length for f in grid]
    fitted = fit_calibration(grid, targets).correctness
    assert fitted.intercept == pytest.approx(1.0)
    assert fitted.weights == pytest.approx((2.0, 0.5, 0.25))
