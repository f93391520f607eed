"""The public HTTP API (the frontend's contract). Route bodies delegate to Commands and ReadSide."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from interview_shared.events import ChatReplyCompleted, ChatReplyDelta, InterviewState
from interview_shared.http import (
    ErrorEnvelope,
    evaluation_filter,
    found,
    interview_filter,
    listing,
    question_filter,
    sorted_list_query,
)
from interview_shared.read_client import ReadSide
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
)
from pydantic import BaseModel

from interview_api.commands import Commands, Written
from interview_api.live import LiveEvents
from interview_api.policy import (
    PrincipalDep,
    StaffDep,
    erasable_candidate,
    interview_scope,
    readable_answer,
    readable_candidate,
    readable_interview,
    readable_question,
    readable_session,
    redacted_answer,
    redacted_log,
    scoped,
    staff_interview,
    writable_candidate,
    writable_interview,
)
from interview_api.request_context import Context
from interview_api.resume import EVENT_ID_PATTERN, Position
from interview_api.schemas import (
    Accepted,
    AnswerIn,
    CandidateIn,
    ChatMessageIn,
    ChatSessionIn,
    CvAnalysisIn,
    InterviewIn,
    QuestionIn,
    StatusChangeIn,
)
from interview_api.settings import GatewaySettings
from interview_api.spoken import ANSWER_BODIES, SpokenAnswer, answer_body, submit_spoken
from interview_api.sse import HEARTBEAT, RETRY, event_frame, frame, with_heartbeats

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _state(request: Request, name: str) -> Any:
    return getattr(request.app.state, name)


async def get_read(request: Request) -> ReadSide:
    """The read side opened in the lifespan."""
    read: ReadSide = _state(request, "read")
    return read


async def get_commands(request: Request) -> Commands:
    """The write use cases."""
    commands: Commands = _state(request, "commands")
    return commands


async def get_live(request: Request) -> LiveEvents:
    """The live event hub fed by the Kafka tail."""
    live: LiveEvents = _state(request, "live")
    return live


async def get_settings(request: Request) -> GatewaySettings:
    """The gateway's settings."""
    settings: GatewaySettings = _state(request, "settings")
    return settings


async def correlation_id(
    x_correlation_id: Annotated[str | None, Header(max_length=128)] = None,
    x_request_id: Annotated[str | None, Header(max_length=128)] = None,
) -> str:
    """The caller's correlation id, or a new one; it travels with every event of the request."""
    return x_correlation_id or x_request_id or str(uuid.uuid4())


# Dependencies are coroutines: FastAPI runs a plain `def` dependency in a worker thread, a
# hop per dependency per request that costs more than the dependency itself.
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"
"""Printable ASCII without spaces, as RFC 9110 field values allow and logs stay readable."""


async def context(
    request: Request,
    principal: PrincipalDep,
    cid: Annotated[str, Depends(correlation_id)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY,
            description="Repeat a POST with the same key and body: the first response comes"
            " back and nothing is created twice; another body with the key is a 422.",
        ),
    ] = None,
) -> Context:
    """The caller of a write, with what makes its ids (see Commands)."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    return Context(principal, cid, route=route, idempotency_key=idempotency_key)


ReadDep = Annotated[ReadSide, Depends(get_read)]
CommandsDep = Annotated[Commands, Depends(get_commands)]
ContextDep = Annotated[Context, Depends(context)]


CandidateListing = Annotated[ListQuery, Depends(sorted_list_query("candidates"))]
QuestionListing = Annotated[ListQuery, Depends(sorted_list_query("questions"))]
InterviewListing = Annotated[ListQuery, Depends(sorted_list_query("interviews"))]
AnswerListing = Annotated[ListQuery, Depends(sorted_list_query("answers"))]
EvaluationListing = Annotated[ListQuery, Depends(sorted_list_query("evaluations"))]
ReviewListing = Annotated[ListQuery, Depends(sorted_list_query("reviews"))]
InterviewDep = Annotated[Interview, Depends(readable_interview)]
InterviewStateDep = Annotated[InterviewState, Depends(writable_interview)]
SessionDep = Annotated[uuid.UUID, Depends(readable_session)]


def _created(written: Written, response: Response, *, status: int = 201) -> Any:
    """`status` with the resource once the store has applied the write, else 202 with its id."""
    resource = written.resource
    if not written.applied or resource is None:
        resource, status = Accepted(id=written.id, event_id=written.event_id), 202
    if isinstance(resource, BaseModel):
        # Serialised directly: the model is already valid, and re-validating it against the
        # route's response union costs more on the hot path than the rest of the request.
        return Response(resource.model_dump_json(), status, media_type="application/json")
    response.status_code = status
    return resource


# ---- candidates ----


@router.post(
    "/candidates", status_code=201, response_model=Candidate | Accepted, tags=["candidates"]
)
async def register_candidate(
    body: CandidateIn, commands: CommandsDep, ctx: ContextDep, _: StaffDep, response: Response
) -> Any:
    """Register a candidate (e-mail unique, case-insensitive); staff only."""
    return _created(await commands.register_candidate(body, ctx), response)


@router.get("/candidates/{candidate_id}", tags=["candidates"])
async def get_candidate(candidate: Annotated[Candidate, Depends(readable_candidate)]) -> Candidate:
    """One candidate (a candidate reads only its own record)."""
    return candidate


@router.delete(
    "/candidates/{candidate_id}",
    status_code=204,
    responses={202: {"model": Accepted, "description": "Erased; the store has not caught up"}},
    tags=["candidates"],
)
async def erase_candidate(
    candidate_id: Annotated[uuid.UUID, Depends(erasable_candidate)],
    commands: CommandsDep,
    ctx: ContextDep,
) -> Response:
    """Erase a candidate (GDPR art. 17, admins): their data key is destroyed, so nothing of
    theirs can be read from the log again, and the stores drop the record (then 404) and blank
    their answers, chat messages and CV analyses. 204 once the store has applied it."""
    written = await commands.erase_candidate(candidate_id, ctx)
    if not written.applied:
        accepted = Accepted(id=written.id, event_id=written.event_id)
        return Response(accepted.model_dump_json(), 202, media_type="application/json")
    return Response(status_code=204)


@router.get("/candidates", tags=["candidates"])
async def list_candidates(read: ReadDep, query: CandidateListing, who: StaffDep) -> Page[Candidate]:
    """Candidates of the caller's organisation, paged (`sort`: created_at, updated_at, name)."""
    return await listing(read.list_candidates(scoped(who, query)))


@router.post(
    "/candidates/{candidate_id}/cv-analyses",
    status_code=201,
    response_model=list[CvAnalysis] | Accepted,
    tags=["candidates"],
)
async def record_cv_analysis(
    candidate_id: Annotated[uuid.UUID, Depends(writable_candidate)],
    body: CvAnalysisIn,
    commands: CommandsDep,
    read: ReadDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Record a CV analysis (extracted skills as JSON, a summary); returns all of them."""
    written = await commands.record_cv_analysis(candidate_id, body, ctx)
    if written.applied:  # the whole list, as the store has it now: a read the client asked for
        written = replace(written, resource=await read.list_cv_analyses(candidate_id))
    return _created(written, response)


@router.get("/candidates/{candidate_id}/cv-analyses", tags=["candidates"])
async def list_cv_analyses(
    candidate: Annotated[Candidate, Depends(readable_candidate)], read: ReadDep, _: StaffDep
) -> list[CvAnalysis]:
    """A candidate's CV analyses, oldest first (staff only: they assess the candidate)."""
    return await read.list_cv_analyses(candidate.id)


# ---- questions ----


@router.post("/questions", status_code=201, response_model=Question | Accepted, tags=["questions"])
async def create_question(
    body: QuestionIn, commands: CommandsDep, ctx: ContextDep, _: StaffDep, response: Response
) -> Any:
    """Add a question with its reference answer, key points and rubric; staff only."""
    return _created(await commands.create_question(body, ctx), response)


@router.get("/questions/{question_id}", tags=["questions"])
async def get_question(question: Annotated[Question, Depends(readable_question)]) -> Question:
    """One question (staff only: it holds the reference answer)."""
    return question


@router.get("/questions", tags=["questions"])
async def list_questions(
    read: ReadDep,
    query: QuestionListing,
    filters: Annotated[QuestionFilter, Depends(question_filter)],
    who: StaffDep,
) -> Page[Question]:
    """Questions of the caller's organisation; repeat `skill` or `tag` to match any of several."""
    return await listing(read.list_questions(scoped(who, query), filters))


# ---- interviews ----


@router.post(
    "/interviews", status_code=201, response_model=Interview | Accepted, tags=["interviews"]
)
async def create_interview(
    body: InterviewIn, commands: CommandsDep, ctx: ContextDep, _: StaffDep, response: Response
) -> Any:
    """Schedule an interview; it starts in PREPARING. Staff only."""
    return _created(await commands.create_interview(body, ctx), response)


@router.get("/interviews/{interview_id}", tags=["interviews"])
async def get_interview(interview: InterviewDep) -> Interview:
    """One interview."""
    return interview


@router.get("/interviews", tags=["interviews"])
async def list_interviews(
    read: ReadDep,
    query: InterviewListing,
    filters: Annotated[InterviewFilter, Depends(interview_filter)],
    who: PrincipalDep,
) -> Page[Interview]:
    """Interviews filtered by status, candidate and created range (`sort`: created_at,
    updated_at, title); a candidate sees only its own."""
    return await listing(read.list_interviews(scoped(who, query), interview_scope(who, filters)))


@router.patch(
    "/interviews/{interview_id}", response_model=Interview | Accepted, tags=["interviews"]
)
async def change_interview_status(
    interview: InterviewStateDep,
    body: StatusChangeIn,
    commands: CommandsDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Move an interview PREPARING -> READY -> IN_PROGRESS -> COMPLETED (or CANCELLED); 409 if
    the transition is not allowed. A candidate may move its own interview (start, finish)."""
    return _created(await commands.change_status(interview, body.status, ctx), response, status=200)


@router.get("/interviews/{interview_id}/log", tags=["interviews"])
async def interview_log(
    interview: InterviewDep, read: ReadDep, who: PrincipalDep
) -> list[InterviewLogEntry]:
    """Each question of the interview with its latest answer and current score (no score for
    a candidate)."""
    return redacted_log(who, await read.interview_log(interview.id))


@router.get("/interviews/{interview_id}/report", tags=["interviews"])
async def interview_report(
    interview: Annotated[Interview, Depends(staff_interview)], read: ReadDep
) -> InterviewReport:
    """The aggregate evaluation, available once the interview is COMPLETED and scored; staff
    only."""
    return found(await read.get_interview_report(interview.id), "interview report")


# ---- answers and evaluations ----


@router.post(
    "/interviews/{interview_id}/answers",
    status_code=202,
    response_model=Answer | Accepted,
    tags=["answers"],
    openapi_extra=ANSWER_BODIES,
)
async def submit_answer(
    interview: InterviewStateDep,
    body: Annotated[AnswerIn | SpokenAnswer, Depends(answer_body)],
    request: Request,
    commands: CommandsDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Answer one of the interview's questions (only while IN_PROGRESS), as JSON text or as a
    multipart recording (`question_id`, `audio`), which is transcribed before it is scored.
    Scoring is asynchronous: `evaluation` stays null until the evaluator has scored it. A
    candidate answers only its own interview."""
    if isinstance(body, SpokenAnswer):
        blobs = _state(request, "blobs")
        written = await submit_spoken(commands, blobs, interview, body, ctx)
        return Accepted(id=written.id, event_id=written.event_id, status="transcribing")
    return _created(await commands.submit_answer(interview, body, ctx), response, status=202)


@router.get("/interviews/{interview_id}/answers", tags=["answers"])
async def list_interview_answers(
    interview: InterviewDep, read: ReadDep, query: AnswerListing, who: PrincipalDep
) -> Page[Answer]:
    """The interview's answers, each with its current `evaluation` (null until scored, and
    always null for a candidate)."""
    answers = await listing(read.list_answers(query, AnswerFilter(interview_id=interview.id)))
    return answers.model_copy(
        update={"items": tuple(redacted_answer(who, a) for a in answers.items)}
    )


@router.get("/answers/{answer_id}", tags=["answers"])
async def get_answer(answer: Annotated[Answer, Depends(readable_answer)]) -> Answer:
    """One answer with its current evaluation (none for a candidate)."""
    return answer


@router.get("/evaluations", tags=["answers"])
async def list_evaluations(
    read: ReadDep,
    query: EvaluationListing,
    filters: Annotated[EvaluationFilter, Depends(evaluation_filter)],
    who: StaffDep,
) -> Page[Evaluation]:
    """Every evaluation of the organisation (history included), with full lineage; staff only."""
    return await listing(read.list_evaluations(scoped(who, query), filters))


# ---- live events ----


@router.get(
    "/interviews/{interview_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    tags=["interviews"],
)
async def interview_events(
    interview: InterviewDep,
    request: Request,
    live: Annotated[LiveEvents, Depends(get_live)],
    settings: Annotated[GatewaySettings, Depends(get_settings)],
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            pattern=EVENT_ID_PATTERN,
            description="The `id:` of the last event received: what followed it is sent first.",
        ),
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events of this interview as they happen (`event:` is the event type, e.g.
    `answer.evaluated`). Every event has an `id:`; reconnecting with `Last-Event-ID` first
    replays, from the log, what happened after that event."""
    key = str(interview.id)
    stack = AsyncExitStack()
    # Subscribe before reading the log: an event arriving meanwhile is queued, not lost.
    queue = await stack.enter_async_context(live.subscribe(key))
    position = Position.parse(last_event_id) if last_event_id else None
    try:
        missed = await request.app.state.missed.since(key, position) if position else []
    except BaseException:
        await stack.aclose()
        raise

    async def stream() -> AsyncIterator[str]:
        async with stack:
            yield RETRY
            yield frame(event="stream.open", data={"interview_id": key})
            sent = {event.event_id for event in missed}
            for event in missed:
                yield event_frame(event)
            async for event in with_heartbeats(queue, heartbeat_s=settings.sse_heartbeat_s):
                if event is None:
                    yield HEARTBEAT
                elif event.event_id not in sent:
                    # The gate lets an event through once the store has applied it.
                    yield event_frame(event)

    return _sse(stream())


def _sse(body: AsyncIterator[str]) -> StreamingResponse:
    # X-Accel-Buffering stops nginx-style proxies from holding the stream back.
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


# ---- chat ----


@router.post(
    "/chat/sessions", status_code=201, response_model=ChatSession | Accepted, tags=["chat"]
)
async def start_chat(
    body: ChatSessionIn,
    commands: CommandsDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Open a chat session with the AI interviewer, optionally about an interview (a candidate
    must name its own)."""
    return _created(await commands.start_chat(body, ctx), response)


@router.post(
    "/chat/sessions/{session_id}/messages",
    status_code=202,
    responses={200: {"content": {"text/event-stream": {}}}},
    response_model=Accepted,
    tags=["chat"],
)
async def post_chat_message(
    session_id: SessionDep,
    body: ChatMessageIn,
    request: Request,
    commands: CommandsDep,
    live: Annotated[LiveEvents, Depends(get_live)],
    settings: Annotated[GatewaySettings, Depends(get_settings)],
    ctx: ContextDep,
) -> Any:
    """Post a message. With `Accept: text/event-stream` the reply streams back as
    `chat.reply.delta` events ending with `chat.reply.completed`; otherwise 202."""
    if "text/event-stream" not in request.headers.get("accept", ""):
        posted = await commands.post_chat_message(session_id, body, ctx)
        return JSONResponse(
            status_code=202,
            content=Accepted(id=posted.message_id, event_id=posted.event_id).model_dump(
                mode="json"
            ),
        )
    stack = AsyncExitStack()
    # Subscribe before publishing, so the reply cannot arrive before we listen.
    queue = await stack.enter_async_context(live.subscribe(str(session_id)))
    try:
        posted = await commands.post_chat_message(session_id, body, ctx)
    except BaseException:
        await stack.aclose()
        raise

    async def stream() -> AsyncIterator[str]:
        done = False
        async with stack:
            yield frame(event="chat.message.accepted", data={"message_id": str(posted.message_id)})
            try:
                async with asyncio.timeout(settings.chat_reply_timeout_s):
                    async for event in with_heartbeats(queue, heartbeat_s=settings.sse_heartbeat_s):
                        if event is None:
                            yield HEARTBEAT
                        elif isinstance(event, ChatReplyDelta) and (
                            event.in_reply_to == posted.message_id
                        ):
                            yield event_frame(event)
                        elif isinstance(event, ChatReplyCompleted) and (
                            event.in_reply_to == posted.message_id
                        ):
                            # The gate releases it once the reply is in the history, so the
                            # client may read the session right after (read-your-writes).
                            done = True
                            yield event_frame(event)
                            return
            except TimeoutError:
                yield frame(
                    event="error",
                    data={
                        "code": "reply_timeout",
                        "message": "The interviewer did not answer in time.",
                    },
                )
            finally:
                if not done:  # the client went away (or gave up): stop the generation
                    commands.cancel_reply(posted)

    return _sse(stream())


@router.get("/chat/sessions/{session_id}/messages", tags=["chat"])
async def list_chat_messages(session_id: SessionDep, read: ReadDep) -> dict[str, list[ChatMessage]]:
    """The session's history in order, `role` user or assistant."""
    return {"items": await read.list_chat_messages(session_id)}
