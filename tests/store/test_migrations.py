"""Alembic migrations: empty -> head, one step down and back up, data survives."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from interview_store.migrate import migrate, run
from interview_store.postgres import PostgresStore

from . import factories as f

pytestmark = pytest.mark.postgres


async def version(dsn: str) -> str | None:
    """The database's Alembic revision."""
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
        return await conn.fetchval("SELECT version_num FROM alembic_version") if exists else None
    finally:
        await conn.close()


async def index_names(dsn: str) -> set[str]:
    """Names of the public schema's indexes."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        return {r["indexname"] for r in rows}
    finally:
        await conn.close()


HEAD = "r0009"


async def test_empty_to_head_creates_schema_and_indexes(fresh_database: str) -> None:
    assert await version(fresh_database) is None
    await migrate(fresh_database)
    assert await version(fresh_database) == HEAD
    names = await index_names(fresh_database)
    assert {"candidates_email_lower_key", "questions_skills_gin", "questions_tags_gin",
            "interviews_status_created_idx", "processed_events_pkey",
            "replays_pkey", "evaluations_review_queue",
            "evaluations_human_grades", "consumed_offsets_pkey"} <= names  # fmt: skip
    await migrate(fresh_database)  # idempotent at head
    assert await version(fresh_database) == HEAD


async def test_down_one_step_and_up_keeps_data(fresh_database: str) -> None:
    await migrate(fresh_database)
    store = await PostgresStore.connect(fresh_database)
    interview = f.interview()
    try:
        await store.apply([f.candidate(), interview, f.question()])
    finally:
        await store.close()
    await run(fresh_database, "downgrade", "r0001")
    assert await version(fresh_database) == "r0001"
    assert "interviews_status_created_idx" not in await index_names(fresh_database)
    assert "question_embeddings_pkey" not in await index_names(fresh_database)
    await migrate(fresh_database)
    assert await version(fresh_database) == HEAD
    store = await PostgresStore.connect(fresh_database)
    try:
        assert await store.get_interview(interview.interview_id) is not None
        assert (await store.event_outcome(interview.event_id)) is not None
    finally:
        await store.close()


async def test_downgrade_to_base_and_back(fresh_database: str) -> None:
    await migrate(fresh_database)
    await run(fresh_database, "downgrade", "base")
    assert await version(fresh_database) is None
    assert await index_names(fresh_database) <= {"alembic_version_pkc"}
    await migrate(fresh_database)
    assert await version(fresh_database) == HEAD


async def test_r0003_casefolds_short_emails_and_keeps_old_duplicates(fresh_database: str) -> None:
    await migrate(fresh_database, "r0002")
    conn = await asyncpg.connect(fresh_database)
    try:
        insert = (
            "INSERT INTO candidates (id, name, email, email_lower, created_at, updated_at)"
            " VALUES ($1, 'x', $2, $3, now() + $4 * interval '1 second', now())"
        )
        # What the old key function stored: short addresses kept their case.
        rows = [
            ("A@b.io", "A@b.io"),
            ("a@B.io", "a@B.io"),
            ("Straße@X.COM", "straße@x.com"),  # lower(), not casefold()
        ]
        ids = [uuid.uuid4() for _ in rows]
        for n, (cid, (email, key)) in enumerate(zip(ids, rows, strict=True)):
            await conn.execute(insert, cid, email, key, n)
        await migrate(fresh_database)
        keys = dict(await conn.fetch("SELECT id, email_lower FROM candidates"))
    finally:
        await conn.close()
    assert keys[ids[0]] == "a@b.io"  # the older of the pair takes the casefolded key
    assert keys[ids[1]] == "a@B.io"  # the duplicate the bug let in keeps its old key
    assert keys[ids[2]] == "strasse@x.com"  # a long one with a stale key is rewritten too


async def test_r0007_gives_existing_evaluations_their_queue_reasons(fresh_database: str) -> None:
    await migrate(fresh_database, "r0006")
    conn = await asyncpg.connect(fresh_database)
    insert = (
        "INSERT INTO evaluations (id, answer_id, interview_id, question_id, outcome, score,"
        " criteria, feedback, explanation, flags, lineage, rubric_version, usage, created_at)"
        " VALUES ($1, $2, $2, $2, $3, $4, '[]', '', '{}', $5::text[], $6::jsonb, 'v1', '{}', now())"
    )
    rows = {
        "plain": ("SCORED", 90.0, [], "offline"),
        "disagree": ("SCORED", 50.0, ["judges_disagree", "needs_human_review"], "llm"),
        "injection": (
            "UNSCORABLE",
            None,
            ["needs_human_review", "possible_prompt_injection"],
            "llm",
        ),
        "empty": ("UNSCORABLE", None, [], "offline"),
        "vague": ("SCORED", 50.0, ["needs_human_review"], "llm"),
    }
    ids = {name: uuid.uuid4() for name in rows}
    try:
        for name, (outcome, score, flags, scorer) in rows.items():
            lineage = (
                f'{{"scorer": "{scorer}", "scorer_version": "1", "rubric_version": "v1",'
                ' "evaluator_version": "0"}'
            )
            await conn.execute(insert, ids[name], uuid.uuid4(), outcome, score, flags, lineage)
        await migrate(fresh_database)
        reasons = dict(await conn.fetch("SELECT id, review_reasons FROM evaluations"))
    finally:
        await conn.close()
    assert {name: reasons[ids[name]] for name in rows} == {
        "plain": [],
        "disagree": ["judges_disagree"],
        "injection": ["injection_suspected"],
        "empty": ["unscorable"],
        "vague": ["flagged"],
    }


async def test_r0009_puts_existing_rows_in_the_default_organisation(fresh_database: str) -> None:
    await migrate(fresh_database, "r0008")
    conn = await asyncpg.connect(fresh_database)
    try:
        candidate_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO candidates (id, name, email, email_lower, created_at, updated_at)"
            " VALUES ($1, 'x', 'x@y.io', 'x@y.io', now(), now())",
            candidate_id,
        )
        await migrate(fresh_database)
    finally:
        await conn.close()
    assert "ix_candidates_org_created_at" in await index_names(fresh_database)
    store = await PostgresStore.connect(fresh_database)
    try:
        stored = await store.get_candidate(candidate_id)
    finally:
        await store.close()
    assert stored is not None
    assert stored.org_id == "default"
