"""Rebuild benchmark: a PostgreSQL store rebuilt from the log vs the live ingest rate, same run.

Usage: python -m interview_store.bench_rebuild [--events N] [--bootstrap HOST:PORT] [--dsn URL]

Without `--bootstrap` a fresh local Kafka broker is started (and stopped), so the log holds only
this run's events; without `--dsn` (or BENCH_DATABASE_URL) a throwaway local PostgreSQL. In one
process and one run, through the store service itself (`create_app`, its consumer, its batches):

* live ingest: a store on an empty database whose kept offsets are at the end of the log (a
  caught-up store), while N events (500 questions, then candidates, interviews and status
  changes, from `interview_store.bench.generate`) are produced as fast as the producer can;
  from the first send to the last event applied (its offsets kept). It announces every
  outcome, as live does.
* rebuild: a second store on another empty database, in a new group, started after the live
  one stopped; from the app's start to readiness 200 (group join included), i.e. until it has
  rebuilt every row from the log. It announces nothing: the log was announced before.

The ratio rebuild / live is what the docs quote (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from interview_shared import topics
from interview_shared.catchup import end_offsets
from interview_shared.events import Event, encode_event

from interview_store.bench import generate, report, scratch_database, server
from interview_store.main import create_app
from interview_store.port import KeptOffset
from interview_store.postgres import PostgresStore, asyncpg_dsn
from interview_store.settings import StoreSettings


def workload(count: int, *, questions: int = 500) -> list[Event]:
    """`count` events: the bench's inserts, then status changes (each after its interview).

    The question bank is capped (`questions`): every new question is embedded with MiniLM on
    the CPU in the background, which at the generator's one question per five interviews
    would measure the embedder, not the rebuild (interviews do not check their question ids).
    """
    inserts, changes = generate(count // 2 + 1)
    kept = [e for e in inserts if e.type != "question.created"]
    bank = [e for e in inserts if e.type == "question.created"][:questions]
    return [*bank, *kept, *changes][:count]


async def produce(bootstrap: str, records: Sequence[tuple[str, bytes, bytes]]) -> None:
    """Send every (topic, key, value) without waiting on each acknowledgement; then flush."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        pending = [await producer.send(topic, value, key=key) for topic, key, value in records]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def store_service(bootstrap: str, dsn: str, prefix: str) -> AsyncIterator[httpx.AsyncClient]:
    """The store service in this process, with its production batch settings."""
    settings = StoreSettings(
        kafka_bootstrap_servers=bootstrap, consumer_group_prefix=prefix, database_url=dsn
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
            yield client


async def until(check: Callable[[], Awaitable[bool]], poll_s: float = 0.05) -> None:
    """Poll `check` until it holds (the store reports through HTTP and the database only)."""
    while True:
        if await check():
            return
        await asyncio.sleep(poll_s)


async def ready(client: httpx.AsyncClient) -> None:
    """Wait for /health/ready 200."""

    async def answered() -> bool:
        return (await client.get("/health/ready")).status_code == 200

    await until(answered)


async def kept_total(dsn: str) -> int:
    """Sum of the offsets kept with the data: records applied (or dead-lettered)."""
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        total: int | None = await conn.fetchval("SELECT sum(next_offset) FROM consumed_offsets")
        return total or 0
    finally:
        await conn.close()


async def keep_at(dsn: str, ends: dict[tuple[str, int], int]) -> None:
    """Make `dsn` a caught-up store: its kept offsets at `ends`."""
    store = await PostgresStore.connect(dsn)
    try:
        await store.apply([], offsets={tp: KeptOffset(end, end) for tp, end in ends.items()})
    finally:
        await store.close()


async def count_rows(dsn: str) -> int:
    """Rows in processed_events: one per event applied."""
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        rows: int = await conn.fetchval("SELECT count(*) FROM processed_events")
        return rows
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    """Run the benchmark."""
    from interview_localinfra import LocalKafka, ensure_topics

    events = workload(args.events)
    records = [(e.topic.name, e.key.encode(), encode_event(e)) for e in events]
    print(f"events: {len(events)} (inserts and status changes), production batch settings")
    async with contextlib.AsyncExitStack() as stack:
        bootstrap = args.bootstrap
        if not bootstrap:
            bootstrap = (await stack.enter_async_context(LocalKafka())).bootstrap_servers
        await ensure_topics(bootstrap)
        server_dsn = await stack.enter_async_context(
            server(args.dsn or os.environ.get("BENCH_DATABASE_URL"))
        )
        live_dsn = await scratch_database(server_dsn, "bench_live")
        rebuilt_dsn = await scratch_database(server_dsn, "bench_rebuilt")
        before = await end_offsets(bootstrap, topics.DOMAIN_TOPICS)
        await keep_at(live_dsn, before)
        target = sum(before.values()) + len(events)

        async with store_service(bootstrap, live_dsn, f"bench-live-{time.time_ns()}") as live:
            await ready(live)
            started = time.perf_counter()
            await produce(bootstrap, records)
            produced = time.perf_counter() - started

            async def applied() -> bool:
                return await kept_total(live_dsn) >= target

            await until(applied)
            live_s = time.perf_counter() - started
        report("produce (aiokafka, no store)", len(events), produced)
        report("live ingest (store service, announcing)", len(events), live_s)

        started = time.perf_counter()
        async with store_service(bootstrap, rebuilt_dsn, f"bench-rebuild-{time.time_ns()}") as rb:
            await ready(rb)
            rebuild_s = time.perf_counter() - started
            progress = (await rb.get("/health/ready")).json()["rebuild"]
        read = progress["target"]
        report("rebuild into empty PostgreSQL (from start)", read, rebuild_s)
        rows_live, rows_rebuilt = await count_rows(live_dsn), await count_rows(rebuilt_dsn)
        print(f"rows in processed_events: live {rows_live}, rebuilt {rows_rebuilt}")
        print(f"rebuild / live ingest: {(read / rebuild_s) / (len(events) / live_s):.2f}x")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--bootstrap", default="", help="existing Kafka (default: start one)")
    parser.add_argument("--dsn", help="PostgreSQL server to create scratch databases on")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
