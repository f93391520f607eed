"""The PostgreSQL Store: an asyncpg pool, one transaction per batch, bulk writes with COPY.

A batch is applied in three steps inside one transaction: load the state it touches (row-locking
the interviews and chat sessions it changes), run the shared rules (`rules.plan_batch`) against
that snapshot, and write the result with one COPY per table. Unique indexes back every rule, so a
concurrent batch that slipped in between the snapshot and the write makes the write fail; the
whole batch is then retried against fresh state. The SQL lives in `interview_store.sql`.
"""

from __future__ import annotations

import asyncio
import json
import operator
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from interview_shared.domain import InterviewStatus, email_key
from interview_shared.events import Event
from interview_shared.projections import utc
from pydantic_core import to_json

from interview_store import sql
from interview_store.port import (
    Answer,
    AnswerFilter,
    ApplyResult,
    Candidate,
    ChatMessage,
    ChatSession,
    CvAnalysis,
    Evaluation,
    EvaluationFilter,
    Interview,
    InterviewFilter,
    InterviewLogEntry,
    InterviewReport,
    KeptOffset,
    ListQuery,
    Offsets,
    Outcome,
    Page,
    Question,
    QuestionFilter,
    Replay,
    ReviewFilter,
    StoreUnavailableError,
)
from interview_store.query import ListRequest, page, position, prepare
from interview_store.rules import (
    AnswerRow,
    Changes,
    Kind,
    ReplayRow,
    build_log,
    plan_batch,
    trusted,
    with_evaluation,
)
from interview_store.vectors_postgres import PostgresQuestionVectors

Row = Mapping[str, Any]
T = TypeVar("T")

# Failures that mean "the database is not reachable now", as opposed to a bug in a query.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# A concurrent batch won a race: run the whole batch again against fresh state.
_RETRYABLE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.UniqueViolationError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)
_ATTEMPTS = 30

# Event type -> (row kind, attribute holding the new row's id).
_NEW_IDS: dict[str, tuple[Kind, str]] = {
    "candidate.registered": (Kind.CANDIDATE, "candidate_id"),
    "candidate.cv_analyzed": (Kind.CV_ANALYSIS, "analysis_id"),
    "question.created": (Kind.QUESTION, "question_id"),
    # Not a new row: listed so a checked snapshot loads whether the question exists.
    "question.rubric_changed": (Kind.QUESTION, "question_id"),
    "interview.created": (Kind.INTERVIEW, "interview_id"),
    "answer.submitted": (Kind.ANSWER, "answer_id"),
    "answer.evaluated": (Kind.EVALUATION, "evaluation_id"),
    "chat.session.started": (Kind.CHAT_SESSION, "chat_session_id"),
    "chat.message.posted": (Kind.CHAT_MESSAGE, "message_id"),
    "chat.reply.completed": (Kind.CHAT_MESSAGE, "reply_id"),
}


def asyncpg_dsn(dsn: str) -> str:
    """A DSN asyncpg accepts: `postgresql://` (also from `postgres://` or `postgresql+asyncpg://`)."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme.split("+")[0] not in {"postgres", "postgresql"}:
        raise ValueError("expected a postgresql:// URL")
    return f"postgresql://{rest}"


def sqlalchemy_dsn(dsn: str) -> str:
    """The same DSN for SQLAlchemy's asyncpg dialect (used by the migrations)."""
    return "postgresql+asyncpg://" + asyncpg_dsn(dsn).partition("://")[2]


# --- the snapshot a batch is planned against -----------------------------------------------------


@dataclass
class _Snapshot:
    """Committed state touched by one batch; implements rules.StateView."""

    outcomes: dict[uuid.UUID, ApplyResult] = field(default_factory=dict)
    existing: dict[Kind, set[uuid.UUID]] = field(default_factory=lambda: {k: set() for k in Kind})
    emails: dict[str, uuid.UUID] = field(default_factory=dict)
    interviews: dict[uuid.UUID, Interview] = field(default_factory=dict)
    """The interviews the batch changes, as locked."""
    sequences: dict[uuid.UUID, int] = field(default_factory=dict)
    checked: bool = False
    """Whether outcomes, taken ids and e-mails were loaded; until then they are assumed absent."""
    assumed: list[tuple[Kind, uuid.UUID]] = field(default_factory=list)
    """Ids answered "absent" without being checked."""

    def outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        return self.outcomes.get(event_id)

    def exists(self, kind: Kind, row_id: uuid.UUID) -> bool:
        if row_id in self.existing[kind]:
            return True
        if kind is Kind.INTERVIEW and row_id in self.interviews:
            return True
        if not self.checked:
            self.assumed.append((kind, row_id))
        return False

    def proven_by_write(self, changes: Changes) -> bool:
        """Whether writing `changes` proves every "absent" this unchecked snapshot assumed.

        Every event recorded goes into processed_events, every claimed id into its table and
        every accepted e-mail into candidates, all under unique indexes: if the write succeeds,
        none of them existed, so the plan is the one a checked snapshot gives. An id assumed
        absent but not inserted (a candidate rejected for its e-mail after its id was looked up)
        is not proven, and the batch must be planned against a checked snapshot instead.
        """
        return all(row_id in changes.claimed[kind] for kind, row_id in self.assumed)

    def found_nothing(self) -> bool:
        """Whether a checked snapshot found no outcome, taken id or e-mail."""
        return not (self.outcomes or self.emails or any(self.existing.values()))

    def email_owner(self, email_key: str) -> uuid.UUID | None:
        return self.emails.get(email_key)

    def interview(self, interview_id: uuid.UUID) -> Interview | None:
        return self.interviews.get(interview_id)

    def last_sequence(self, session_id: uuid.UUID) -> int:
        return self.sequences.get(session_id, 0)


@dataclass
class _Refs:
    """Every id a batch reads, grouped by what is asked about it."""

    events: list[uuid.UUID] = field(default_factory=list)
    new_ids: dict[Kind, list[uuid.UUID]] = field(default_factory=lambda: {k: [] for k in Kind})
    emails: list[str] = field(default_factory=list)
    interviews: set[uuid.UUID] = field(default_factory=set)
    """Interviews whose status the batch changes: read and locked."""
    sessions: set[uuid.UUID] = field(default_factory=set)


def _references(batch: Sequence[Event]) -> _Refs:
    refs = _Refs()
    for event in batch:
        if event.type == "chat.reply.delta":
            continue
        refs.events.append(event.event_id)
        if (new := _NEW_IDS.get(event.type)) is not None:
            refs.new_ids[new[0]].append(getattr(event, new[1]))
        if event.type == "candidate.registered":
            refs.emails.append(email_key(event.email))
        elif event.type == "interview.status_changed":
            refs.interviews.add(event.interview_id)
        elif event.type in {"chat.message.posted", "chat.reply.completed"}:
            refs.sessions.add(event.chat_session_id)
    return refs


async def _load(conn: Any, refs: _Refs, *, checked: bool) -> _Snapshot:
    """Lock and read what the batch changes; with `checked`, also what it must not duplicate."""
    snap = _Snapshot()
    if checked:
        await _check(conn, refs, snap)
    if refs.interviews:
        # Sorted like the lock order (UUIDs order by their integer value).
        ids = sorted(refs.interviews, key=_uuid_int)
        snap.interviews = {
            r["id"]: _locked_interview(r) for r in await conn.fetch(sql.LOCK_INTERVIEWS, ids)
        }
    if refs.sessions:
        await conn.execute(sql.LOCK_CHAT_SESSIONS, sorted(refs.sessions, key=_uuid_int))
        rows = await conn.fetch(sql.LAST_SEQUENCES, list(refs.sessions))
        snap.sequences = {r["session_id"]: r["last"] for r in rows}
    return snap


async def _check(conn: Any, refs: _Refs, snap: _Snapshot) -> None:
    """Load recorded outcomes, taken ids and registered e-mails into the snapshot."""
    snap.checked = True
    snap.assumed.clear()
    if not refs.events:
        return
    args = [refs.new_ids[kind] for kind in Kind]
    for kind, row_id, a, b in await conn.fetch(sql.SNAPSHOT, refs.events, *args, refs.emails):
        if kind == "event":
            snap.outcomes[row_id] = trusted(
                ApplyResult, {"event_id": row_id, "outcome": Outcome(a), "reason": b}
            )
        elif kind == "email":
            snap.emails[a] = row_id
        else:
            snap.existing[Kind(kind)].add(row_id)


_uuid_int = operator.attrgetter("int")


# --- writing a planned batch --------------------------------------------------------------------


def _json(value: object) -> str:
    return to_json(value).decode()


def _records(changes: Changes) -> dict[str, list[tuple[Any, ...]]]:
    """COPY records per table, in the column order of sql.COLUMNS."""
    now = datetime.now(UTC)
    return {
        "processed_events": [
            (r.result.event_id, r.event_type, r.result.outcome.value, r.result.reason, now)
            for r in changes.recorded
        ],
        "candidates": [
            (
                c.id,
                c.name,
                c.email,
                email_key(c.email),
                c.cv_path,
                c.created_at,
                c.updated_at,
                c.org_id,
            )
            for c in changes.candidates
        ],
        "cv_analyses": [
            (a.id, a.candidate_id, _json(a.skills), a.summary, a.created_at)
            for a in changes.cv_analyses
        ],
        "questions": [_question_record(q) for q in changes.questions],
        "interviews": [
            _interview_record(i)
            for i in changes.interviews.values()
            if i.id in changes.created_interviews
        ],
        "answers": [_answer_record(row) for row in changes.answers],
        "evaluations": [_evaluation_record(e) for e in changes.evaluations],
        "chat_sessions": [
            (s.id, s.interview_id, s.created_at, s.org_id) for s in changes.chat_sessions
        ],
        "chat_messages": [
            (m.id, m.session_id, m.role.value, m.content, m.sequence, m.created_at)
            for m in changes.chat_messages
        ],
    }


def _question_record(q: Question) -> tuple[Any, ...]:
    return (
        q.id, q.text, q.type.value, q.difficulty.value, list(q.skills), list(q.tags),
        q.reference_answer, list(q.key_points), _json(q.rubric), q.rubric.version, q.created_at,
        q.updated_at, q.org_id,
    )  # fmt: skip


def _answer_record(row: AnswerRow) -> tuple[Any, ...]:
    a = row.answer
    return (
        a.id, a.interview_id, a.question_id, a.text, row.question_text, a.submitted_at,
        a.created_at, a.audio_uri,
    )  # fmt: skip


def _interview_record(i: Interview) -> tuple[Any, ...]:
    return (
        i.id, i.candidate_id, i.title, list(i.question_ids), i.status.value, i.created_at,
        i.updated_at, i.started_at, i.completed_at, i.org_id,
    )  # fmt: skip


def _evaluation_record(e: Evaluation) -> tuple[Any, ...]:
    return (
        e.id, e.answer_id, e.interview_id, e.question_id, e.outcome, e.score, _json(e.criteria),
        e.feedback, e.unscorable_reason, _json(e.explanation), list(e.flags), _json(e.lineage),
        e.lineage.rubric_version, _json(e.usage), e.created_at, e.confidence,
        None if e.review is None else _json(e.review), list(e.review_reasons),
    )  # fmt: skip


async def _write(conn: Any, changes: Changes) -> None:
    for table, records in _records(changes).items():
        if records:
            # COPY is the fastest bulk path; a unique violation aborts it like an INSERT would.
            await conn.copy_records_to_table(table, records=records, columns=sql.COLUMNS[table])
    changed = [i for i in changes.interviews.values() if i.id not in changes.created_interviews]
    if changed:
        await conn.execute(
            sql.UPDATE_INTERVIEWS,
            [i.id for i in changed],
            [i.status.value for i in changed],
            [i.updated_at for i in changed],
            [i.started_at for i in changed],
            [i.completed_at for i in changed],
        )
    if changes.rubrics:
        await conn.executemany(
            sql.UPDATE_RUBRIC,
            [(q, _json(c.rubric), c.rubric.version, c.at) for q, c in changes.rubrics.items()],
        )
    if changes.replays:
        await conn.executemany(
            sql.UPSERT_REPLAY, [_replay_args(r) for r in changes.replays.values()]
        )
    if changes.reports:
        await conn.executemany(
            sql.UPSERT_REPORT, [_report_args(r) for r in changes.reports.values()]
        )
    if changes.erased:
        for statement in sql.ERASE_CANDIDATES:
            await conn.execute(statement, changes.erased)


async def _advance(conn: Any, offsets: Offsets) -> None:
    ordered = sorted(offsets.items())
    await conn.execute(
        sql.ADVANCE_OFFSETS,
        [topic for (topic, _), _ in ordered],
        [partition for (_, partition), _ in ordered],
        [kept.next_offset for _, kept in ordered],
        [kept.announced for _, kept in ordered],
    )


def _replay_args(row: ReplayRow) -> tuple[Any, ...]:
    r = row.replay
    return (r.id, r.status, r.scanned, r.evaluated, r.skipped, r.cost_usd, row.at, r.org_id)


def _report_args(r: InterviewReport) -> tuple[Any, ...]:
    return (
        r.interview_id, r.overall_score, _json(r.skills), list(r.strengths), list(r.weaknesses),
        list(r.rubric_versions), r.created_at,
    )  # fmt: skip


# --- reading rows back into read models ---------------------------------------------------------


def _result(row: Row) -> ApplyResult:
    return ApplyResult(
        event_id=row["event_id"], outcome=Outcome(row["outcome"]), reason=row["reason"]
    )


def _decoded(row: Row, *json_columns: str) -> dict[str, Any]:
    data = dict(row)
    for column in json_columns:
        data[column] = json.loads(data[column])
    return data


def _candidate(row: Row) -> Candidate:
    return Candidate.model_validate(dict(row))


def _cv_analysis(row: Row) -> CvAnalysis:
    return CvAnalysis.model_validate(_decoded(row, "skills"))


def _question(row: Row) -> Question:
    return Question.model_validate(_decoded(row, "rubric"))


def _interview(row: Row) -> Interview:
    return Interview.model_validate(dict(row))


def _locked_interview(row: Row) -> Interview:
    """An interview row as the rules read it: a row this store wrote, so not validated again."""
    return trusted(
        Interview,
        {
            "id": row["id"],
            "candidate_id": row["candidate_id"],
            "title": row["title"],
            "question_ids": tuple(row["question_ids"]),
            "status": InterviewStatus(row["status"]),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "started_at": row["started_at"],
            "completed_at": row["completed_at"],
            "org_id": row["org_id"],
        },
    )


def _evaluation(row: Row) -> Evaluation:
    data = _decoded(row, "criteria", "explanation", "lineage", "usage")
    if data["review"] is not None:
        data["review"] = json.loads(data["review"])
    return Evaluation.model_validate(data)


def _answer_row(row: Row) -> AnswerRow:
    data = dict(row)
    question_text = data.pop("question_text")
    return AnswerRow(Answer.model_validate(data), question_text)


def _report(row: Row) -> InterviewReport:
    return InterviewReport.model_validate(_decoded(row, "skills"))


class PostgresStore:
    """The Store port on PostgreSQL (schema managed by interview_store.migrate)."""

    backend = "postgres"

    def __init__(
        self,
        pool: Any,
        *,
        health_timeout: float = 1.0,
        vectors: PostgresQuestionVectors | None = None,
    ) -> None:
        self._pool = pool
        self._vectors = vectors or PostgresQuestionVectors()
        self._health_timeout = health_timeout
        self._optimistic = True
        """Whether the next batch is first tried without lookups (see `apply`)."""

    @classmethod
    async def connect(
        cls, dsn: str, *, min_size: int = 1, max_size: int = 10, connect_timeout: float = 5.0
    ) -> PostgresStore:
        """Open a pool; raises StoreUnavailableError if the server cannot be reached."""
        try:
            pool = await asyncpg.create_pool(
                asyncpg_dsn(dsn), min_size=min_size, max_size=max_size, timeout=connect_timeout
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError(f"cannot connect to PostgreSQL: {exc}") from exc
        return cls(pool)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError(f"PostgreSQL unavailable: {exc}") from exc

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Any]:
        """A read-only transaction, so a read made of several queries sees one state."""
        async with (
            self._connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn

    # --- write side --------------------------------------------------------------------------

    async def apply(
        self, events: Sequence[Event], *, offsets: Offsets | None = None
    ) -> list[ApplyResult]:
        """Apply a batch in one transaction, retrying it whole if a concurrent batch raced it.

        The batch's Kafka offsets are written in the same transaction as its rows, so the data
        and the position it was read up to commit together (see `consumed_offsets`).

        Most batches are new events creating new rows, so the first attempt does not look up
        outcomes, taken ids and e-mails before writing: it plans as if none exist and lets the
        unique indexes prove it while the rows are written (`_Snapshot.proven_by_write`). A unique
        violation then means "something did exist": the batch is retried with the lookups, and
        later batches keep doing the lookups until one finds nothing (a redelivered stream is
        not attempted twice per batch). Both ways give the same outcomes; the first saves a round
        trip and an index probe per event.
        """
        if not events:
            if offsets:
                async with self._connection() as conn, conn.transaction():
                    await _advance(conn, offsets)
            return []
        refs = _references(events)
        for attempt in range(_ATTEMPTS):
            optimistic = attempt == 0 and self._optimistic
            try:
                async with self._connection() as conn, conn.transaction():
                    snap = await _load(conn, refs, checked=not optimistic)
                    changes = plan_batch(snap, events)
                    if not snap.checked and not snap.proven_by_write(changes):
                        await _check(conn, refs, snap)
                        changes = plan_batch(snap, events)
                    await _write(conn, changes)
                    if offsets:
                        await _advance(conn, offsets)
                if snap.checked:
                    self._optimistic = snap.found_nothing()
                self._vectors.created(self._pool, changes.questions)  # off the ingest path
                return changes.results
            except _RETRYABLE as exc:
                if optimistic and isinstance(exc, asyncpg.exceptions.UniqueViolationError):
                    self._optimistic = False  # retry at once, with the lookups
                    continue
                if attempt == _ATTEMPTS - 1:
                    raise
                # Jittered back-off so racing batches do not collide again in lock-step.
                await asyncio.sleep(random.uniform(0, 0.002 * min(2**attempt, 64)))
        raise AssertionError("unreachable")

    async def consumed_offsets(self) -> dict[tuple[str, int], KeptOffset]:
        """The offsets kept with the data; none in an empty database (rebuild from 0)."""
        rows = await self._fetch(sql.CONSUMED_OFFSETS)
        return {
            (r["topic"], r["kafka_partition"]): KeptOffset(r["next_offset"], r["announced"])
            for r in rows
        }

    async def event_outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        """The recorded outcome of an event, or None."""
        row = await self._fetchrow(sql.EVENT_OUTCOME, event_id)
        return _result(row) if row else None

    async def healthy(self) -> bool:
        """Whether `SELECT 1` answers within the health timeout."""
        try:
            async with asyncio.timeout(self._health_timeout):
                async with self._connection() as conn:
                    return bool(await conn.fetchval("SELECT 1") == 1)
        except (StoreUnavailableError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def close(self) -> None:
        """Stop embedding in the background, then close the pool."""
        await self._vectors.background.close()
        await self._pool.close()

    # --- helpers -----------------------------------------------------------------------------

    async def _fetchrow(self, query: str, *args: object) -> Row | None:
        async with self._connection() as conn:
            row: Row | None = await conn.fetchrow(query, *args)
            return row

    async def _fetch(self, query: str, *args: object) -> list[Row]:
        async with self._connection() as conn:
            rows: list[Row] = await conn.fetch(query, *args)
            return rows

    async def _get(self, query: str, arg: object, convert: Callable[[Row], T]) -> T | None:
        row = await self._fetchrow(query, arg)
        return convert(row) if row else None

    async def _page(
        self, listing: str, request: ListRequest, where: sql.Where, convert: Callable[[Row], T]
    ) -> Page[T]:
        query, args = sql.listing_query(listing, request, where)
        rows = [convert(row) for row in await self._fetch(query, *args)]
        return page(rows, request, lambda item: position(item, request.sort.field))

    # --- read side ---------------------------------------------------------------------------

    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None:
        """A candidate by id."""
        return await self._get(sql.CANDIDATE, candidate_id, _candidate)

    async def get_candidate_by_email(self, email: str) -> Candidate | None:
        """A candidate by e-mail, case-insensitively."""
        return await self._get(sql.CANDIDATE_BY_EMAIL, email_key(email), _candidate)

    async def list_candidates(self, query: ListQuery) -> Page[Candidate]:
        """A page of candidates."""
        where = _org(query)
        return await self._page("candidates", prepare("candidates", query), where, _candidate)

    async def list_cv_analyses(self, candidate_id: uuid.UUID) -> list[CvAnalysis]:
        """A candidate's CV analyses, oldest first."""
        return [_cv_analysis(r) for r in await self._fetch(sql.CV_ANALYSES, candidate_id)]

    async def get_question(self, question_id: uuid.UUID) -> Question | None:
        """A question by id."""
        return await self._get(sql.QUESTION, question_id, _question)

    async def list_questions(self, query: ListQuery, filters: QuestionFilter) -> Page[Question]:
        """A page of questions matching any of the skills, any of the tags, and the rest."""
        request = prepare("questions", query)
        where = _org(query)
        if filters.skills:
            where.add("skills && {}::text[]", list(filters.skills))
        if filters.tags:
            where.add("tags && {}::text[]", list(filters.tags))
        if filters.difficulty is not None:
            where.add("difficulty = {}::text", filters.difficulty.value)
        if filters.type is not None:
            where.add("type = {}::text", filters.type.value)
        if filters.similar_to is not None:
            async with self._connection() as conn:
                return await self._vectors.search(conn, filters.similar_to, query, where, _question)
        return await self._page("questions", request, where, _question)

    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None:
        """An interview by id."""
        return await self._get(sql.INTERVIEW, interview_id, _interview)

    async def get_interviews(self, interview_ids: Sequence[uuid.UUID]) -> list[Interview]:
        """The interviews among `interview_ids` that exist, in no particular order."""
        return [_interview(row) for row in await self._fetch(sql.INTERVIEWS_BY_ID, interview_ids)]

    async def list_interviews(self, query: ListQuery, filters: InterviewFilter) -> Page[Interview]:
        """A page of interviews."""
        request = prepare("interviews", query)
        where = _org(query)
        if filters.status is not None:
            where.add("status = {}::text", filters.status.value)
        if filters.candidate_id is not None:
            where.add("candidate_id = {}::uuid", filters.candidate_id)
        if filters.created_from is not None:
            where.add("created_at >= {}::timestamptz", utc(filters.created_from))
        if filters.created_to is not None:
            where.add("created_at < {}::timestamptz", utc(filters.created_to))
        return await self._page("interviews", request, where, _interview)

    async def interview_log(self, interview_id: uuid.UUID) -> list[InterviewLogEntry]:
        """The interview's questions with their latest answers and current scores."""
        async with self._snapshot() as conn:
            row = await conn.fetchrow(sql.INTERVIEW, interview_id)
            if row is None:
                return []
            interview = _interview(row)
            rows = [_answer_row(r) for r in await conn.fetch(sql.LATEST_ANSWERS, interview_id)]
            answers = await _attach_evaluations(conn, rows)
            questions = await conn.fetch(sql.QUESTIONS_BY_ID, list(interview.question_ids))
        return build_log(
            interview,
            {q.id: q for q in map(_question, questions)},
            {a.question_id: a for a in answers},
            {r.answer.question_id: r.question_text for r in rows},
        )

    async def get_interview_report(self, interview_id: uuid.UUID) -> InterviewReport | None:
        """The interview's latest report."""
        return await self._get(sql.REPORT, interview_id, _report)

    async def get_answer(self, answer_id: uuid.UUID) -> Answer | None:
        """An answer with its current evaluation."""
        async with self._snapshot() as conn:
            row = await conn.fetchrow(sql.ANSWER, answer_id)
            if row is None:
                return None
            answers = await _attach_evaluations(conn, [_answer_row(row)])
        return answers[0]

    async def list_answers(self, query: ListQuery, filters: AnswerFilter) -> Page[Answer]:
        """A page of answers, each with its current evaluation."""
        request = prepare("answers", query)
        where = sql.Where()
        if filters.interview_id is not None:
            where.add("interview_id = {}::uuid", filters.interview_id)
        if filters.question_id is not None:
            where.add("question_id = {}::uuid", filters.question_id)
        statement, args = sql.listing_query("answers", request, where)
        async with self._snapshot() as conn:
            rows = [_answer_row(r) for r in await conn.fetch(statement, *args)]
            answers = await _attach_evaluations(conn, rows)
        return page(answers, request, lambda a: position(a, request.sort.field))

    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]:
        """A page of evaluations (the whole history, not only current ones)."""
        request = prepare("evaluations", query)
        where = sql.Where()
        if query.org_id is not None:  # evaluations belong to their interview's organisation
            where.add("interview_id IN (SELECT id FROM interviews WHERE org_id = {})", query.org_id)
        if filters.answer_id is not None:
            where.add("answer_id = {}::uuid", filters.answer_id)
        if filters.interview_id is not None:
            where.add("interview_id = {}::uuid", filters.interview_id)
        if filters.min_score is not None:
            where.add("score >= {}::float8", filters.min_score)
        if filters.max_score is not None:
            where.add("score <= {}::float8", filters.max_score)
        return await self._page("evaluations", request, where, _evaluation)

    async def get_evaluation(self, evaluation_id: uuid.UUID) -> Evaluation | None:
        """An evaluation by id."""
        return await self._get(sql.EVALUATION, evaluation_id, _evaluation)

    async def list_reviews(self, query: ListQuery, filters: ReviewFilter) -> Page[Evaluation]:
        """A page of the review queue, of one reason if asked."""
        request = prepare("reviews", query)
        where = sql.Where()
        where.add(sql.REVIEW_QUEUE)
        if query.org_id is not None:  # evaluations belong to their interview's organisation
            where.add("interview_id IN (SELECT id FROM interviews WHERE org_id = {})", query.org_id)
        if filters.reason is not None:
            where.add("{}::text = ANY(review_reasons)", filters.reason)
        return await self._page("reviews", request, where, _evaluation)

    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None:
        """A chat session by id."""
        return await self._get(sql.CHAT_SESSION, session_id, lambda r: ChatSession(**r))

    async def get_replay(self, replay_id: uuid.UUID) -> Replay | None:
        """A replay's latest state."""
        return await self._get(sql.REPLAY, replay_id, lambda r: Replay(**r))

    async def list_chat_messages(self, session_id: uuid.UUID) -> list[ChatMessage]:
        """A session's messages in sequence order."""
        rows = await self._fetch(sql.CHAT_MESSAGES, session_id)
        return [ChatMessage.model_validate(dict(r)) for r in rows]


def _org(query: ListQuery) -> sql.Where:
    """The organisation condition of a listing, if it names one."""
    where = sql.Where()
    if query.org_id is not None:
        where.add("org_id = {}::text", query.org_id)
    return where


async def _attach_evaluations(conn: Any, rows: Iterable[AnswerRow]) -> list[Answer]:
    """Answers with their current evaluation (rules.current_evaluation decides which)."""
    rows = list(rows)
    if not rows:
        return []
    answer_ids = [r.answer.id for r in rows]
    question_ids = list({r.answer.question_id for r in rows})
    evaluations: dict[uuid.UUID, list[Evaluation]] = {}
    for row in await conn.fetch(sql.EVALUATIONS_OF, answer_ids):
        evaluation = _evaluation(row)
        evaluations.setdefault(evaluation.answer_id, []).append(evaluation)
    versions = {
        r["id"]: r["rubric_version"] for r in await conn.fetch(sql.RUBRIC_VERSIONS, question_ids)
    }
    return [
        with_evaluation(r, evaluations.get(r.answer.id, ()), versions.get(r.answer.question_id))
        for r in rows
    ]
