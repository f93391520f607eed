"""A PostgreSQL store pointed at an empty database rebuilds itself from the log (issue 12).

On real Kafka and PostgreSQL: a live store applies N events as they are produced and announces
their outcomes; a second store on an empty database rebuilds every row from the log (a count
check per table against the live one), is not ready while it does and says how far it has got,
and announces nothing it replayed; restarted, it resumes from the offsets kept with its data,
applies nothing again and announces nothing again, and new events are applied and announced.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from interview_localinfra import create_database, drop_database
from interview_shared import topics
from interview_shared.domain import InterviewStatus
from interview_shared.events import EventEnvelope, encode_event
from interview_store.main import create_app
from interview_store.settings import StoreSettings
from prometheus_client import REGISTRY
from store import factories as f
from support import eventually, tail

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TABLES = (
    "processed_events", "candidates", "cv_analyses", "questions", "interviews", "answers",
    "evaluations", "chat_sessions", "chat_messages", "interview_reports", "replays",
)  # fmt: skip
INTERVIEWS = 60


def workload() -> list[EventEnvelope]:
    """Rows in most tables: candidates, questions, interviews moved on, answers, evaluations,
    chat sessions with messages; about 11 events per interview."""
    events: list[EventEnvelope] = []
    for _ in range(INTERVIEWS):
        c, q = f.candidate(), f.question()
        i = f.interview(candidate_id=c.candidate_id, question_ids=(q.question_id,))
        a = f.answer(i.interview_id, q.question_id)
        s = f.session(i.interview_id)
        posted = f.message(s.chat_session_id)
        events += [c, q, i, f.status(i.interview_id, InterviewStatus.READY),
                   f.status(i.interview_id, InterviewStatus.IN_PROGRESS), a, f.evaluation(a),
                   s, posted, f.reply(posted), f.message(s.chat_session_id, "next")]  # fmt: skip
    return events


async def produce(bootstrap: str, events: Sequence[EventEnvelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            await producer.send(e.topic.name, encode_event(e), key=e.key.encode()) for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await conn.close()


async def applied_of(dsn: str, events: Sequence[EventEnvelope]) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        ids = [e.event_id for e in events]
        found: int = await conn.fetchval(
            "SELECT count(*) FROM processed_events WHERE event_id = ANY($1::uuid[])", ids
        )
        return found
    finally:
        await conn.close()


@asynccontextmanager
async def store_service(bootstrap: str, dsn: str, prefix: str) -> AsyncIterator[httpx.AsyncClient]:
    """The store service in this process; small batches, so a rebuild takes a few polls."""
    settings = StoreSettings(
        kafka_bootstrap_servers=bootstrap,
        consumer_group_prefix=prefix,
        database_url=dsn,
        batch_max_records=50,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
            yield client


async def readiness_until_ready(client: httpx.AsyncClient) -> list[tuple[int, Any]]:
    """Every /health/ready answer, polled every 20 ms, up to the first 200."""
    seen: list[tuple[int, Any]] = []
    async with asyncio.timeout(120):
        while not seen or seen[-1][0] != 200:
            response = await client.get("/health/ready")
            seen.append((response.status_code, response.json()))
            await asyncio.sleep(0.02)
    return seen


def outcomes_of(values: list[Any], events: Sequence[EventEnvelope]) -> list[str]:
    ids = {str(e.event_id) for e in events}
    return [v["subject_event_id"] for v in values if v.get("subject_event_id") in ids]


async def drain(consumer: AIOKafkaConsumer) -> list[Any]:
    """Outcome events that reached the tail so far (decoded)."""
    found: list[Any] = []
    while batch := await consumer.getmany(timeout_ms=1000):
        found += [json.loads(r.value) for rs in batch.values() for r in rs if r.value]
    return found


@pytest.fixture
async def databases(postgres_dsn: str) -> AsyncIterator[tuple[str, str]]:
    """Two new, empty databases: the live store's and the rebuilt one's."""
    names = [f"rebuild_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    dsns = [await create_database(postgres_dsn, name) for name in names]
    try:
        yield dsns[0], dsns[1]
    finally:
        for name in names:
            await drop_database(postgres_dsn, name)


async def test_an_empty_database_is_rebuilt_from_the_log(
    kafka_bootstrap: str, databases: tuple[str, str]
) -> None:
    live_dsn, rebuilt_dsn = databases
    events = workload()
    async with tail(kafka_bootstrap, topics.OUTCOMES) as outcomes:
        live_prefix = f"test-{uuid.uuid4().hex[:8]}"
        async with store_service(kafka_bootstrap, live_dsn, live_prefix) as live:
            await readiness_until_ready(live)  # it too rebuilt what the session's log held
            await produce(kafka_bootstrap, events)
            await eventually(lambda: _all_applied(live_dsn, events), timeout_s=60)
        live_counts = await counts(live_dsn)
        assert sorted(outcomes_of(await drain(outcomes), events)) == sorted(
            str(e.event_id) for e in events
        )  # announced once each, live

        prefix = f"test-{uuid.uuid4().hex[:8]}"
        async with store_service(kafka_bootstrap, rebuilt_dsn, prefix) as rebuilt:
            answers = await readiness_until_ready(rebuilt)
        rebuilding = [body for status, body in answers if status == 503 and "rebuild" in body]
        assert any(0 < b["rebuild"]["applied"] < b["rebuild"]["target"] for b in rebuilding), (
            answers[:3]
        )
        assert answers[-1][1]["rebuild"]["applied"] == answers[-1][1]["rebuild"]["target"]
        assert await counts(rebuilt_dsn) == live_counts  # every row, per table
        assert outcomes_of(await drain(outcomes), events) == []  # nothing announced again

        applied_before = applied_total()
        async with store_service(kafka_bootstrap, rebuilt_dsn, prefix) as restarted:
            answers = await readiness_until_ready(restarted)
            assert answers[-1][1]["rebuild"] == {"applied": 0, "target": 0}  # resumed at the end
            await asyncio.sleep(1)
            assert applied_total() == applied_before  # nothing re-applied
            new = workload()[:11]
            await produce(kafka_bootstrap, new)
            await eventually(lambda: _all_applied(rebuilt_dsn, new), timeout_s=30)
            announced = outcomes_of(await drain(outcomes), [*events, *new])
        assert sorted(announced) == sorted(str(e.event_id) for e in new)


def applied_total() -> float | None:
    return REGISTRY.get_sample_value("interview_store_events_applied_total")


async def _all_applied(dsn: str, events: Sequence[EventEnvelope]) -> bool:
    return await applied_of(dsn, events) == len(events)
