"""Differential test: random batches and queries give identical answers on both backends.

Ids come from small pools and times from a handful of values, so clashes, duplicates, ties and
out-of-order events are common rather than rare.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interview_shared import events as ev
from interview_shared.domain import Difficulty, InterviewStatus, QuestionType, Rubric
from interview_store.memory import MemoryStore
from interview_store.port import (
    AnswerFilter,
    EvaluationFilter,
    InterviewFilter,
    ListQuery,
    QuestionFilter,
    Store,
)
from interview_store.postgres import PostgresStore

from . import factories as f

pytestmark = pytest.mark.postgres

TABLES = (
    "processed_events, candidates, cv_analyses, questions, interviews, answers, evaluations,"
    " interview_reports, chat_sessions, chat_messages, question_embeddings"
)


# Lengths on both sides of 6 and mixed case: the key must fold case at every length.
EMAILS = ["a@x", "A@X", "a@x.io", "A@X.io", "b@x.io", "Carol@Example.com", "carol@example.COM"]


def pool(size: int) -> list[uuid.UUID]:
    """A fixed pool of ids (sorted, so shrinking is stable)."""
    return sorted(uuid.uuid4() for _ in range(size))


CANDIDATES, QUESTIONS, INTERVIEWS = pool(4), pool(3), pool(3)
ANSWERS, EVALUATIONS, SESSIONS, MESSAGES = pool(4), pool(5), pool(2), pool(5)

ids = st.sampled_from
times = st.integers(0, 6).map(lambda n: f.T0 + timedelta(seconds=n, microseconds=n * 7))
texts = st.text(alphabet="aAbB é\x00Zß", max_size=4)
words = st.sampled_from(["python", "go", "sql", "db"])
scores = st.none() | st.sampled_from([0.0, 12.5, 33.3, 50.0, 99.99, 100.0])
versions = st.sampled_from(["v1", "v2"])


def envelope() -> dict[str, Any]:
    return {"occurred_at": times}


candidate = st.builds(
    ev.CandidateRegistered,
    candidate_id=ids(CANDIDATES),
    name=texts,
    # Lengths on both sides of 6 and mixed case: the key must fold case at every length.
    email=st.sampled_from(
        ["a@x", "A@X", "a@x.io", "A@X.io", "b@x.io", "Carol@Example.com", "carol@example.COM"]
    ),
    **envelope(),
)
question = st.builds(
    ev.QuestionCreated,
    question_id=ids(QUESTIONS),
    text=texts,
    question_type=st.sampled_from(list(QuestionType)),
    difficulty=st.sampled_from(list(Difficulty)),
    skills=st.lists(words, max_size=2, unique=True).map(tuple),
    tags=st.lists(words, max_size=2, unique=True).map(tuple),
    rubric=versions.map(lambda v: Rubric(version=v)),
    **envelope(),
)
rubric_change = st.builds(
    ev.QuestionRubricChanged,
    question_id=ids(QUESTIONS),
    rubric=versions.map(lambda v: Rubric(version=v)),
    **envelope(),
)
interview = st.builds(
    ev.InterviewCreated,
    interview_id=ids(INTERVIEWS),
    candidate_id=ids(CANDIDATES),
    title=texts,
    question_ids=st.lists(ids(QUESTIONS), max_size=3).map(tuple),
    **envelope(),
)
status = st.builds(
    ev.InterviewStatusChanged,
    interview_id=ids(INTERVIEWS),
    status=st.sampled_from(list(InterviewStatus)),
    **envelope(),
)
answer = st.builds(
    ev.AnswerSubmitted,
    answer_id=ids(ANSWERS),
    interview_id=ids(INTERVIEWS),
    question_id=ids(QUESTIONS),
    text=texts,
    question=st.builds(ev.QuestionSnapshot, question_id=ids(QUESTIONS), text=texts),
    **envelope(),
)
evaluation = st.builds(
    ev.AnswerEvaluated,
    evaluation_id=ids(EVALUATIONS),
    answer_id=ids(ANSWERS),
    interview_id=ids(INTERVIEWS),
    question_id=ids(QUESTIONS),
    score=scores,
    lineage=st.builds(
        ev.Lineage, scorer=st.just("s"), scorer_version=st.just("1"),
        rubric_version=versions, evaluator_version=st.just("1"),
    ),
    **envelope(),
)  # fmt: skip
report = st.builds(
    ev.InterviewEvaluated, interview_id=ids(INTERVIEWS), overall_score=scores, **envelope()
)
chat = st.builds(ev.ChatSessionStarted, chat_session_id=ids(SESSIONS), **envelope())
posted = st.builds(
    ev.ChatMessagePosted,
    chat_session_id=ids(SESSIONS),
    message_id=ids(MESSAGES),
    content=texts,
    **envelope(),
)
replied = st.builds(
    ev.ChatReplyCompleted,
    chat_session_id=ids(SESSIONS),
    reply_id=ids(MESSAGES),
    in_reply_to=ids(MESSAGES),
    content=texts,
    deltas=st.just(1),
    **envelope(),
)
any_event = st.one_of(
    candidate, question, rubric_change, interview, status, status, answer, evaluation, report,
    chat, posted, replied,
)  # fmt: skip


@st.composite
def batches(draw: st.DrawFn) -> list[list[ev.Event]]:
    """A few batches; some events are redelivered, within a batch or in a later one."""
    result: list[list[ev.Event]] = []
    sent: list[ev.Event] = []
    for _ in range(draw(st.integers(1, 4))):
        batch: list[ev.Event] = draw(st.lists(any_event, max_size=12))
        redeliver: bool = draw(st.booleans())
        if sent and redeliver:
            batch.insert(draw(st.integers(0, len(batch))), draw(st.sampled_from(sent)))
        sent += batch
        result.append(batch)
    return result


SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]
queries = st.builds(
    ListQuery,
    limit=st.integers(1, 4),
    offset=st.sampled_from([0, 0, 1, 3]),
    sort=st.sampled_from(SORTS),
)
interview_filters = st.builds(
    InterviewFilter,
    status=st.none() | st.sampled_from(list(InterviewStatus)),
    candidate_id=st.none() | ids(CANDIDATES),
    created_from=st.none() | times,
    created_to=st.none() | times,
)
question_filters = st.builds(
    QuestionFilter,
    skills=st.lists(words, max_size=2).map(tuple),
    tags=st.lists(words, max_size=2).map(tuple),
    difficulty=st.none() | st.sampled_from(list(Difficulty)),
)
evaluation_filters = st.builds(
    EvaluationFilter,
    answer_id=st.none() | ids(ANSWERS),
    min_score=st.none() | st.sampled_from([0.0, 12.5, 50.0]),
    max_score=st.none() | st.sampled_from([12.5, 99.99, 100.0]),
)


async def walk(list_page: Any, query: ListQuery, *args: Any) -> list[Any]:
    """All pages from `query`, following cursors (offset only applies to the first page)."""
    pages = [await list_page(query, *args)]
    while pages[-1].next_cursor is not None and len(pages) < 20:
        nxt = query.model_copy(update={"cursor": pages[-1].next_cursor, "offset": 0})
        pages.append(await list_page(nxt, *args))
    return pages


async def observe(store: Store, plan: dict[str, Any]) -> list[Any]:
    """Everything the read side can say about the store, for the drawn queries."""
    seen: list[Any] = [await store.event_outcome(e) for e in plan["event_ids"]]
    seen += [await store.get_candidate(i) for i in CANDIDATES]
    seen += [await store.get_candidate_by_email(e) for e in ("a@x.io", "B@X.IO")]
    seen += [await store.list_cv_analyses(i) for i in CANDIDATES[:1]]
    seen += [await store.get_question(i) for i in QUESTIONS]
    seen += [await store.get_interview(i) for i in INTERVIEWS]
    seen += [await store.interview_log(i) for i in INTERVIEWS]
    seen += [await store.get_interview_report(i) for i in INTERVIEWS]
    seen += [await store.get_answer(i) for i in ANSWERS]
    seen += [await store.get_chat_session(i) for i in SESSIONS]
    seen += [await store.list_chat_messages(i) for i in SESSIONS]
    query: ListQuery = plan["query"]
    seen += await walk(store.list_interviews, query, plan["interviews"])
    by_created = query.model_copy(update={"sort": query.sort.replace("title", "created_at")})
    seen += await walk(
        store.list_questions,
        by_created.model_copy(update={"sort": "updated_at"}),
        plan["questions"],
    )
    seen += await walk(
        store.list_candidates,
        query.model_copy(update={"sort": query.sort.replace("title", "name")}),
    )
    seen += await walk(
        store.list_answers,
        by_created.model_copy(update={"sort": "-created_at"}),
        AnswerFilter(interview_id=INTERVIEWS[0]),
    )
    for sort in (plan["score_sort"], "-score"):
        by_score = query.model_copy(update={"sort": sort})
        seen += await walk(store.list_evaluations, by_score, plan["evaluations"])
        seen += await walk(store.list_evaluations, by_score, EvaluationFilter())
    seen += await walk(store.list_interviews, ListQuery(limit=2, sort="title"), InterviewFilter())
    return seen  # fmt: skip


@pytest.fixture(scope="module")
async def shared_postgres(postgres_dsn: str, store_template: str) -> AsyncIterator[PostgresStore]:
    """One migrated database for every example; each example starts by truncating it."""
    from interview_localinfra.postgres import create_database, drop_database

    name = f"store_diff_{uuid.uuid4().hex[:12]}"
    dsn = await create_database(postgres_dsn, name)
    from interview_store.migrate import migrate

    await migrate(dsn)
    store = await PostgresStore.connect(dsn, min_size=1, max_size=2)
    yield store
    await store.close()
    await drop_database(postgres_dsn, name)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sent=batches(),
    query=queries,
    interviews=interview_filters,
    questions=question_filters,
    evaluations=evaluation_filters,
    score_sort=st.sampled_from(["score", "created_at"]),
)
async def test_memory_and_postgres_agree(
    shared_postgres: PostgresStore,
    sent: list[list[ev.Event]],
    query: ListQuery,
    interviews: InterviewFilter,
    questions: QuestionFilter,
    evaluations: EvaluationFilter,
    score_sort: str,
) -> None:
    async with shared_postgres._connection() as conn:
        await conn.execute(f"TRUNCATE {TABLES}")
    memory = MemoryStore()
    for batch in sent:
        assert await memory.apply(batch) == await shared_postgres.apply(batch)
    plan = {
        "event_ids": [e.event_id for batch in sent for e in batch],
        "query": query,
        "interviews": interviews,
        "questions": questions,
        "evaluations": evaluations,
        "score_sort": score_sort,
    }
    assert await observe(memory, plan) == await observe(shared_postgres, plan)
