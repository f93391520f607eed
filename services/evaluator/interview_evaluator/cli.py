"""Command line for the offline scorer: score files, benchmark against human grades, calibrate.

    python -m interview_evaluator.cli score IN.jsonl OUT.jsonl
    python -m interview_evaluator.cli bench-judge [--golden PATH]
    python -m interview_evaluator.cli calibrate [--golden PATH]
    python -m interview_evaluator.cli rescore --rubric RUBRIC.json [--since T] [--interview ID]

The golden (human-graded) file is read by path and never copied into the repository. Its path is,
in order: `--golden`, `$GOLDEN_DIR/mohler-dev.jsonl`, then `../shared/golden/mohler-dev.jsonl`
relative to the repository root (and to the working directory).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interview_evaluator.agreement import (
    GoldenItem,
    default_golden_path,
    fit_on,
    golden_features,
    load_golden,
)
from interview_evaluator.judge_report import (
    ExamplesOption,
    GoldenOption,
    JudgeOption,
    linear_code,
    run_bench,
    semantic_calibration_code,
)
from interview_evaluator.offline_scorer import DEFAULT_CALIBRATION, OfflineScorer
from interview_evaluator.rescore_cli import rescore
from interview_evaluator.scoring import Outcome, ScoringRequest
from interview_evaluator.semantic_scorer import offline_scorer
from interview_evaluator.settings import EvaluatorSettings

__all__ = ["app"]

EXIT_BAD_INPUT = 2

app = typer.Typer(help="Offline scorer: score answers and benchmark against human grades.")


def _load_golden_or_exit(golden: Path | None) -> list[GoldenItem]:
    """Load the golden file for a command, exiting with a clear message when it is unusable."""
    path = golden or default_golden_path()
    if not path.is_file():
        _fail(f"golden file not found: {path} (use --golden or set GOLDEN_DIR)")
    try:
        return load_golden(path)
    except ValueError as error:
        _fail(str(error))


@app.command("bench-judge")
def bench_judge(
    golden: GoldenOption = None,
    judge: JudgeOption = "offline",
    examples_k: ExamplesOption = 3,
) -> None:
    """Agreement of every scorer with human grades: CV, fresh split, bands, review policy."""
    if judge not in ("offline", "llm"):
        _fail(f"--judge must be offline or llm, not {judge!r}")
    run_bench(_load_golden_or_exit(golden), judge=judge, examples_k=examples_k)  # type: ignore[arg-type]


@app.command()
def calibrate(
    golden: GoldenOption = None,
    scorer: Annotated[str, typer.Option(help="lexical (v1) or semantic (v2).")] = "lexical",
) -> None:
    """Fit the global calibration on the golden file and print it as Python code to commit."""
    items = _load_golden_or_exit(golden)
    if scorer == "semantic":
        typer.echo(semantic_calibration_code(items))
        return
    fitted = fit_on(items, golden_features(items), range(len(items)))
    typer.echo("DEFAULT_CALIBRATION = Calibration(")
    typer.echo(f'    name="{DEFAULT_CALIBRATION.name}",')
    for field in ("correctness", "completeness"):
        typer.echo(f"    {field}={linear_code(getattr(fitted, field))},")
    typer.echo(")")


# ---------------------------------------------------------------------------------------------
# Scoring files.


class ScoreInput(BaseModel):
    """One input line of `score`."""

    model_config = ConfigDict(extra="ignore")

    id: str | int
    question: str
    reference_answer: str
    answer: str
    key_points: list[str] = Field(default_factory=list)


class BadInputError(Exception):
    """An input line that cannot be scored, with its 1-based line number."""

    def __init__(self, line_number: int, problem: str) -> None:
        super().__init__(f"line {line_number}: {problem}")


def _parse_line(line_number: int, line: str) -> ScoreInput:
    """Parse and validate one JSONL line, naming the line in any error."""
    try:
        return ScoreInput.model_validate_json(line)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in error.errors()
        )
        raise BadInputError(line_number, problems) from error


def read_inputs(handle: TextIO) -> list[ScoreInput]:
    """All input lines, validated before any is scored so a bad file writes nothing."""
    return [
        _parse_line(number, line) for number, line in enumerate(handle, start=1) if line.strip()
    ]


def _output_row(item: ScoreInput, scorer: OfflineScorer) -> dict[str, Any]:
    """The output record for one input line."""
    result = scorer.score_sync(
        ScoringRequest(
            answer_id=str(item.id),
            question=item.question,
            reference_answer=item.reference_answer,
            answer=item.answer,
            key_points=tuple(item.key_points),
        )
    )
    return {
        "id": item.id,
        "score": result.score,
        "outcome": result.outcome.value,
        "reason": result.unscorable_reason if result.outcome is Outcome.UNSCORABLE else None,
        "feedback": result.feedback,
        "explanation": result.explanation,
    }


@contextmanager
def _open(path: Path, *, write: bool) -> Iterator[TextIO]:
    """Open a file for reading or writing, or standard input/output for "-"."""
    if str(path) == "-":
        yield sys.stdout if write else sys.stdin
    elif write:
        with path.open("w", encoding="utf-8") as handle:
            yield handle
    else:
        with path.open(encoding="utf-8") as handle:
            yield handle


def _fail(message: str) -> NoReturn:
    """Report a usage or input error and exit with code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def score(
    in_path: Annotated[Path, typer.Argument(metavar="IN", help="Input JSONL ('-' for stdin).")],
    out_path: Annotated[Path, typer.Argument(metavar="OUT", help="Output JSONL ('-' for stdout).")],
) -> None:
    """Score answers with the offline scorer: JSONL in, JSONL out, one line per answer."""
    if str(in_path) != "-" and not in_path.is_file():
        _fail(f"input file not found: {in_path}")
    try:
        with _open(in_path, write=False) as handle:
            items = read_inputs(handle)
    except BadInputError as error:
        _fail(f"{in_path}: {error}")
    scorer = offline_scorer(EvaluatorSettings().offline_scorer)
    with _open(out_path, write=True) as out:
        for item in items:
            out.write(json.dumps(_output_row(item, scorer), ensure_ascii=False) + "\n")


app.command()(rescore)


if __name__ == "__main__":
    app()
