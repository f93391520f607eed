"""The `bench-judge` command: prints every scorer's agreement with human graders.

Tables: each method under leave-one-assignment-out and leave-one-question-out CV (Pearson,
Spearman, RMSE, QWK and per-band agreement), the committed calibrations on the whole split, the
fresh split, the review policy's split, scoring speed, and (`--judge llm`, real key only) the LLM
judge with graded examples.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Literal

import typer
from interview_shared.embeddings import MiniLmEmbedder, default_embedder
from rich.console import Console
from rich.table import Table

from interview_evaluator.agreement import (
    TIMING_PASSES,
    GoldenItem,
    golden_request,
    offline_grade,
    time_scorer,
)
from interview_evaluator.agreement_bands import BANDS, FullFigures
from interview_evaluator.gating import gate
from interview_evaluator.judge_bench import (
    METHODS,
    Prepared,
    cross_validated,
    fresh_split,
    prepare,
    review_split,
    semantic_scorer_on,
)
from interview_evaluator.offline_scorer import LinearCalibration, OfflineScorer
from interview_evaluator.semantic_scorer import (
    DEFAULT_SEMANTIC_CALIBRATION,
    SemanticScorer,
    sentence_coverage,
    whole_cosine,
)

__all__ = ["run_bench"]

# Published figures on the whole Mohler dataset (2,273 answers), from the golden README.
PUBLISHED = (
    ("Inter-grader agreement", "0.589", "0.592", "-"),
    ("Token-overlap F1", "≈0.44", "-", "-"),
    ("TF-IDF cosine", "≈0.46", "-", "-"),
    ("Mohler 2011 BOW + SVMRank", "0.480", "-", "-"),
    ("Sultan 2016 word alignment", "0.592", "-", "0.887"),
)


def _assignment(item: GoldenItem) -> str:
    return item.group


def _question(item: GoldenItem) -> str:
    return item.question_id


_FOLDS: dict[str, Callable[[GoldenItem], str]] = {
    "leave-1-assignment-out": _assignment,
    "leave-1-question-out": _question,
}


_COLD_SAMPLE = 200


def _table(title: str) -> Table:
    table = Table(title=title)
    for column in ("Scorer", "Pearson", "Spearman", "RMSE", "QWK", *(f"band {b}" for b in BANDS)):
        table.add_column(column)
    table.add_column("n")
    return table


def _row(table: Table, label: str, figures: FullFigures) -> None:
    table.add_row(
        label,
        f"{figures.pearson:.3f}",
        f"{figures.spearman:.3f}",
        f"{figures.rmse:.3f}",
        f"{figures.qwk:.3f}",
        *(band.cell() for band in figures.bands),
        str(figures.n),
    )


def _cv_tables(console: Console, data: Prepared) -> None:
    for label, group_of in _FOLDS.items():
        folds = len({group_of(item) for item in data.items})
        table = _table(f"{label} CV ({folds} folds), {len(data.items)} answers")
        for name, method in METHODS.items():
            _row(table, name, FullFigures.of(cross_validated(data, method, group_of), data.actual))
        console.print(table)


def _committed_table(console: Console, data: Prepared) -> None:
    table = _table("Committed calibrations, fitted on this whole split (optimistic)")
    for name, scorer in (("offline v1", OfflineScorer()), ("semantic v2.1", SemanticScorer())):
        grades = [offline_grade(scorer, golden_request(it, i)) for i, it in enumerate(data.items)]
        _row(table, name, FullFigures.of(grades, data.actual))
    console.print(table)


def _fresh_table(console: Console, data: Prepared) -> None:
    if not any(item.group in ("5", "6") for item in data.items):
        console.print("Fresh split skipped: no assignment 5 or 6 in this file.")
        return
    table = Table(title="Fresh split: fitted on assignments 1-4 only, scored once on 5-6")
    for column in ("Scorer", "CV on 1-4 (LAO) Pearson", "fresh 5-6 Pearson", "gap", "fresh RMSE"):
        table.add_column(column)
    for name, method in METHODS.items():
        split = fresh_split(data, method)
        gap = split.cv.pearson - split.fresh.pearson
        table.add_row(
            name,
            f"{split.cv.pearson:.3f}",
            f"{split.fresh.pearson:.3f}",
            f"{gap:+.3f}",
            f"{split.fresh.rmse:.3f}",
        )
    console.print(table)


def _review_table(console: Console, data: Prepared) -> None:
    split = review_split(data, _FOLDS["leave-1-assignment-out"])
    table = _table("Review policy on semantic v2.1 verdicts (leave-1-assignment-out)")
    _row(table, "kept (confident, not mid-band)", split.kept)
    _row(table, "sent to human review", split.flagged)
    console.print(table)
    share = split.flagged.n / max(1, split.flagged.n + split.kept.n)
    console.print(
        f"Flagged needs_human_review: {split.flagged.n} ({share:.0%}); "
        f"of them low_confidence: {split.low_confidence}."
    )


def _speed(console: Console, items: Sequence[GoldenItem]) -> None:
    requests = [golden_request(item, i) for i, item in enumerate(items)]
    _, timing = time_scorer(OfflineScorer(), requests)
    console.print(
        f"offline v1 speed (one process, median of {TIMING_PASSES} passes): "
        f"{timing.answers_per_second:,.0f} answers/s; per answer p50 {timing.p50_ms:.3f} ms, "
        f"p99 {timing.p99_ms:.3f} ms."
    )
    # A fresh model: every answer is embedded for the first time, as in the service (a
    # question's reference answer is embedded once, then cached).
    sample = requests[:: max(1, len(requests) // _COLD_SAMPLE)]
    for label, measure in (("semantic v2.1", sentence_coverage), ("semantic v2.0", whole_cosine)):
        fresh = MiniLmEmbedder()
        fresh.load()
        cold = SemanticScorer(embedder=fresh, measure=measure)
        wall: list[float] = []
        cpu: list[float] = []
        for request in sample:
            before, before_cpu = time.perf_counter(), time.process_time()
            cold.score_sync(request)
            wall.append((time.perf_counter() - before) * 1000.0)
            cpu.append((time.process_time() - before_cpu) * 1000.0)
        console.print(
            f"{label} speed, answers never seen (n={len(sample)}, one inference thread, model "
            f"load excluded): wall p50 {_pct(wall, 0.5):.1f} ms, p99 {_pct(wall, 0.99):.1f} ms; "
            f"CPU p50 {_pct(cpu, 0.5):.1f} ms, p99 {_pct(cpu, 0.99):.1f} ms "
            f"(CPU time is what a loaded machine does not inflate)."
        )


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_bench(
    items: Sequence[GoldenItem], *, judge: Literal["offline", "llm"], examples_k: int
) -> None:
    """Print every table of the benchmark for these golden items."""
    console = Console(width=max(Console().width, 140))
    started = time.perf_counter()
    embedder = default_embedder()
    embedder.load()
    console.print(f"Embedding model loaded in {time.perf_counter() - started:.2f} s.")
    data = prepare(items, embedder)
    _cv_tables(console, data)
    _committed_table(console, data)
    _fresh_table(console, data)
    _review_table(console, data)
    gated = Counter(
        str(gate(it.answer, it.question))
        for it, f in zip(items, data.features, strict=True)
        if f is None
    )
    console.print(
        "Cells of band columns: share of the humans' band the scorer agrees with / mean absolute "
        "error (0-5). Answers the gate rejects count as 0 for v1 and v2.\n"
        f"Gated as unscorable: {sum(gated.values())} "
        f"({', '.join(f'{k}={v}' for k, v in sorted(gated.items())) or 'none'})"
    )
    _speed(console, items)
    console.print(
        "Published, on the whole dataset (2,273 answers; Pearson / Spearman / RMSE): "
        + "; ".join(f"{label} {p} / {s} / {r}" for label, p, s, r in PUBLISHED)
    )
    if judge == "llm":
        from interview_evaluator.judge_bench_llm import NoApiKeyError, llm_figures

        try:
            figures = asyncio.run(llm_figures(items, embedder=embedder, k=examples_k))
        except NoApiKeyError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from error
        table = _table(f"LLM judge with up to {examples_k} graded examples per question")
        _row(table, "llm-judge", figures)
        console.print(table)


def linear_code(linear: LinearCalibration) -> str:
    """A calibration as the Python expression to commit."""
    weights = ", ".join(f"{w:.4f}" for w in linear.weights)
    return f"LinearCalibration(intercept={linear.intercept:.4f}, weights=({weights},))"


def semantic_calibration_code(items: Sequence[GoldenItem]) -> str:
    """`DEFAULT_SEMANTIC_CALIBRATION`, fitted on every scorable item, as code to commit."""
    data = prepare(items, default_embedder())
    scorer = semantic_scorer_on(data, range(len(items)))
    fitted = scorer.calibration
    lines = [
        "DEFAULT_SEMANTIC_CALIBRATION = SemanticCalibration(",
        f'    name="{DEFAULT_SEMANTIC_CALIBRATION.name}",',
        *(
            f"    {field}={linear_code(getattr(fitted, field))},"
            for field in ("correctness", "completeness", "semantic_only")
        ),
        ")",
    ]
    return "\n".join(lines)


JudgeOption = Annotated[
    str, typer.Option("--judge", help="offline (default) or llm (needs OPENAI_API_KEY).")
]
ExamplesOption = Annotated[int, typer.Option(help="Graded examples per answer for --judge llm.")]
GoldenOption = Annotated[
    Path | None, typer.Option(help="Golden JSONL file (default: see module docs).")
]
