"""The store's internal read API: what the gateway, chat and evaluator query over HTTP.

Paths come from `interview_shared.read_paths.READ_PATHS`, the table `HttpReadSide` builds its
URLs from; `tests/unit/store_service/test_read_contract.py` holds both adapters to one contract.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from interview_shared.http import (
    answer_filter,
    evaluation_filter,
    found,
    interview_filter,
    list_query,
    listing,
    question_filter,
    review_filter,
)
from interview_shared.read_models import (
    Answer,
    AnswerFilter,
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
from interview_shared.read_paths import READ_PATHS, READ_PREFIX

from interview_store.port import Store

router = APIRouter(prefix=READ_PREFIX, tags=["read side"])


def get_store(request: Request) -> Store:
    """The store opened in the lifespan."""
    store: Store = request.app.state.store
    return store


async def org_list_query(
    query: Annotated[ListQuery, Depends(list_query)],
    org_id: Annotated[str | None, Query(max_length=200)] = None,
) -> ListQuery:
    """The listing parameters plus the organisation the caller restricts it to (the gateway
    always sends the user's)."""
    return query.model_copy(update={"org_id": org_id}) if org_id is not None else query


StoreDep = Annotated[Store, Depends(get_store)]
Listing = Annotated[ListQuery, Depends(org_list_query)]


@router.get(READ_PATHS["get_candidate_by_email"])
async def candidate_by_email(
    email: Annotated[str, Query(max_length=320)], store: StoreDep
) -> Candidate:
    """A candidate by e-mail (case-insensitive)."""
    return found(await store.get_candidate_by_email(email), "candidate")


@router.get(READ_PATHS["get_candidate"])
async def get_candidate(candidate_id: uuid.UUID, store: StoreDep) -> Candidate:
    """One candidate."""
    return found(await store.get_candidate(candidate_id), "candidate")


@router.get(READ_PATHS["list_candidates"])
async def list_candidates(store: StoreDep, query: Listing) -> Page[Candidate]:
    """Candidates, paged."""
    return await listing(store.list_candidates(query))


@router.get(READ_PATHS["list_cv_analyses"])
async def list_cv_analyses(candidate_id: uuid.UUID, store: StoreDep) -> list[CvAnalysis]:
    """A candidate's CV analyses, oldest first."""
    return await store.list_cv_analyses(candidate_id)


@router.get(READ_PATHS["get_question"])
async def get_question(question_id: uuid.UUID, store: StoreDep) -> Question:
    """One question with its rubric."""
    return found(await store.get_question(question_id), "question")


@router.get(READ_PATHS["list_questions"])
async def list_questions(
    store: StoreDep,
    query: Listing,
    filters: Annotated[QuestionFilter, Depends(question_filter)],
) -> Page[Question]:
    """Questions, filtered and paged."""
    return await listing(store.list_questions(query, filters))


@router.get(READ_PATHS["get_interview"])
async def get_interview(interview_id: uuid.UUID, store: StoreDep) -> Interview:
    """One interview."""
    return found(await store.get_interview(interview_id), "interview")


@router.get(READ_PATHS["list_interviews"])
async def list_interviews(
    store: StoreDep,
    query: Listing,
    filters: Annotated[InterviewFilter, Depends(interview_filter)],
) -> Page[Interview]:
    """Interviews, filtered and paged."""
    return await listing(store.list_interviews(query, filters))


@router.get(READ_PATHS["interview_log"])
async def interview_log(interview_id: uuid.UUID, store: StoreDep) -> list[InterviewLogEntry]:
    """The interview log: each question with its latest answer and current score."""
    found(await store.get_interview(interview_id), "interview")
    return await store.interview_log(interview_id)


@router.get(READ_PATHS["get_interview_report"])
async def interview_report(interview_id: uuid.UUID, store: StoreDep) -> InterviewReport:
    """The aggregate evaluation of a completed interview."""
    return found(await store.get_interview_report(interview_id), "interview report")


@router.get(READ_PATHS["get_answer"])
async def get_answer(answer_id: uuid.UUID, store: StoreDep) -> Answer:
    """One answer with its current evaluation."""
    return found(await store.get_answer(answer_id), "answer")


@router.get(READ_PATHS["list_answers"])
async def list_answers(
    store: StoreDep,
    query: Listing,
    filters: Annotated[AnswerFilter, Depends(answer_filter)],
) -> Page[Answer]:
    """Answers with their current evaluation, filtered and paged."""
    return await listing(store.list_answers(query, filters))


@router.get(READ_PATHS["list_evaluations"])
async def list_evaluations(
    store: StoreDep,
    query: Listing,
    filters: Annotated[EvaluationFilter, Depends(evaluation_filter)],
) -> Page[Evaluation]:
    """Every evaluation (history included), filtered and paged."""
    return await listing(store.list_evaluations(query, filters))


@router.get(READ_PATHS["get_evaluation"])
async def get_evaluation(evaluation_id: uuid.UUID, store: StoreDep) -> Evaluation:
    """One evaluation."""
    return found(await store.get_evaluation(evaluation_id), "evaluation")


@router.get(READ_PATHS["list_reviews"])
async def list_reviews(
    store: StoreDep,
    query: Listing,
    filters: Annotated[ReviewFilter, Depends(review_filter)],
) -> Page[Evaluation]:
    """The review queue: flagged evaluations whose answer no person has graded, paged."""
    return await listing(store.list_reviews(query, filters))


@router.get(READ_PATHS["get_chat_session"])
async def get_chat_session(session_id: uuid.UUID, store: StoreDep) -> ChatSession:
    """One chat session."""
    return found(await store.get_chat_session(session_id), "chat session")


@router.get(READ_PATHS["get_replay"])
async def get_replay(replay_id: uuid.UUID, store: StoreDep) -> Replay:
    """How far a re-scoring run has got."""
    return found(await store.get_replay(replay_id), "replay")


@router.get(READ_PATHS["list_chat_messages"])
async def list_chat_messages(session_id: uuid.UUID, store: StoreDep) -> list[ChatMessage]:
    """A chat session's messages in order."""
    found(await store.get_chat_session(session_id), "chat session")
    return await store.list_chat_messages(session_id)
