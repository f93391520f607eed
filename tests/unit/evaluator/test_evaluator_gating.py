"""Unscorable gating: what is rejected, and that terse real answers are not."""

from __future__ import annotations

import pytest
from interview_evaluator.gating import UnscorableReason, gate

QUESTION = "What is the difference between a constructor and a function?"


def test_reason_codes_are_stable() -> None:
    # Stored with evaluations: renaming one would orphan history.
    assert {r.value for r in UnscorableReason} == {
        "empty",
        "too_short",
        "no_answer",
        "gibberish",
        "copies_question",
        "no_reference",
    }


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", UnscorableReason.EMPTY),
        ("   \n\t", UnscorableReason.EMPTY),
        ("?", UnscorableReason.TOO_SHORT),
        ("a", UnscorableReason.TOO_SHORT),
        ("x.", UnscorableReason.TOO_SHORT),
        ("not answered", UnscorableReason.NO_ANSWER),
        ("NO ANSWER", UnscorableReason.NO_ANSWER),
        ("I don't know.", UnscorableReason.NO_ANSWER),
        ("N/A", UnscorableReason.NO_ANSWER),
        ("asdfghjkl", UnscorableReason.GIBBERISH),
        ("qwerty uiop", UnscorableReason.GIBBERISH),
        ("ASDFGH", UnscorableReason.GIBBERISH),
        ("aaaaaaaaaa", UnscorableReason.GIBBERISH),
        ("xzqwkrtp vbnmxx", UnscorableReason.GIBBERISH),
        ("lol lol lol lol lol", UnscorableReason.GIBBERISH),
        ("!!!!!!!!", UnscorableReason.GIBBERISH),
        (QUESTION, UnscorableReason.COPIES_QUESTION),
        ("the difference between a constructor and a function", UnscorableReason.COPIES_QUESTION),
        ("Differences between constructors and functions.", UnscorableReason.COPIES_QUESTION),
    ],
)
def test_unscorable_answers_are_gated(answer: str, reason: UnscorableReason) -> None:
    assert gate(answer, QUESTION) is reason


@pytest.mark.parametrize(
    ("answer", "question"),
    [
        ("O(n log n)", "What is the complexity of merge sort?"),
        ("a pointer", "What does the new operator return?"),
        ("1", "How many base cases does this recursion need?"),
        ("n-1", "How many comparisons does insertion sort make on a sorted array?"),
        ("*(array + index)", "How can an array be addressed in pointer/offset notation?"),
        ("&b[3] bPtr + 3", "How can an array be addressed in pointer/offset notation?"),
        ("std::vector<int>", "Which container would you use?"),
        ("Int main()", "Where do C++ programs begin to execute?"),
        ("main", "Where do C++ programs begin to execute?"),
        ("by refrence", "How are arrays passed to functions?"),
        ("Arrays are passed to functions by reference.", "How are arrays passed to functions?"),
        ("a pointer to a function", "What is a function pointer?"),
        ("a constructor has no return type, unlike a function", QUESTION),
        ("None", "What does a void function return?"),
        ("rhythm strengths", "Name two words."),
    ],
)
def test_short_legitimate_answers_pass(answer: str, question: str) -> None:
    assert gate(answer, question) is None


def test_copy_check_needs_a_question() -> None:
    assert gate(QUESTION) is None


def test_declining_inside_a_longer_answer_is_an_answer() -> None:
    assert gate("I don't know the name, but it runs the body at least once", QUESTION) is None
