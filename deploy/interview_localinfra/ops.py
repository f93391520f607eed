"""The operator's CLI: `make ops ARGS="topics|groups|dead-letters count|inspect|redrive"`.

Reads only, never committing an offset, except `dead-letters redrive`, which writes the letters
it is told to back to their original topics (`ops_redrive`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from interview_shared import topics
from interview_shared.lag import OffsetReader, PartitionLag
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from interview_localinfra.ops_kafka import (
    Letter,
    dead_letter_total,
    group_lags,
    read_dead_letters,
    tally,
    topic_infos,
)
from interview_localinfra.ops_redrive import Selection, parse_position, redrive

T = TypeVar("T")
app = typer.Typer(help="Operate the interview backend's Kafka: topics, consumer lag, dead letters.")
dead_letters = typer.Typer(help="The dead-letter topic: messages a consumer gave up on.")
app.add_typer(dead_letters, name="dead-letters")
console = Console()

Bootstrap = Annotated[
    str,
    typer.Option(
        "--bootstrap",
        envvar="KAFKA_BOOTSTRAP_SERVERS",
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS or localhost:9092)",
    ),
]
Group = Annotated[str | None, typer.Option("--group", "-g", help="Only this consumer group")]
Positions = Annotated[
    list[str] | None,
    typer.Option("--offset", help="Only the dead letter at this offset (or partition@offset)"),
]
OriginalTopic = Annotated[str | None, typer.Option("--topic", help="Only from this topic")]
ErrorType = Annotated[str | None, typer.Option("--error-type", help="Only this error type")]


def _run(bootstrap: str, work: Callable[[OffsetReader], Awaitable[T]]) -> T:
    async def main() -> T:
        async with OffsetReader(bootstrap, client_id="interview-ops") as reader:
            return await work(reader)

    return asyncio.run(main())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )


@app.command("topics")
def list_topics(
    bootstrap: Bootstrap = "localhost:9092",
    internal: Annotated[bool, typer.Option(help="Include Kafka's own __ topics")] = False,
) -> None:
    """Topics with partitions, records kept, and the retention and cleanup policies in force."""
    infos = _run(bootstrap, lambda r: topic_infos(r, include_internal=internal))
    table = Table(title=f"Topics on {bootstrap}")
    for column in ("topic", "partitions", "records", "cleanup", "retention", "min ISR", "holds"):
        table.add_column(column, justify="right" if column in {"partitions", "records"} else "left")
    for info in infos:
        table.add_row(
            info.name,
            str(info.partitions),
            str(info.records),
            info.policies.get("cleanup.policy", ""),
            _retention(info.policies),
            info.policies.get("min.insync.replicas", ""),
            info.description,
        )
    console.print(table)


def _retention(policies: dict[str, str]) -> str:
    ms, size = policies.get("retention.ms", ""), policies.get("retention.bytes", "")
    time_part = "forever" if ms == "-1" else f"{int(ms) / 86_400_000:g} d" if ms else "?"
    return time_part if size in {"", "-1"} else f"{time_part} / {size} B"


@app.command("groups")
def list_groups(bootstrap: Bootstrap = "localhost:9092", group: Group = None) -> None:
    """Consumer groups with committed offset, log end and lag per partition."""

    async def work(reader: OffsetReader) -> list[PartitionLag]:
        with _progress() as progress:
            task = progress.add_task("reading consumer groups", total=None)
            found = await group_lags(reader, only=group, progress=lambda _: progress.advance(task))
        return found

    lags = _run(bootstrap, work)
    table = Table(title="Consumer groups")
    for column in ("group", "topic", "partition", "committed", "end", "lag"):
        table.add_column(column, justify="left" if column in {"group", "topic"} else "right")
    for p in lags:
        committed = "-" if p.committed is None else str(p.committed)
        lag = f"[bold red]{p.lag}[/]" if p.lag else "0"
        table.add_row(p.group, p.topic, str(p.partition), committed, str(p.end), lag)
    console.print(table)
    console.print(
        f"total lag: {sum(p.lag for p in lags)} across {len({p.group for p in lags})} groups"
    )


def _selection(
    positions: list[str] | None,
    group: str | None,
    topic: str | None,
    error_type: str | None,
    *,
    everything: bool = False,
) -> Selection:
    try:
        chosen = frozenset(parse_position(p) for p in positions or ())
    except ValueError:
        raise typer.BadParameter("--offset takes N or PARTITION@N") from None
    return Selection(chosen, group, topic, error_type, everything)


def _letters(bootstrap: str, selection: Selection | None) -> list[Letter]:
    async def work(reader: OffsetReader) -> list[Letter]:
        partitions = await reader.partitions([topics.DEAD_LETTER.name])
        total = await dead_letter_total(reader)
        found: list[Letter] = []
        with _progress() as progress:
            task = progress.add_task("reading dead letters", total=total)
            async for letter in read_dead_letters(
                bootstrap, partitions, progress=lambda n: progress.advance(task, n)
            ):
                if selection is None or selection.empty or selection.matches(letter):
                    found.append(letter)
        return found

    return _run(bootstrap, work)


@dead_letters.command("count")
def count_dead_letters(bootstrap: Bootstrap = "localhost:9092", group: Group = None) -> None:
    """Dead letters by consumer group, original topic and error type."""
    letters = _letters(bootstrap, Selection(group=group) if group else None)
    table = Table(title=f"Dead letters on {topics.DEAD_LETTER.name}")
    for column in ("group", "original topic", "error type", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for (group_id, topic, error), count in sorted(tally(letters).items()):
        table.add_row(group_id, topic, error, str(count))
    console.print(table)
    console.print(f"total: {len(letters)}")


@dead_letters.command("inspect")
def inspect_dead_letters(
    bootstrap: Bootstrap = "localhost:9092",
    group: Group = None,
    offset: Positions = None,
    topic: OriginalTopic = None,
    error_type: ErrorType = None,
    limit: Annotated[int, typer.Option(min=1, help="Show the newest N")] = 20,
) -> None:
    """The newest dead letters: where they came from, why they failed, what they held."""
    letters = _letters(bootstrap, _selection(offset, group, topic, error_type))[-limit:]
    table = Table(title=f"Newest {len(letters)} dead letters", show_lines=True)
    for column in ("at", "from", "group", "error", "attempts", "value"):
        table.add_column(column, overflow="fold")
    for lt in letters:
        d = lt.letter
        if d is None:
            table.add_row(
                f"{lt.partition}@{lt.offset}", "?", "?", "unreadable", "", repr(lt.raw[:200])
            )
            continue
        table.add_row(
            f"{lt.partition}@{lt.offset}\n{d.failed_at:%Y-%m-%d %H:%M:%S}",
            f"{d.original_topic}[{d.partition}]@{d.offset}",
            d.consumer_group,
            f"{d.error_type}: {d.error[:300]}",
            str(d.attempts),
            d.value_preview[:300],
        )
    console.print(table)


@dead_letters.command("redrive")
def redrive_dead_letters(
    bootstrap: Bootstrap = "localhost:9092",
    offset: Positions = None,
    group: Group = None,
    topic: OriginalTopic = None,
    error_type: ErrorType = None,
    everything: Annotated[bool, typer.Option("--all", help="Every readable dead letter")] = False,
    dry_run: Annotated[bool, typer.Option(help="List what would be redriven only")] = False,
) -> None:
    """Put dead letters back on their original topics with their original key and headers
    (one by --offset, a filter, or --all); every consumer of the topic sees them again."""
    selection = _selection(offset, group, topic, error_type, everything=everything)
    if selection.empty:
        console.print("choose letters: --offset, --group, --topic, --error-type or --all")
        raise typer.Exit(2)
    letters = _letters(bootstrap, selection)
    table = Table(
        title=f"{'Would redrive' if dry_run else 'Redriving'} {len(letters)} dead letters"
    )
    for column in ("at", "to", "key", "group", "error"):
        table.add_column(column, overflow="fold")
    for lt in letters:
        d = lt.letter
        assert d is not None  # a selection never matches an unreadable letter
        table.add_row(
            f"{lt.partition}@{lt.offset}", d.original_topic, d.key or "", d.consumer_group,
            d.error_type,
        )  # fmt: skip
    console.print(table)
    if dry_run or not letters:
        return

    async def send() -> int:
        with _progress() as progress:
            task = progress.add_task("redriving", total=len(letters))
            return await redrive(bootstrap, letters, progress=lambda n: progress.advance(task, n))

    console.print(f"redriven: {asyncio.run(send())}")


def main() -> None:
    """Entry point of `make ops` (`python -m interview_localinfra.ops`)."""
    os.environ.setdefault("COLUMNS", "160")  # tables stay readable when piped
    app()


if __name__ == "__main__":
    main()
