"""Human-graded example answers for the LLM judge: a port, its in-memory bank, and loaders.

Per question the judge is shown up to k answers a human has graded, chosen by similarity to the
answer being judged (nearest first), with their grades; they travel in `ScoringRequest.examples`
and reach the model as delimited data, never as instructions. Sources: the golden data
(`load_golden_examples`), and human grades recorded by the product (`POST
/api/v1/evaluations/{id}/reviews`), which `review_reports.ReviewFollowUp` adds as they arrive.

Examples are keyed by the question's text as the answer saw it (the snapshot), so an edited
question does not borrow grades given against its old wording.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from interview_shared.embeddings import Embedder, cosine, default_embedder

from interview_evaluator.scoring import GradedExample, ScoringRequest

__all__ = ["ExampleBank", "GradedExample", "MemoryExampleBank", "load_golden_examples"]


class ExampleBank(Protocol):
    """Where the judge finds graded examples."""

    def select(self, request: ScoringRequest, k: int) -> tuple[GradedExample, ...]:
        """Up to k graded answers to the request's question, most similar to its answer first,
        never the answer itself."""
        ...


def _key(question: str) -> str:
    return " ".join(question.split()).casefold()


class MemoryExampleBank:
    """Graded examples in memory, ranked with sentence embeddings."""

    def __init__(
        self,
        examples: Iterable[tuple[str, GradedExample]] = (),
        *,
        embedder: Embedder | None = None,
    ) -> None:
        self._by_question: defaultdict[str, list[GradedExample]] = defaultdict(list)
        self._embedder = embedder or default_embedder()
        for question, example in examples:
            self.add(question, example)

    def add(self, question: str, example: GradedExample) -> None:
        """Record one graded answer to `question` (golden data or a human review); a new grade
        of an answer already held replaces it (a person corrected the grade)."""
        held = self._by_question[_key(question)]
        held[:] = [e for e in held if e.answer_id != example.answer_id]
        held.append(example)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_question.values())

    def select(self, request: ScoringRequest, k: int) -> tuple[GradedExample, ...]:
        """The k examples nearest to the answer; ties keep insertion order."""
        pool = [
            e
            for e in self._by_question.get(_key(request.question), ())
            if e.answer_id != request.answer_id and e.answer.strip() != request.answer.strip()
        ]
        if not pool or k <= 0:
            return ()
        vectors = self._embedder.embed([request.answer, *(e.answer for e in pool)])
        scores = [cosine(vectors[0], v) for v in vectors[1:]]
        order = sorted(range(len(pool)), key=lambda i: -scores[i])[:k]
        return tuple(pool[i] for i in order)


def load_golden_examples(path: Path, *, scale_max: float = 5.0) -> list[tuple[str, GradedExample]]:
    """(question, example) pairs from a golden JSONL file; grades rescaled to 0-100."""
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            pairs.append(
                (
                    str(row["question"]),
                    GradedExample(
                        answer_id=f"{row['question_id']}/{row['answer_index']}",
                        answer=str(row["answer"]),
                        score=round(float(row["score_human"]) * 100.0 / scale_max, 2),
                        source="golden",
                    ),
                )
            )
    return pairs


def examples_for(
    bank: ExampleBank | None, request: ScoringRequest, k: int
) -> Sequence[GradedExample]:
    """The request's own examples if it carries some, else the bank's selection."""
    if request.examples or bank is None:
        return request.examples
    return bank.select(request, k)
