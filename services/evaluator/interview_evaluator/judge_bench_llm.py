"""`bench-judge --judge llm`: the LLM judge, with graded examples, against human grades.

Needs OPENAI_API_KEY (and OPENAI_BASE_URL/OPENAI_MODEL as in the service); it calls the real
model once per golden answer, so it costs money and is never run by the tests. Each answer is
shown up to k other answers to the same question from the golden file, nearest first, with their
human grades (leave-one-answer-out: an answer never sees its own grade).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from interview_shared.embeddings import Embedder

from interview_evaluator.agreement import GoldenItem, golden_request
from interview_evaluator.agreement_bands import FullFigures
from interview_evaluator.examples import MemoryExampleBank
from interview_evaluator.judge_settings import build_judge
from interview_evaluator.scoring import GradedExample, ScoringRequest
from interview_evaluator.settings import EvaluatorSettings

__all__ = ["golden_bank", "llm_figures"]

_CONCURRENCY = 8


class NoApiKeyError(RuntimeError):
    """`--judge llm` without OPENAI_API_KEY."""


def golden_bank(items: Sequence[GoldenItem], embedder: Embedder) -> MemoryExampleBank:
    """Every golden answer as a graded example of its question (ids match `golden_request`)."""
    return MemoryExampleBank(
        (
            (
                item.question,
                GradedExample(
                    answer_id=golden_request(item, i).answer_id,
                    answer=item.answer,
                    score=round(item.score_human * 20.0, 2),
                ),
            )
            for i, item in enumerate(items)
        ),
        embedder=embedder,
    )


async def llm_figures(items: Sequence[GoldenItem], *, embedder: Embedder, k: int) -> FullFigures:
    """Score every golden answer with the configured LLM judge and k graded examples."""
    settings = EvaluatorSettings(judge_examples_k=k)
    judge = build_judge(settings)
    if judge is None:
        raise NoApiKeyError("--judge llm needs OPENAI_API_KEY (and a reachable endpoint)")
    bank = golden_bank(items, embedder)
    limit = asyncio.Semaphore(_CONCURRENCY)

    async def grade(request: ScoringRequest) -> float:
        async with limit:
            chosen = bank.select(request, k)
            result = await judge.score(request.model_copy(update={"examples": chosen}))
        return 0.0 if result.score is None else result.score / 20.0

    try:
        requests = [golden_request(item, i) for i, item in enumerate(items)]
        grades = await asyncio.gather(*(grade(r) for r in requests))
    finally:
        await judge.aclose()
    return FullFigures.of(list(grades), [item.score_human for item in items])
