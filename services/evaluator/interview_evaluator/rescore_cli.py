"""`rescore`: a replay from the ops command line, with a progress bar, ETA and cost.

    python -m interview_evaluator.cli rescore [--rubric R.json] [--since T] [--until T]
        [--interview ID]... [--question ID]... [--candidate ID]...
        [--max-evaluations N] [--max-cost-usd X] [--dry-run] [--out verdicts.jsonl]

Without `--rubric` each answer is judged with its question's active rubric (its last
`PUT /questions/{id}/rubric`), which is how a rubric change becomes the current evaluation.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from faststream.kafka import KafkaBroker
from interview_shared import topics
from interview_shared.domain import Rubric
from interview_shared.events import AnswerEvaluated
from interview_shared.keyring import Privacy
from interview_shared.keyring_kafka import following_keys
from interview_shared.messaging import EventPublisher
from pydantic import ValidationError
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from interview_evaluator.judge_settings import build_judge
from interview_evaluator.replay import log_size, submitted_answers
from interview_evaluator.replay_reports import recomputed_reports
from interview_evaluator.replay_run import (
    Budget,
    ReplayProgress,
    ReplayRequest,
    ReplayScope,
    opened_answers,
    read_context,
    run_replay,
)
from interview_evaluator.semantic_scorer import offline_scorer
from interview_evaluator.settings import EvaluatorSettings

Ids = Annotated[list[uuid.UUID] | None, typer.Option(help="Only these (repeatable).")]


def rescore(
    rubric_path: Annotated[
        Path | None,
        typer.Option("--rubric", help="Rubric JSON to judge with instead of the active ones."),
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Answers submitted at or after this.")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Answers submitted before this.")] = None,
    interview: Ids = None,
    question: Ids = None,
    candidate: Ids = None,
    max_evaluations: Annotated[int | None, typer.Option(min=0)] = None,
    max_cost_usd: Annotated[float | None, typer.Option(min=0)] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Count what would be judged and estimate its cost only.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Also write each verdict as JSONL here.")] = None,
) -> None:
    """Re-score answers from the Kafka log; verdicts are appended to each answer's history and
    an answer already judged by this scorer with that rubric version is skipped. The scorer
    follows the environment (OPENAI_API_KEY: LLM judge)."""
    scope = ReplayScope(
        since=_aware(since),
        until=_aware(until),
        interview_ids=frozenset(interview or ()),
        question_ids=frozenset(question or ()),
        candidate_ids=frozenset(candidate or ()),
    )
    request = ReplayRequest(
        replay_id=uuid.uuid4(),
        scope=scope,
        budget=Budget(max_evaluations=max_evaluations, max_cost_usd=max_cost_usd),
        dry_run=dry_run,
        rubric=_load_rubric(rubric_path) if rubric_path else None,
    )
    done = asyncio.run(_rescore(request, out=out))
    verb = "would judge" if dry_run else "judged"
    typer.echo(
        f"replay {done.replay_id} {done.status}: scanned {done.scanned} answers, {verb} "
        f"{done.evaluated}, skipped {done.skipped} already judged, "
        f"{'estimated ' if dry_run else ''}cost ${done.cost_usd:.4f}"
    )


def _load_rubric(path: Path) -> Rubric:
    try:
        return Rubric.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        typer.echo(f"error: {path}: not a rubric: {error}", err=True)
        raise typer.Exit(2) from None


def _aware(moment: datetime | None) -> datetime | None:
    # A time given without a zone means UTC, the zone every event timestamp is in.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


async def _rescore(request: ReplayRequest, *, out: Path | None) -> ReplayProgress:
    settings = EvaluatorSettings()
    bootstrap = settings.kafka_bootstrap_servers
    judge = build_judge(settings)
    scorer = judge or offline_scorer(settings.offline_scorer)
    since = request.scope.since
    sink = out.open("w", encoding="utf-8") if out else None
    try:
        context = await read_context(
            bootstrap, since=since, candidates=bool(request.scope.candidate_ids)
        )
        total = await log_size(bootstrap, topics.ANSWERS, since=since)
        privacy = Privacy()
        async with (
            KafkaBroker(bootstrap, enable_idempotence=True) as broker,
            following_keys(privacy, settings, client_id="interview-rescore"),
        ):
            with _bar(total) as (bar, task):

                def show(p: ReplayProgress) -> None:
                    bar.update(task, completed=p.scanned, cost=p.cost_usd, judged=p.evaluated)

                touched: set[uuid.UUID] = set()

                def verdict(v: AnswerEvaluated) -> None:
                    touched.add(v.interview_id)
                    if sink:
                        sink.write(v.model_dump_json() + "\n")

                publisher = EventPublisher(broker)
                done = await run_replay(
                    opened_answers(submitted_answers(bootstrap, since=since), privacy),
                    request,
                    context=context,
                    scorer=scorer,
                    publisher=None if request.dry_run else publisher,
                    on_progress=show,
                    on_verdict=verdict,
                )
            # Reports of interviews already reported follow their new current evaluations.
            versions = {q: rubric.version for q, rubric in context.rubrics.items()}
            if touched:
                reports = await recomputed_reports(bootstrap, touched, rubric_versions=versions)
                await publisher.publish_many(reports)
            return done
    finally:
        if sink:
            sink.close()
        if judge is not None:
            await judge.aclose()


class _bar:
    """A rich progress bar over the answers scanned, with judged count, cost and ETA."""

    def __init__(self, total: int) -> None:
        self._progress = Progress(
            TextColumn("answers"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("judged {task.fields[judged]}  ${task.fields[cost]:.4f}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            disable=not sys.stderr.isatty(),
        )
        self._total = total

    def __enter__(self) -> tuple[Progress, TaskID]:
        self._progress.start()
        task = self._progress.add_task("replay", total=self._total, judged=0, cost=0.0)
        return self._progress, task

    def __exit__(self, *_: object) -> None:
        self._progress.stop()
