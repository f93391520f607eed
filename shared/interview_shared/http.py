"""HTTP pieces every service shares: the error envelope, health probes and listing parameters."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, BeforeValidator, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from interview_shared.domain import Difficulty, InterviewStatus, QuestionType
from interview_shared.logging import get_logger
from interview_shared.read_models import (
    SORT_FIELDS,
    AnswerFilter,
    EvaluationFilter,
    InterviewFilter,
    InvalidQueryError,
    ListQuery,
    QuestionFilter,
    ReviewFilter,
    StoreUnavailableError,
)
from interview_shared.reviews import ReviewReason

log = get_logger(__name__)
T = TypeVar("T")


class ApiError(Exception):
    """An error the client caused or can act on; rendered as the error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def found(value: T | None, what: str) -> T:
    """`value`, or a 404 naming `what`."""
    if value is None:
        raise ApiError(404, "not_found", f"{what} not found")
    return value


async def listing(result: Awaitable[T]) -> T:
    """Await a listing query; an invalid sort or cursor becomes a 400."""
    try:
        return await result
    except InvalidQueryError as exc:
        raise ApiError(400, "invalid_query", str(exc)) from exc


class ErrorBody(BaseModel):
    """`{"error": {...}}`: `code` is stable and machine-readable, `message` is for people."""

    code: str
    message: str
    details: Any | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


RETRY_AFTER_S = 2
"""Seconds a 503 asks the client to wait: outages the services ride out (a broker or store
restart) last seconds, and a client that retries sooner only adds load."""


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Render the error envelope; every 503 says when to retry (`Retry-After`)."""
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, details=details))
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_S), **(headers or {})}
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


_STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 409: "conflict"}


def _field_errors(errors: Any) -> list[dict[str, Any]]:
    # Drop the offending input from the details: it may be huge or hold a secret.
    return [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
            "message": e.get("msg"),
            "type": e.get("type"),
        }
        for e in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure answer with the error envelope; unexpected ones are logged, not leaked."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422, "validation_error", "The request is not valid.", _field_errors(exc.errors())
        )

    @app.exception_handler(ValidationError)
    async def _model_validation(_: Request, exc: ValidationError) -> JSONResponse:
        return error_response(
            422, "validation_error", "The request is not valid.", _field_errors(exc.errors())
        )

    @app.exception_handler(StoreUnavailableError)
    async def _store_unavailable(_: Request, exc: StoreUnavailableError) -> JSONResponse:
        # A dependency outage, not a bug: tell the client to retry rather than report a 500.
        log.warning("store_unavailable", error=str(exc))
        return error_response(503, "store_unavailable", "The store is unavailable; retry later.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route matching the path only; a 405
            # must list every method the path allows (RFC 9110 `Allow`).
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return error_response(500, "internal_error", "An unexpected error occurred.")


def _allowed_methods(request: Request) -> set[str]:
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route_methods = getattr(context.original_route, "methods", None)
        if context.path and route_methods:
            regex, _, _ = compile_path(context.path)
            if regex.match(request.url.path):
                methods |= set(route_methods)
    return methods


HealthCheck = Callable[[], Awaitable[bool]]


def health_router(
    checks: Mapping[str, HealthCheck], *, details: Callable[[], Mapping[str, Any]] | None = None
) -> APIRouter:
    """`/health/live` (the process answers) and `/health/ready` (every dependency answers);
    `details` adds fields to the readiness body (a store's rebuild progress, say)."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", response_model=None)
    async def ready() -> dict[str, Any] | JSONResponse:
        results = {name: await _safe(check) for name, check in checks.items()}
        body = {"status": "ok" if all(results.values()) else "unavailable", "checks": results}
        if details is not None:
            body.update(details())
        return body if all(results.values()) else JSONResponse(status_code=503, content=body)

    return router


async def _safe(check: HealthCheck) -> bool:
    try:
        return await check()
    except Exception:
        return False


# ---- listing parameters, parsed identically by the gateway and the store's read API ----


async def list_query(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    sort: Annotated[str, Query(max_length=64, pattern=r"^-?[a-z_]+$")] = "-created_at",
) -> ListQuery:
    """Paging and ordering: `limit` 1-100, an opaque `cursor` or an `offset`, and `sort`
    (a `-` prefix sorts descending)."""
    if cursor is not None and offset:
        raise ApiError(400, "invalid_query", "Use either cursor or offset, not both.")
    return ListQuery(limit=limit, cursor=cursor, offset=offset, sort=sort)


def sorted_list_query(listing: str) -> Callable[..., Awaitable[ListQuery]]:
    """`list_query` whose `sort` is an enum of what `listing` can sort by, so the OpenAPI
    document names the valid values instead of any `-?[a-z_]+` (the public API uses it)."""
    fields = sorted(SORT_FIELDS[listing])
    values = [*fields, *(f"-{f}" for f in fields)]
    sort_enum = StrEnum(  # type: ignore[misc]
        f"{listing.title()}Sort", [(v.replace("-", "desc_"), v) for v in values]
    )

    newest_first = sort_enum("-created_at")

    async def query(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        sort: Any = newest_first,
    ) -> ListQuery:
        return await list_query(limit=limit, cursor=cursor, offset=offset, sort=str(sort.value))

    # The enum is local: give FastAPI the evaluated annotation, not the postponed string.
    query.__annotations__["sort"] = Annotated[sort_enum, Query()]
    query.__doc__ = list_query.__doc__
    return query


def _iso_only(value: object) -> object:
    # pydantic reads "0.5" as a Unix time; the contract says RFC 3339 date-time, so hold to it.
    if isinstance(value, str) and "-" not in value:
        raise ValueError("expected an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


async def interview_filter(
    status: InterviewStatus | None = None,
    candidate_id: uuid.UUID | None = None,
    created_from: IsoDateTime | None = None,
    created_to: IsoDateTime | None = None,
) -> InterviewFilter:
    """Interview filters: status, candidate, created range [from, to)."""
    return InterviewFilter(
        status=status, candidate_id=candidate_id, created_from=created_from, created_to=created_to
    )


async def question_filter(
    skill: Annotated[list[str] | None, Query(max_length=20)] = None,
    tag: Annotated[list[str] | None, Query(max_length=20)] = None,
    difficulty: Difficulty | None = None,
    type: QuestionType | None = None,
    similar_to: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
) -> QuestionFilter:
    """Question filters; repeat `skill` or `tag` to match any of several. `similar_to` ranks the
    matches by semantic similarity to the text (paged by offset) and fills `similarity`."""
    return QuestionFilter(
        skills=tuple(skill or ()),
        tags=tuple(tag or ()),
        difficulty=difficulty,
        type=type,
        similar_to=similar_to,
    )


async def evaluation_filter(
    answer_id: uuid.UUID | None = None,
    interview_id: uuid.UUID | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=100)] = None,
) -> EvaluationFilter:
    """Evaluation filters: answer, interview, score range (inclusive)."""
    return EvaluationFilter(
        answer_id=answer_id, interview_id=interview_id, min_score=min_score, max_score=max_score
    )


async def review_filter(reason: ReviewReason | None = None) -> ReviewFilter:
    """Review-queue filter: one reason (injection_suspected, judges_disagree, low_confidence,
    mid_band, unscorable, flagged)."""
    return ReviewFilter(reason=reason)


async def answer_filter(
    interview_id: uuid.UUID | None = None, question_id: uuid.UUID | None = None
) -> AnswerFilter:
    """Answer filters: interview, question."""
    return AnswerFilter(interview_id=interview_id, question_id=question_id)
