"""Pinned outputs of the offline scorer and the gate: optimisations must not move a byte.

Scores are only comparable within one `OFFLINE_SCORER_VERSION`; any change that alters these
digests is a scoring change and must bump the version (and regenerate the pins deliberately).
"""

from __future__ import annotations

import hashlib
import json
import random
import string

from interview_evaluator.gating import gate
from interview_evaluator.offline_scorer import OFFLINE_SCORER_VERSION, OfflineScorer
from interview_evaluator.scoring import Criterion, Rubric, ScoringRequest
from interview_evaluator.semantic_scorer import SEMANTIC_SCORER_VERSION, SemanticScorer

_MUTEX_Q = "What is a mutex?"
_MUTEX_REF = "A lock giving mutual exclusion: one thread at a time in the critical section."
_PTR_Q = "What is a pointer?"
_PTR_REF = "A variable that contains the address in memory of another variable."
_DLL_Q = "What is the main advantage of a doubly linked list over a basic linked list?"
_DLL_REF = (
    "All the deletion and insertion operations can be performed in constant time, including "
    "those operations performed before a given location in the list or at the end of it."
)

# (question, reference answer, answer, key points)
CASES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (_MUTEX_Q, _MUTEX_REF, "Only one thread at a time can hold the lock.", ()),
    (_MUTEX_Q, _MUTEX_REF, "A lock for mutual exclusion.", ("mutual exclusion", "one thread")),
    (_MUTEX_Q, _MUTEX_REF, "A loop that repeats until a condition is false.", ()),
    (_PTR_Q, _PTR_REF, "A pointer is a variable holding the memory address of another one.", ()),
    (_PTR_Q, _PTR_REF, "It holds an adress in memmory.", ()),
    (_PTR_Q, _PTR_REF, "bPtr = &b[3]; *(bPtr + 1)", ()),
    (_PTR_Q, "", "A variable storing an address.", ("address", "another variable")),
    (_PTR_Q, "", "A variable storing an address.", ()),
    (_DLL_Q, _DLL_REF, "You can go backwards and delete before a node in O(1).", ()),
    (_DLL_Q, _DLL_REF, "Two pointers per node, so insertion and deletion are constant time.", ()),
    (_DLL_Q, _DLL_REF, "the main advantage of a doubly linked list over a basic linked list", ()),
    (_DLL_Q, _DLL_REF, "", ()),
    (_DLL_Q, _DLL_REF, "?", ()),
    (_DLL_Q, _DLL_REF, "I don't know.", ()),
    (_DLL_Q, _DLL_REF, "asdf qwer zxcv", ()),
    (_DLL_Q, _DLL_REF, "lol lol lol lol", ()),
    (_DLL_Q, _DLL_REF, "xzqwkrtp vbnmxx", ()),
    (_DLL_Q, _DLL_REF, "Theeeee list is goooood", ()),
    (_DLL_Q, _DLL_REF, "O(n log n)", ()),
    (_DLL_Q, _DLL_REF, "1", ()),
    (_DLL_Q, _DLL_REF, "One, two, three: first the head, then twice the tail.", ()),
)

_RUBRIC = Rubric(
    version="pin",
    criteria=(
        Criterion(name="correctness", weight=2.0),
        Criterion(name="completeness"),
        Criterion(name="style"),
    ),
)


def _requests() -> list[ScoringRequest]:
    requests = []
    for i, (question, reference, answer, key_points) in enumerate(CASES):
        for rubric in (Rubric(), _RUBRIC):
            requests.append(
                ScoringRequest(
                    answer_id=str(i),
                    question=question,
                    answer=answer,
                    reference_answer=reference,
                    key_points=key_points,
                    rubric=rubric,
                )
            )
    return requests


def score_digest() -> str:
    """SHA-256 of every result's JSON, in order."""
    scorer = OfflineScorer()
    digest = hashlib.sha256()
    for request in _requests():
        digest.update(scorer.score_sync(request).model_dump_json().encode())
    return digest.hexdigest()


def gate_corpus() -> list[str]:
    """Tokens and texts that exercise every gibberish rule, generated from a fixed seed."""
    rng = random.Random(20250101)
    alphabets = (string.ascii_lowercase, "asdfghjklqwertzxcvbnm", "aeiouy", "bcdfghjklmnpqrstvwxz")
    texts = []
    for _ in range(3000):
        words = []
        for _ in range(rng.randint(1, 6)):
            alphabet = rng.choice(alphabets)
            word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
            if rng.random() < 0.2:
                word = word.capitalize() if rng.random() < 0.5 else word.upper()
            if rng.random() < 0.1:
                word = word[:1] + word[1:2].upper() + word[2:]
            words.append(word)
        sep = rng.choice((" ", " ", ", ", "-", " 42 ", "!? "))
        texts.append(sep.join(words))
    return texts


def gate_digest() -> str:
    """SHA-256 of the gate's verdict on every corpus text."""
    question = "What is the difference between a stack and a queue?"
    verdicts = [str(gate(text, question)) for text in gate_corpus()]
    return hashlib.sha256(json.dumps(verdicts).encode()).hexdigest()


def test_the_scorer_version_is_the_one_pinned() -> None:
    assert OFFLINE_SCORER_VERSION == "1.0.0"


def test_offline_scores_are_byte_identical_to_the_pinned_ones() -> None:
    # Re-pinned when ScoringResult gained `confidence` (null for v1): the digest without that
    # field is still the 1.0.0 pin fa5f419b..., so no v1 score moved and the version stays.
    assert score_digest() == "8efe569dfb354b911422eaa0babcaa217bb0f0ab06d1fa33f044ebc00907d8fe"


def test_the_semantic_scorer_version_is_the_one_pinned() -> None:
    assert SEMANTIC_SCORER_VERSION == "2.1.0"


def test_a_handful_of_semantic_scores_are_the_pinned_ones() -> None:
    # Scores only (rounded to 0.01 by the scorer): the embedding's float32 arithmetic may differ
    # in the last bits between CPUs, so the full JSON (similarity to 6 decimals) is not pinned.
    scorer = SemanticScorer()
    got = [
        (r.outcome.value, r.score, r.unscorable_reason)
        for r in (scorer.score_sync(q) for q in _requests()[::2])
    ]
    assert got == PINNED_SEMANTIC_SCORES
    assert all(r.confidence is not None for r in map(scorer.score_sync, _requests()[:6]))


def test_a_handful_of_scores_are_the_pinned_ones() -> None:
    scorer = OfflineScorer()
    got = [
        (r.outcome.value, r.score, r.unscorable_reason)
        for r in (scorer.score_sync(q) for q in _requests()[::2])
    ]
    assert got == PINNED_SCORES


def test_gate_verdicts_are_the_pinned_ones() -> None:
    assert gate_digest() == "5bae796d7b645bb04eb20dc2178b2c3f4270395a64107491c792b4d09d1d49be"


PINNED_SCORES: list[tuple[str, float | None, str | None]] = [
    ("SCORED", 90.14, None),
    ("SCORED", 88.8, None),
    ("SCORED", 63.2, None),
    ("SCORED", 96.22, None),
    ("SCORED", 76.85, None),
    ("SCORED", 63.2, None),
    ("SCORED", 97.86, None),
    ("UNSCORABLE", None, "no_reference"),
    ("SCORED", 79.98, None),
    ("SCORED", 86.88, None),
    ("UNSCORABLE", None, "copies_question"),
    ("UNSCORABLE", None, "empty"),
    ("UNSCORABLE", None, "too_short"),
    ("UNSCORABLE", None, "no_answer"),
    ("UNSCORABLE", None, "gibberish"),
    ("UNSCORABLE", None, "gibberish"),
    ("UNSCORABLE", None, "gibberish"),
    ("UNSCORABLE", None, "gibberish"),
    ("SCORED", 62.17, None),
    ("SCORED", 57.04, None),
    ("SCORED", 64.8, None),
]

# Same answers, semantic v2.1 (DEFAULT_SEMANTIC_CALIBRATION, sentence coverage,
# all-MiniLM-L6-v2-onnx-int8); the gate runs first, so the unscorable verdicts are the same as
# v1's. Re-pinned for 2.1.0 (the semantic input changed from whole-answer cosine).
PINNED_SEMANTIC_SCORES: list[tuple[str, float | None, str | None]] = [
    ("SCORED", 91.33, None),
    ("SCORED", 91.9, None),
    ("SCORED", 61.62, None),
    ("SCORED", 97.64, None),
    ("SCORED", 75.12, None),
    ("SCORED", 62.22, None),
    ("SCORED", 100.0, None),
    *PINNED_SCORES[7:8],
    ("SCORED", 79.51, None),
    ("SCORED", 87.97, None),
    *PINNED_SCORES[10:18],
    ("SCORED", 58.25, None),
    ("SCORED", 51.84, None),
    ("SCORED", 57.9, None),
]
