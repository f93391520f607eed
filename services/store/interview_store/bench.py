"""Store benchmark: `apply` ingest (memory, PostgreSQL) against raw COPY; listing latency.

Usage: python -m interview_store.bench [--dsn URL] [--interviews N] [--batch N] [--rounds N]
       [--plans PATH]
The DSN is a server to create scratch databases on (--dsn, else BENCH_DATABASE_URL, else a
throwaway local PostgreSQL from interview_localinfra is started and stopped).

The PostgreSQL ingest is measured first, in `--rounds` rounds of (raw COPY into a fresh database,
`apply` into another fresh database), and the ratio reported is the median of the rounds' ratios,
so a burst of load on a shared machine skews one round, not the figure. The memory store is
built afterwards, so its objects are not in the heap (and in every garbage collection) while
PostgreSQL is measured; the generated events are frozen out of the collector for the same reason
(they are the benchmark's input, not the store's state).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from interview_shared import events as ev
from interview_shared.domain import Difficulty, InterviewStatus, Rubric

from interview_store import sql
from interview_store.memory import MemoryStore
from interview_store.migrate import migrate
from interview_store.port import InterviewFilter, ListQuery, QuestionFilter, Store
from interview_store.postgres import PostgresStore, _records, asyncpg_dsn
from interview_store.query import prepare
from interview_store.rules import plan_batch

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SKILLS = [f"skill{n}" for n in range(200)]
STATUS_PATH = [InterviewStatus.READY, InterviewStatus.IN_PROGRESS, InterviewStatus.COMPLETED]


def generate(interviews: int, seed: int = 1) -> tuple[list[ev.Event], list[ev.Event]]:
    """(insert events: candidates, questions, interviews; status changes) — deterministic."""
    rng = random.Random(seed)
    at = iter(T0 + timedelta(milliseconds=n) for n in range(10**9))
    candidates = [
        ev.CandidateRegistered(candidate_id=uuid.UUID(int=rng.getrandbits(128)), name=f"c{n}",
                               email=f"c{n}@example.com", occurred_at=next(at))
        for n in range(interviews // 20)
    ]  # fmt: skip
    questions = [
        ev.QuestionCreated(question_id=uuid.UUID(int=rng.getrandbits(128)), text=f"q{n}?",
                           difficulty=rng.choice(list(Difficulty)),
                           skills=tuple(rng.sample(SKILLS, 2)), tags=(rng.choice(SKILLS),),
                           rubric=Rubric(), occurred_at=next(at))
        for n in range(interviews // 5)
    ]  # fmt: skip
    created = [
        ev.InterviewCreated(interview_id=uuid.UUID(int=rng.getrandbits(128)),
                            candidate_id=rng.choice(candidates).candidate_id,
                            title=f"interview {rng.randrange(10**6):06d}",
                            question_ids=tuple(q.question_id for q in rng.sample(questions, 3)),
                            occurred_at=next(at))
        for _ in range(interviews)
    ]  # fmt: skip
    changes: list[ev.Event] = []
    for interview in created:
        for target in STATUS_PATH[: rng.randrange(4)]:
            changes.append(
                ev.InterviewStatusChanged(
                    interview_id=interview.interview_id, status=target, occurred_at=next(at)
                )
            )
    return [*candidates, *questions, *created], changes


def chunks(events: Sequence[ev.Event], size: int) -> list[Sequence[ev.Event]]:
    """Consecutive batches of `size` events."""
    return [events[n : n + size] for n in range(0, len(events), size)]


async def ingest(store: Store, events: Sequence[ev.Event], batch: int) -> float:
    """Seconds to apply `events` in batches."""
    started = time.perf_counter()
    for part in chunks(events, batch):
        await store.apply(part)
    return time.perf_counter() - started


def copy_records(
    events: Sequence[ev.Event], *, processed_events: bool
) -> dict[str, list[tuple[object, ...]]]:
    """The COPY records `apply` writes for these events, built before any clock starts.

    Without `processed_events` they are only the data rows (candidates, questions, interviews):
    the raw COPY baseline has no idempotency bookkeeping.
    """
    records = _records(plan_batch(MemoryStore(), events))
    if not processed_events:
        del records["processed_events"]
    return {table: rows for table, rows in records.items() if rows}


async def raw_copy(dsn: str, records: dict[str, list[tuple[object, ...]]], batch: int) -> float:
    """Seconds to COPY prepared records into the same schema, `batch` rows per COPY."""
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        started = time.perf_counter()
        for table, rows in records.items():
            for part in (rows[n : n + batch] for n in range(0, len(rows), batch)):
                await conn.copy_records_to_table(table, records=part, columns=sql.COLUMNS[table])
        return time.perf_counter() - started
    finally:
        await conn.close()


async def latency(call: Callable[[], Awaitable[object]], runs: int = 300) -> tuple[float, float]:
    """(p50, p99) of `call` in milliseconds, after a short warm-up."""
    for _ in range(20):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def listing_cases(store: Store) -> dict[str, Callable[[], Awaitable[object]]]:
    """The listing queries whose latency is reported."""
    ready = InterviewFilter(status=InterviewStatus.READY)
    return {
        "interviews status=READY sort=-created_at limit=20": lambda: store.list_interviews(
            ListQuery(), ready
        ),
        "interviews status=IN_PROGRESS sort=title limit=50": lambda: store.list_interviews(
            ListQuery(sort="title", limit=50), InterviewFilter(status=InterviewStatus.IN_PROGRESS)
        ),
        "interviews sort=-updated_at offset=1000 limit=20": lambda: store.list_interviews(
            ListQuery(sort="-updated_at", offset=1000), InterviewFilter()
        ),
        "questions skills any of 2 sort=-created_at": lambda: store.list_questions(
            ListQuery(), QuestionFilter(skills=("skill3", "skill7"))
        ),
    }


@asynccontextmanager
async def server(dsn: str | None) -> AsyncIterator[str]:
    """A server DSN: the given one, or a throwaway local PostgreSQL."""
    if dsn:
        yield dsn
        return
    from interview_localinfra import LocalPostgres

    async with LocalPostgres(database="bench", fsync=False) as pg:
        yield pg.dsn


async def scratch_database(server_dsn: str, name: str) -> str:
    """Create (or recreate) a migrated scratch database; return its DSN."""
    conn = await asyncpg.connect(asyncpg_dsn(server_dsn))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = asyncpg_dsn(server_dsn).rpartition("/")
    dsn = f"{base}/{name}"
    await migrate(dsn)
    return dsn


async def explain(dsn: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the listing queries, as markdown."""
    cases: dict[str, tuple[str, ListQuery, list[tuple[str, object]]]] = {
        "interviews: status filter, sort -created_at": (
            "interviews", ListQuery(), [("status = {}::text", "READY")]),
        "interviews: candidate filter, sort -created_at": (
            "interviews", ListQuery(), [("candidate_id = {}::uuid", None)]),
        "interviews: status filter, sort title": (
            "interviews", ListQuery(sort="title"), [("status = {}::text", "IN_PROGRESS")]),
        "interviews: created range, sort created_at": (
            "interviews", ListQuery(sort="created_at"),
            [("created_at >= {}::timestamptz", T0 + timedelta(seconds=60)),
             ("created_at < {}::timestamptz", T0 + timedelta(seconds=70))]),
        "questions: skills any (GIN)": (
            "questions", ListQuery(), [("skills && {}::text[]", ["skill3", "skill7"])]),
        "questions: tags any (GIN)": (
            "questions", ListQuery(), [("tags && {}::text[]", ["skill5"])]),
    }  # fmt: skip
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        await conn.execute("ANALYZE")
        some_candidate = await conn.fetchval("SELECT candidate_id FROM interviews LIMIT 1")
        out = []
        for title, (listing, query, conditions) in cases.items():
            where = sql.Where()
            for template, value in conditions:
                where.add(template, some_candidate if value is None else value)
            statement, args = sql.listing_query(listing, prepare(listing, query), where)
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", *args)
            plan = "\n".join(r[0] for r in rows)
            out.append(f"### {title}\n\n```sql\n{statement}\n```\n\n```\n{plan}\n```\n")
        return "\n".join(out)
    finally:
        await conn.close()


def report(name: str, events: int, seconds: float) -> None:
    """Print one throughput line (per event: a raw COPY writes one data row per insert event)."""
    print(f"{name:<44} {events:>8} events {seconds:8.2f} s {events / seconds:>10,.0f} /s")


async def run(args: argparse.Namespace) -> None:
    """Run the whole benchmark."""
    inserts, changes = generate(args.interviews)
    data_rows = copy_records(inserts, processed_events=False)
    all_rows = copy_records(inserts, processed_events=True)
    gc.collect()
    gc.freeze()  # the input events live through the whole run; keep them out of collections
    rows = sum(map(len, data_rows.values()))
    print(f"events: {len(inserts)} inserts + {len(changes)} status changes, batch {args.batch}")
    async with server(args.dsn or os.environ.get("BENCH_DATABASE_URL")) as server_dsn:
        ratios: list[float] = []
        postgres: PostgresStore | None = None
        store_dsn = ""
        for round_ in range(1, args.rounds + 1):
            if postgres is not None:
                await postgres.close()
            raw_dsn = await scratch_database(server_dsn, "bench_raw")
            copy_seconds = await raw_copy(raw_dsn, data_rows, args.batch)
            raw_dsn = await scratch_database(server_dsn, "bench_raw")
            full_seconds = await raw_copy(raw_dsn, all_rows, args.batch)
            store_dsn = await scratch_database(server_dsn, "bench_store")
            postgres = await PostgresStore.connect(store_dsn, min_size=2, max_size=4)
            apply_seconds = await ingest(postgres, inserts, args.batch)
            ratios.append(copy_seconds / apply_seconds)
            print(f"round {round_}:")
            report("  raw COPY, data rows", rows, copy_seconds)
            report("  raw COPY, data + processed_events rows", rows, full_seconds)
            report("  postgres apply (inserts)", len(inserts), apply_seconds)
            print(f"  postgres apply / raw COPY (data rows): {ratios[-1]:.2f}x")
        assert postgres is not None
        print(
            f"postgres apply / raw COPY, median of {args.rounds}: {statistics.median(ratios):.2f}x"
        )
        try:
            seconds = await ingest(postgres, changes, args.batch)
            report("postgres apply (status changes)", len(changes), seconds)
            memory = MemoryStore()
            report(
                "memory apply (inserts)", len(inserts), await ingest(memory, inserts, args.batch)
            )
            seconds = await ingest(memory, changes, args.batch)
            report("memory apply (status changes)", len(changes), seconds)
            async with postgres._connection() as conn:
                await conn.execute("ANALYZE")
            print(f"\nlisting latency at {args.interviews} interviews (ms, p50 / p99):")
            for (case, mem_call), pg_call in zip(
                listing_cases(memory).items(), listing_cases(postgres).values(), strict=True
            ):
                mem, pg = await latency(mem_call), await latency(pg_call)
                print(f"  {case:<52} memory {mem[0]:6.2f} / {mem[1]:6.2f}"
                      f"   postgres {pg[0]:6.2f} / {pg[1]:6.2f}")  # fmt: skip
        finally:
            await postgres.close()
        if args.plans:
            plans = await explain(store_dsn)
            await asyncio.to_thread(Path(args.plans).write_text, plans)
            print(f"\nquery plans written to {args.plans}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dsn", help="PostgreSQL server to create scratch databases on")
    parser.add_argument("--interviews", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="PostgreSQL ingest rounds")
    parser.add_argument("--plans", help="write EXPLAIN ANALYZE of the listing queries here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
