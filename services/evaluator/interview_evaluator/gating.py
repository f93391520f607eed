"""Unscorable gating: decide, before any scorer runs, that an answer cannot be given a score.

An UNSCORABLE outcome is "no score", not "a low score", so every rule here is deliberately narrow:
a wrong answer must still reach a scorer and be graded as wrong. The rules were checked against
the human-graded development split (see docs/evaluation.md): the only golden answers they gate
are explicit non-answers ("not answered", "NO ANSWER"), which the human graders gave 0. Terse
but real answers such as "1", "O(n log n)", "a pointer" or "by refrence" pass.

The checks are cheap, pure functions of the text, so the gate runs on every answer.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

__all__ = ["UnscorableReason", "gate"]


class UnscorableReason(StrEnum):
    """Stable reason codes; stored with evaluations, so never rename a value."""

    EMPTY = "empty"
    TOO_SHORT = "too_short"
    NO_ANSWER = "no_answer"
    GIBBERISH = "gibberish"
    COPIES_QUESTION = "copies_question"
    # Not about the answer: the request carries nothing to compare it with. Set by scorers that
    # need reference material, kept here so that all reason codes live in one place.
    NO_REFERENCE = "no_reference"


# Whole-answer phrases by which a candidate declines to answer. Matched only against the entire
# normalised answer: "I don't know why the loop exits" is an answer, "I don't know" is not.
_NON_ANSWERS = frozenset(
    {
        "no answer",
        "not answered",
        "unanswered",
        "no response",
        "n a",
        "na",
        "i don t know",
        "i dont know",
        "i do not know",
        "don t know",
        "dont know",
        "idk",
        "no idea",
        "i have no idea",
        "not sure",
        "i m not sure",
        "im not sure",
        "i am not sure",
    }
)

# Function words that say nothing about the topic: used to decide what "content" the answer adds
# beyond the question. Deliberately tiny; this is not the scorer's stopword list.
_FUNCTION_WORDS = frozenset(
    """a an the and or of to in on at by for with from as is are was were be been do does did
    it its this that these those there what which who whom when where why how can could will
    would should shall may might must i you we they he she me my your our their""".split()
)

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_RUN = 4
# Every run of four adjacent keys on one row, in either direction ("asdf", "fdsa").
_KEYBOARD_RUNS = frozenset(
    sequence[start : start + _KEYBOARD_RUN]
    for row in _KEYBOARD_ROWS
    for sequence in (row, row[::-1])
    for start in range(len(sequence) - _KEYBOARD_RUN + 1)
)
_VOWELS = frozenset("aeiouy")
_ALNUM = re.compile(r"[a-z0-9]", re.IGNORECASE)
_ALPHA_TOKEN = re.compile(r"[A-Za-z]+")
_MIXED_CASE = re.compile(r"^[A-Za-z]?[a-z]+[A-Z]")
_WORD_TOKEN = re.compile(r"[a-z0-9]+")
_REPEATED_CHAR = re.compile(r"(.)\1{3,}")
_CONSONANT_RUN = re.compile(r"[^aeiouy]{6,}")

# A real answer of a few words always has some word-like tokens; mashing rarely does. Half is
# well below any golden answer (code fragments have few alphabetic tokens and are exempt).
_MIN_WORDLIKE_SHARE = 0.5
# A copied question covers most of the question's content words and adds none of its own: one
# new word can be the whole answer ("... are passed by reference"), so none may be tolerated.
_MIN_QUESTION_COVERAGE = 0.7
# Below three content words a question is too short to tell restating it from answering it
# ("What is a function pointer?" -> "a pointer to a function" was graded 3.5 of 5).
_MIN_QUESTION_WORDS = 3


def gate(answer: str, question: str = "") -> UnscorableReason | None:
    """Return why `answer` cannot be scored, or None when a scorer should look at it.

    The order matters: cheaper and more certain reasons come first, so an empty answer is
    reported as `empty` rather than as a copy of the question.
    """
    text = answer.strip()
    if not text:
        return UnscorableReason.EMPTY
    if _normalise(text) in _NON_ANSWERS:
        return UnscorableReason.NO_ANSWER
    if _is_too_short(text):
        return UnscorableReason.TOO_SHORT
    if _is_gibberish(text):
        return UnscorableReason.GIBBERISH
    if question and _copies_question(text, question):
        return UnscorableReason.COPIES_QUESTION
    return None


def _normalise(text: str) -> str:
    """Lower-case words joined by single spaces, punctuation dropped ("N/A." -> "n a")."""
    return " ".join(_WORD_TOKEN.findall(text.lower()))


def _is_too_short(text: str) -> bool:
    """Fewer than two letters or digits, unless it is a number ("1" answers "how many?")."""
    alnum = [match.group() for match, _ in zip(_ALNUM.finditer(text), range(2), strict=False)]
    if not alnum:
        # Only punctuation: short ones ("?", "-") are too short, long ones are gibberish.
        return len(text) <= 3
    return len(alnum) < 2 and not alnum[0].isdigit()


def _is_gibberish(text: str) -> bool:
    """Punctuation only, keyboard mashing, or mostly tokens that cannot be words."""
    if not _ALNUM.search(text):
        return True
    tokens = _ALPHA_TOKEN.findall(text)
    if not tokens:
        # Digits and symbols only ("*(a+i)", "n-1"): code or numbers, which are legitimate.
        return False
    if _is_repetitive(tokens):
        return True
    wordlike = sum(len(t) for t in tokens if _is_wordlike(t))
    return wordlike < _MIN_WORDLIKE_SHARE * sum(len(t) for t in tokens)


def _is_repetitive(tokens: list[str]) -> bool:
    """The same token over and over ("test test test test"), which carries no answer."""
    if len(tokens) < 4:
        return False
    return len({token.lower() for token in tokens}) == 1


@lru_cache(maxsize=65536)
def _is_wordlike(token: str) -> bool:
    """Could `token` be an English word or a technical abbreviation?

    Short tokens ("ptr", "std", "n") and camelCase identifiers ("bPtr") are always accepted, since
    abbreviations and code lack vowels. Other tokens must have a vowel, no run of six consonants,
    no character four times in a row and no four keys in a row of the keyboard ("asdf", "qwer").

    Cached: a pure function of the token, and answers share most of their vocabulary.
    """
    if len(token) <= 3 or _MIXED_CASE.match(token):
        return True
    token = token.lower()
    if not _VOWELS.intersection(token):
        return False
    if _REPEATED_CHAR.search(token) or _CONSONANT_RUN.search(token):
        return False
    return not _has_keyboard_run(token)


def _has_keyboard_run(token: str) -> bool:
    """True when `token` holds four consecutive keys of one keyboard row, either direction."""
    return any(
        token[start : start + _KEYBOARD_RUN] in _KEYBOARD_RUNS
        for start in range(len(token) - _KEYBOARD_RUN + 1)
    )


@lru_cache(maxsize=4096)
def _question_words(question: str) -> frozenset[str]:
    """`_content_words` of a question (cached: one question is asked of many candidates)."""
    return frozenset(_content_words(question))


def _content_words(text: str) -> set[str]:
    """Content words with a crude plural fold, so "pointers" restates "pointer"."""
    words = set()
    for word in _WORD_TOKEN.findall(text.lower()):
        if word in _FUNCTION_WORDS:
            continue
        words.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return words


def _copies_question(answer: str, question: str) -> bool:
    """The answer restates most of the question and adds no content word of its own.

    Short questions are left to the scorer: see `_MIN_QUESTION_WORDS`.
    """
    question_words = _question_words(question)
    if len(question_words) < _MIN_QUESTION_WORDS:
        return False
    answer_words = _content_words(answer)
    if not answer_words:
        return False
    if answer_words - question_words:
        return False
    coverage = len(answer_words & question_words) / len(question_words)
    return coverage >= _MIN_QUESTION_COVERAGE
