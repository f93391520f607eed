"""The read side as other services see it: a port, its HTTP adapter, and an in-process adapter.

The store service owns the data. Each service declares the queries it makes (composed from
`read_queries`); the gateway, which serves every listing, uses the whole `ReadSide`.
`HttpReadSide` talks to the store's internal API at the paths of `read_paths.READ_PATHS`; the
tests' `StoreReadSide` wraps a store in the same process, and one contract suite holds both.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Hashable
from typing import Any, Protocol, TypeVar, cast

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter

from interview_shared.auth import SERVICE_KEY_HEADER
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
    InvalidQueryError,
    ListQuery,
    Page,
    Question,
    QuestionFilter,
    Replay,
    ReviewFilter,
    StoreUnavailableError,
)
from interview_shared.read_paths import read_url
from interview_shared.read_queries import ReadQueries as ReadQueries  # re-exported: store port

M = TypeVar("M")


class ReadSide(ReadQueries, Protocol):
    """The read side as the gateway sees it: every query, and health. (Outcomes of events
    travel on `interview.outcomes.v1`, no longer over HTTP.)"""

    async def healthy(self) -> bool:
        """Whether the store can answer now."""
        ...


@functools.cache
def _adapter(model: Hashable) -> TypeAdapter[Any]:
    """One adapter per response type: building one costs far more than using it. Holding the
    type as a key also keeps pydantic's (weakly cached) `Page[X]` classes alive."""
    return TypeAdapter(cast(Any, model))


def _params(*models: BaseModel) -> dict[str, Any]:
    """Flatten query models into query parameters (tuples become repeated parameters)."""
    params: dict[str, Any] = {}
    renames = {"skills": "skill", "tags": "tag"}
    for model in models:
        for name, value in model.model_dump(mode="json", exclude_none=True).items():
            if value in ((), []) or (name == "offset" and value == 0):
                continue
            params[renames.get(name, name)] = value
    return params


class HttpReadSide:
    """`ReadSide` over the store service's internal HTTP API.

    Built at wiring time, opened in the lifespan: `async with read_side:` opens the connection
    pool and closing the context releases it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service_key: SecretStr | None = None,
        timeout_s: float = 35.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._transport = transport  # tests: httpx.ASGITransport over the store app
        # The store's internal API answers only callers presenting a service key.
        self._headers = {SERVICE_KEY_HEADER: service_key.get_secret_value()} if service_key else {}
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> HttpReadSide:
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout_s,
            transport=self._transport,
            headers=self._headers,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise StoreUnavailableError("the read side is not open (use `async with`)")
        return self._http

    async def _get(
        self, path: str, model: type[M] | Any, params: dict[str, Any] | None = None
    ) -> M | None:
        try:
            response = await self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise StoreUnavailableError(
                f"store read API unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):  # a deployment error, not the client's
            raise StoreUnavailableError("the store refused this service's SERVICE_API_KEY")
        if response.status_code == 400:
            raise InvalidQueryError(
                response.json().get("error", {}).get("message", "invalid query")
            )
        if response.status_code >= 500:
            raise StoreUnavailableError(f"store read API answered {response.status_code}")
        response.raise_for_status()
        adapter: TypeAdapter[M] = _adapter(cast(Hashable, model))
        return adapter.validate_json(response.content)

    async def _require(
        self, path: str, model: type[M] | Any, params: dict[str, Any] | None = None
    ) -> M:
        found: M | None = await self._get(path, model, params)
        if found is None:
            raise StoreUnavailableError(f"store read API has no route {path}")
        return found

    async def healthy(self) -> bool:
        try:
            response = await self._client.get("/health/ready")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None:
        return await self._get(read_url("get_candidate", candidate_id=candidate_id), Candidate)

    async def get_candidate_by_email(self, email: str) -> Candidate | None:
        return await self._get(read_url("get_candidate_by_email"), Candidate, {"email": email})

    async def list_candidates(self, query: ListQuery) -> Page[Candidate]:
        return await self._require(read_url("list_candidates"), Page[Candidate], _params(query))

    async def list_cv_analyses(self, candidate_id: uuid.UUID) -> list[CvAnalysis]:
        path = read_url("list_cv_analyses", candidate_id=candidate_id)
        return await self._get(path, list[CvAnalysis]) or []

    async def get_question(self, question_id: uuid.UUID) -> Question | None:
        return await self._get(read_url("get_question", question_id=question_id), Question)

    async def list_questions(self, query: ListQuery, filters: QuestionFilter) -> Page[Question]:
        params = _params(query, filters)
        return await self._require(read_url("list_questions"), Page[Question], params)

    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None:
        return await self._get(read_url("get_interview", interview_id=interview_id), Interview)

    async def list_interviews(self, query: ListQuery, filters: InterviewFilter) -> Page[Interview]:
        params = _params(query, filters)
        return await self._require(read_url("list_interviews"), Page[Interview], params)

    async def interview_log(self, interview_id: uuid.UUID) -> list[InterviewLogEntry]:
        path = read_url("interview_log", interview_id=interview_id)
        return await self._get(path, list[InterviewLogEntry]) or []

    async def get_interview_report(self, interview_id: uuid.UUID) -> InterviewReport | None:
        return await self._get(
            read_url("get_interview_report", interview_id=interview_id), InterviewReport
        )

    async def get_answer(self, answer_id: uuid.UUID) -> Answer | None:
        return await self._get(read_url("get_answer", answer_id=answer_id), Answer)

    async def list_answers(self, query: ListQuery, filters: AnswerFilter) -> Page[Answer]:
        return await self._require(read_url("list_answers"), Page[Answer], _params(query, filters))

    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]:
        params = _params(query, filters)
        return await self._require(read_url("list_evaluations"), Page[Evaluation], params)

    async def get_evaluation(self, evaluation_id: uuid.UUID) -> Evaluation | None:
        path = read_url("get_evaluation", evaluation_id=evaluation_id)
        return await self._get(path, Evaluation)

    async def list_reviews(self, query: ListQuery, filters: ReviewFilter) -> Page[Evaluation]:
        params = _params(query, filters)
        return await self._require(read_url("list_reviews"), Page[Evaluation], params)

    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None:
        return await self._get(read_url("get_chat_session", session_id=session_id), ChatSession)

    async def get_replay(self, replay_id: uuid.UUID) -> Replay | None:
        return await self._get(read_url("get_replay", replay_id=replay_id), Replay)

    async def list_chat_messages(self, session_id: uuid.UUID) -> list[ChatMessage]:
        path = read_url("list_chat_messages", session_id=session_id)
        return await self._get(path, list[ChatMessage]) or []
