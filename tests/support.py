"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from interview_shared.auth import Role, mint_token
from interview_shared.domain import DEFAULT_ORG
from interview_shared.events import EventEnvelope, encode_event
from interview_shared.read_models import (
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
    ListQuery,
    Page,
    Question,
    QuestionFilter,
    Replay,
    ReviewFilter,
)
from interview_shared.topics import Topic
from interview_store.port import Store

# ---- credentials: the gateway and the store verify these as they would a real caller's ----

TEST_JWT_SECRET = "test-only-secret-of-at-least-32-bytes!"
TEST_SERVICE_KEY = "test-only-service-key"


def token(
    role: Role | str = Role.ADMIN,
    *,
    org: str = DEFAULT_ORG,
    sub: str | None = None,
    candidate_id: uuid.UUID | str | None = None,
    ttl_s: float = 3600,
    secret: str = TEST_JWT_SECRET,
) -> str:
    """A signed token; by default an admin of the organisation old events belong to."""
    return mint_token(
        secret,
        sub=sub or f"user-{uuid.uuid4().hex[:8]}",
        org=org,
        role=role,
        candidate_id=candidate_id,
        ttl_s=ttl_s,
    )


def bearer(
    role: Role | str = Role.ADMIN,
    *,
    org: str = DEFAULT_ORG,
    sub: str | None = None,
    candidate_id: uuid.UUID | str | None = None,
) -> dict[str, str]:
    """An `Authorization` header carrying such a token."""
    return {"Authorization": f"Bearer {token(role, org=org, sub=sub, candidate_id=candidate_id)}"}


TEST_PII_MASTER_KEY = "test-only-master-key-wrapping-data-keys"
AUTH_ENV = {
    "JWT_SECRET": TEST_JWT_SECRET,
    "SERVICE_API_KEY": TEST_SERVICE_KEY,
    "PII_MASTER_KEY": TEST_PII_MASTER_KEY,
}
"""What a test system needs to take these credentials (the gateway is never open)."""


async def eventually(
    predicate: Callable[[], Awaitable[bool]], *, timeout_s: float, interval_s: float = 0.2
) -> None:
    """Poll `predicate` until it holds; for effects of another process that nothing signals."""
    async with asyncio.timeout(timeout_s):
        while not await predicate():  # noqa: ASYNC110 - the condition lives in another process
            await asyncio.sleep(interval_s)


class StoreReadSide:
    """The `ReadSide` port over a store in this process: the store's read API minus HTTP.

    `store` may be swapped between tests that share one app.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def healthy(self) -> bool:
        return await self.store.healthy()

    async def event_outcome(self, event_id: uuid.UUID, *, wait_s: float = 0) -> ApplyResult | None:
        # The memory store applies synchronously inside publish: nothing to wait for.
        return await self.store.event_outcome(event_id)

    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None:
        return await self.store.get_candidate(candidate_id)

    async def get_candidate_by_email(self, email: str) -> Candidate | None:
        return await self.store.get_candidate_by_email(email)

    async def list_candidates(self, query: ListQuery) -> Page[Candidate]:
        return await self.store.list_candidates(query)

    async def list_cv_analyses(self, candidate_id: uuid.UUID) -> list[CvAnalysis]:
        return await self.store.list_cv_analyses(candidate_id)

    async def get_question(self, question_id: uuid.UUID) -> Question | None:
        return await self.store.get_question(question_id)

    async def list_questions(self, query: ListQuery, filters: QuestionFilter) -> Page[Question]:
        return await self.store.list_questions(query, filters)

    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None:
        return await self.store.get_interview(interview_id)

    async def list_interviews(self, query: ListQuery, filters: InterviewFilter) -> Page[Interview]:
        return await self.store.list_interviews(query, filters)

    async def interview_log(self, interview_id: uuid.UUID) -> list[InterviewLogEntry]:
        return await self.store.interview_log(interview_id)

    async def get_interview_report(self, interview_id: uuid.UUID) -> InterviewReport | None:
        return await self.store.get_interview_report(interview_id)

    async def get_answer(self, answer_id: uuid.UUID) -> Answer | None:
        return await self.store.get_answer(answer_id)

    async def list_answers(self, query: ListQuery, filters: AnswerFilter) -> Page[Answer]:
        return await self.store.list_answers(query, filters)

    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]:
        return await self.store.list_evaluations(query, filters)

    async def get_evaluation(self, evaluation_id: uuid.UUID) -> Evaluation | None:
        return await self.store.get_evaluation(evaluation_id)

    async def list_reviews(self, query: ListQuery, filters: ReviewFilter) -> Page[Evaluation]:
        return await self.store.list_reviews(query, filters)

    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None:
        return await self.store.get_chat_session(session_id)

    async def list_chat_messages(self, session_id: uuid.UUID) -> list[ChatMessage]:
        return await self.store.list_chat_messages(session_id)

    async def get_replay(self, replay_id: uuid.UUID) -> Replay | None:
        return await self.store.get_replay(replay_id)


@asynccontextmanager
async def tail(bootstrap: str, topic: Topic) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer positioned at the end of every partition of `topic`: it sees what comes next."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        # Explicit end offsets: aiokafka's seek_to_end is resolved lazily, possibly after the
        # records the test is waiting for.
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        yield consumer
    finally:
        await consumer.stop()


async def matching(
    consumer: AIOKafkaConsumer,
    match: Callable[[Any], bool],
    *,
    count: int = 1,
    timeout_s: float = 30,
) -> list[Any]:
    """The first `count` JSON record values (decoded) that satisfy `match`, in log order."""
    found: list[Any] = []
    async with asyncio.timeout(timeout_s):
        while len(found) < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values = (json.loads(r.value) for r in records if r.value)
                found += [value for value in values if match(value)]
    return found[:count]


async def commit_group_at_end(bootstrap: str, group: str, *topics: Topic) -> None:
    """Commit `group`'s offsets at the current end of `topics`, so a service joining that group
    starts with what is produced next and not with other tests' leftovers."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()


async def candidates_in_domain(dsn: str, domain: str) -> int:
    """How many candidates the store database at `dsn` holds with an e-mail at `domain`."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM candidates WHERE email LIKE $1", f"%@{domain}"
        )
        return count
    finally:
        await connection.close()


async def keep_offsets_at_end(bootstrap: str, dsn: str, *topics: Topic) -> None:
    """Migrate the store database at `dsn` and keep its consumed offsets at the end of `topics`,
    so a PostgreSQL store on it starts with what is produced next instead of rebuilding the
    session's log (the store resumes from offsets kept with its data, not from a group's)."""
    from interview_store.migrate import migrate
    from interview_store.port import KeptOffset
    from interview_store.postgres import PostgresStore

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    await migrate(dsn)
    store = await PostgresStore.connect(dsn)
    try:
        kept = {(tp.topic, tp.partition): KeptOffset(end, end) for tp, end in ends.items()}
        await store.apply([], offsets=kept)
    finally:
        await store.close()


def consumer_record(
    *,
    topic: str,
    value: bytes | None,
    key: bytes | None = None,
    partition: int = 0,
    offset: int = 0,
    timestamp: int = 0,
    headers: tuple[tuple[str, bytes], ...] = (),
) -> ConsumerRecord[Any, Any]:
    """A record as aiokafka hands it to a consumer, for tests of handlers."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value or b""),
        headers=headers,
    )


def event_record(event: EventEnvelope, *, offset: int = 0) -> ConsumerRecord[Any, Any]:
    """The record of `event` on its catalogue topic, keyed as a producer would key it."""
    return consumer_record(
        topic=event.topic.name, value=encode_event(event), key=event.key.encode(), offset=offset
    )
