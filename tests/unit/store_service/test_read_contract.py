"""One contract for the read side: the in-process adapter and the HTTP adapter against the real
store app (its routes declared from `READ_PATHS`) answer every query alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from interview_shared.domain import InterviewStatus, Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    CandidateRegistered,
    ChatMessagePosted,
    ChatSessionStarted,
    Event,
    InterviewCreated,
    InterviewEvaluated,
    InterviewStatusChanged,
    Lineage,
    QuestionCreated,
    QuestionSnapshot,
    ReplayProgressed,
    ReplayRequested,
    ReplayScope,
)
from interview_shared.read_client import HttpReadSide, ReadSide
from interview_shared.read_models import (
    AnswerFilter,
    EvaluationFilter,
    InterviewFilter,
    InvalidQueryError,
    ListQuery,
    QuestionFilter,
    ReviewFilter,
)
from interview_shared.read_paths import READ_PATHS, READ_PREFIX
from interview_store.main import create_app
from interview_store.memory import MemoryStore
from interview_store.settings import StoreSettings
from pydantic import SecretStr
from support import TEST_SERVICE_KEY, StoreReadSide

T0 = datetime(2026, 1, 1, tzinfo=UTC)
IDS = {
    name: uuid.uuid4()
    for name in ("candidate", "question", "interview", "answer", "evaluation", "chat", "replay")
}


def seed() -> list[Event]:
    """One of everything the read side serves."""
    question = QuestionCreated(
        question_id=IDS["question"],
        text="What is a mutex?",
        skills=("concurrency",),
        rubric=Rubric(),
    )
    answer = AnswerSubmitted(
        answer_id=IDS["answer"],
        interview_id=IDS["interview"],
        question_id=IDS["question"],
        text="A lock.",
        question=QuestionSnapshot(question_id=IDS["question"], text=question.text, rubric=Rubric()),
        occurred_at=T0 + timedelta(minutes=2),
    )
    return [
        CandidateRegistered(candidate_id=IDS["candidate"], name="Ada", email="ada@example.com"),
        question,
        InterviewCreated(
            interview_id=IDS["interview"],
            candidate_id=IDS["candidate"],
            title="Backend",
            question_ids=(IDS["question"],),
            occurred_at=T0,
        ),
        InterviewStatusChanged(interview_id=IDS["interview"], status=InterviewStatus.READY),
        InterviewStatusChanged(interview_id=IDS["interview"], status=InterviewStatus.IN_PROGRESS),
        answer,
        AnswerEvaluated(
            evaluation_id=IDS["evaluation"],
            answer_id=IDS["answer"],
            interview_id=IDS["interview"],
            question_id=IDS["question"],
            score=72.5,
            flags=("judges_disagree", "needs_human_review"),
            confidence=0.4,
            lineage=Lineage(
                scorer="offline", scorer_version="1", rubric_version="v1", evaluator_version="0"
            ),
        ),
        InterviewEvaluated(interview_id=IDS["interview"], overall_score=72.5),
        ChatSessionStarted(chat_session_id=IDS["chat"], interview_id=IDS["interview"]),
        ChatMessagePosted(chat_session_id=IDS["chat"], message_id=uuid.uuid4(), content="Hi"),
        ReplayRequested(replay_id=IDS["replay"], scope=ReplayScope()),
        ReplayProgressed(replay_id=IDS["replay"], scanned=3, evaluated=2, skipped=1, cost_usd=0.5),
    ]


@pytest.fixture(scope="module")
async def store() -> MemoryStore:
    memory = MemoryStore()
    results = await memory.apply(seed())
    assert {r.outcome.value for r in results} == {"applied"}
    return memory


@pytest.fixture(params=["in-process", "http"])
async def read(request: pytest.FixtureRequest, store: MemoryStore) -> AsyncIterator[ReadSide]:
    if request.param == "in-process":
        yield StoreReadSide(store)
        return
    app = create_app(StoreSettings(service_api_key=TEST_SERVICE_KEY), store=store)
    app.state.store = store  # what the lifespan sets
    async with HttpReadSide(
        "http://store",
        service_key=SecretStr(TEST_SERVICE_KEY),
        transport=httpx.ASGITransport(app=app),
    ) as http:
        yield http


UNKNOWN = uuid.uuid4()
Query = Callable[[ReadSide], Awaitable[Any]]
QUERIES: dict[str, tuple[Query, Query]] = {
    # name: (a query that finds the seeded row(s), the same query for an unknown id)
    "get_candidate": (
        lambda r: r.get_candidate(IDS["candidate"]),
        lambda r: r.get_candidate(UNKNOWN),
    ),
    "get_candidate_by_email": (
        lambda r: r.get_candidate_by_email("ADA@example.com"),
        lambda r: r.get_candidate_by_email("nobody@example.com"),
    ),
    "list_candidates": (lambda r: r.list_candidates(ListQuery()),) * 2,
    "list_cv_analyses": (
        lambda r: r.list_cv_analyses(IDS["candidate"]),
        lambda r: r.list_cv_analyses(UNKNOWN),
    ),
    "get_question": (lambda r: r.get_question(IDS["question"]), lambda r: r.get_question(UNKNOWN)),
    "list_questions": (
        lambda r: r.list_questions(ListQuery(), QuestionFilter(skills=("concurrency",))),
        lambda r: r.list_questions(ListQuery(), QuestionFilter(skills=("cobol",))),
    ),
    "get_interview": (
        lambda r: r.get_interview(IDS["interview"]),
        lambda r: r.get_interview(UNKNOWN),
    ),
    "list_interviews": (
        lambda r: r.list_interviews(ListQuery(), InterviewFilter(candidate_id=IDS["candidate"])),
        lambda r: r.list_interviews(ListQuery(), InterviewFilter(candidate_id=UNKNOWN)),
    ),
    "interview_log": (
        lambda r: r.interview_log(IDS["interview"]),
        lambda r: r.interview_log(UNKNOWN),
    ),
    "get_interview_report": (
        lambda r: r.get_interview_report(IDS["interview"]),
        lambda r: r.get_interview_report(UNKNOWN),
    ),
    "get_answer": (lambda r: r.get_answer(IDS["answer"]), lambda r: r.get_answer(UNKNOWN)),
    "list_answers": (
        lambda r: r.list_answers(ListQuery(), AnswerFilter(interview_id=IDS["interview"])),
        lambda r: r.list_answers(ListQuery(), AnswerFilter(interview_id=UNKNOWN)),
    ),
    "list_evaluations": (
        lambda r: r.list_evaluations(ListQuery(), EvaluationFilter(answer_id=IDS["answer"])),
        lambda r: r.list_evaluations(ListQuery(), EvaluationFilter(answer_id=UNKNOWN)),
    ),
    "get_evaluation": (
        lambda r: r.get_evaluation(IDS["evaluation"]),
        lambda r: r.get_evaluation(UNKNOWN),
    ),
    "list_reviews": (
        lambda r: r.list_reviews(ListQuery(), ReviewFilter(reason="judges_disagree")),
        lambda r: r.list_reviews(ListQuery(), ReviewFilter(reason="unscorable")),
    ),
    "get_chat_session": (
        lambda r: r.get_chat_session(IDS["chat"]),
        lambda r: r.get_chat_session(UNKNOWN),
    ),
    "list_chat_messages": (
        lambda r: r.list_chat_messages(IDS["chat"]),
        lambda r: r.list_chat_messages(UNKNOWN),
    ),
    "get_replay": (lambda r: r.get_replay(IDS["replay"]), lambda r: r.get_replay(UNKNOWN)),
}


def test_every_read_path_is_a_query_of_the_contract() -> None:
    assert set(READ_PATHS) == set(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_a_query_answers_as_the_store_does(
    name: str, read: ReadSide, store: MemoryStore
) -> None:
    found, missing = QUERIES[name]
    direct = StoreReadSide(store)

    assert await found(read) == await found(direct)
    assert await missing(read) == await missing(direct)


async def test_the_seeded_rows_are_found(read: ReadSide) -> None:
    # Guards the comparison above against two adapters that agree on finding nothing.
    answer = await read.get_answer(IDS["answer"])
    assert answer is not None
    assert answer.evaluation is not None
    assert answer.evaluation.score == 72.5
    assert (await read.list_chat_messages(IDS["chat"]))[0].content == "Hi"
    assert (await read.get_interview_report(IDS["interview"])) is not None
    replay = await read.get_replay(IDS["replay"])
    assert replay is not None
    assert (replay.status, replay.evaluated) == ("running", 2)
    queue = await read.list_reviews(ListQuery(), ReviewFilter())
    assert [(e.id, e.review_reasons, e.confidence) for e in queue.items] == [
        (IDS["evaluation"], ("judges_disagree",), 0.4)
    ]


async def test_an_unknown_sort_field_is_an_invalid_query(read: ReadSide) -> None:
    with pytest.raises(InvalidQueryError):
        await read.list_interviews(ListQuery(sort="nonsense"), InterviewFilter())


def test_the_store_routes_are_the_read_paths() -> None:
    app = create_app(StoreSettings(), store=MemoryStore())
    served = set(app.openapi()["paths"])
    assert {READ_PREFIX + path for path in READ_PATHS.values()} <= served
