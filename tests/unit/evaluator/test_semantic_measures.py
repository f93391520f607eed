"""The semantic scorer's similarity measures (2.1.0: sentence coverage; 2.0.0: whole cosine)."""

from __future__ import annotations

from interview_evaluator.semantic_scorer import (
    MAX_SENTENCES,
    sentence_coverage,
    sentences,
    whole_cosine,
)
from interview_shared.embeddings import default_embedder

REFERENCE = "A deadlock is when two processes each wait for a resource the other one holds."


def test_sentences_split_on_ends_and_drop_fragments() -> None:
    text = "Yes. A stack is last in first out; a queue is first in first out.\nOK"
    assert sentences(text) == ["A stack is last in first out;", "a queue is first in first out."]


def test_a_text_without_a_full_sentence_is_its_own_sentence() -> None:
    assert sentences("LIFO.") == ["LIFO."]


def test_sentences_are_capped() -> None:
    assert len(sentences("one two three. " * (MAX_SENTENCES + 5))) == MAX_SENTENCES


def test_one_sentence_each_is_the_whole_text_cosine() -> None:
    embedder = default_embedder()
    answer = "Two programs are stuck waiting on locks held by each other."
    assert sentence_coverage(embedder, answer, REFERENCE) == whole_cosine(
        embedder, answer, REFERENCE
    )


def test_a_right_sentence_is_not_diluted_by_unrelated_ones() -> None:
    embedder = default_embedder()
    answer = (
        "I studied operating systems last year and liked the course a lot. "
        "Two processes wait forever for resources that the other one holds. "
        "The lecturer also talked about file systems and memory pages."
    )
    assert sentence_coverage(embedder, answer, REFERENCE) > whole_cosine(
        embedder, answer, REFERENCE
    )
