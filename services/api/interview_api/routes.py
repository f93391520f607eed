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
from interview_shared.events import ChatReplyCompleted, ChatReplyDelta
from interview_shared.http import (
    ErrorEnvelope,
    evaluation_filter,
    found,
    interview_filter,
    list_query,
    listing,
    question_filter,
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
from interview_api.sse import HEARTBEAT, event_frame, frame, with_heartbeats

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope} for code in (400, 404, 409, 413, 415, 422, 503)
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
ReadDep = Annotated[ReadSide, Depends(get_read)]
CommandsDep = Annotated[Commands, Depends(get_commands)]
CorrelationDep = Annotated[str, Depends(correlation_id)]
Listing = Annotated[ListQuery, Depends(list_query)]


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
    body: CandidateIn, commands: CommandsDep, cid: CorrelationDep, response: Response
) -> Any:
    """Register a candidate (e-mail unique, case-insensitive)."""
    return _created(await commands.register_candidate(body, cid), response)


@router.get("/candidates/{candidate_id}", tags=["candidates"])
async def get_candidate(candidate_id: uuid.UUID, read: ReadDep) -> Candidate:
    """One candidate."""
    return found(await read.get_candidate(candidate_id), "candidate")


@router.get("/candidates", tags=["candidates"])
async def list_candidates(read: ReadDep, query: Listing) -> Page[Candidate]:
    """Candidates, paged (`sort`: created_at, updated_at, name)."""
    return await listing(read.list_candidates(query))


@router.post(
    "/candidates/{candidate_id}/cv-analyses",
    status_code=201,
    response_model=list[CvAnalysis] | Accepted,
    tags=["candidates"],
)
async def record_cv_analysis(
    candidate_id: uuid.UUID,
    body: CvAnalysisIn,
    commands: CommandsDep,
    read: ReadDep,
    cid: CorrelationDep,
    response: Response,
) -> Any:
    """Record a CV analysis (extracted skills as JSON, a summary); returns all of them."""
    written = await commands.record_cv_analysis(candidate_id, body, cid)
    if written.applied:  # the whole list, as the store has it now: a read the client asked for
        written = replace(written, resource=await read.list_cv_analyses(candidate_id))
    return _created(written, response)


@router.get("/candidates/{candidate_id}/cv-analyses", tags=["candidates"])
async def list_cv_analyses(candidate_id: uuid.UUID, read: ReadDep) -> list[CvAnalysis]:
    """A candidate's CV analyses, oldest first."""
    found(await read.get_candidate(candidate_id), "candidate")
    return await read.list_cv_analyses(candidate_id)


# ---- questions ----


@router.post("/questions", status_code=201, response_model=Question | Accepted, tags=["questions"])
async def create_question(
    body: QuestionIn, commands: CommandsDep, cid: CorrelationDep, response: Response
) -> Any:
    """Add a question with its reference answer, key points and rubric."""
    return _created(await commands.create_question(body, cid), response)


@router.get("/questions/{question_id}", tags=["questions"])
async def get_question(question_id: uuid.UUID, read: ReadDep) -> Question:
    """One question."""
    return found(await read.get_question(question_id), "question")


@router.get("/questions", tags=["questions"])
async def list_questions(
    read: ReadDep, query: Listing, filters: Annotated[QuestionFilter, Depends(question_filter)]
) -> Page[Question]:
    """Questions; repeat `skill` or `tag` to match any of several."""
    return await listing(read.list_questions(query, filters))


# ---- interviews ----


@router.post(
    "/interviews", status_code=201, response_model=Interview | Accepted, tags=["interviews"]
)
async def create_interview(
    body: InterviewIn, commands: CommandsDep, cid: CorrelationDep, response: Response
) -> Any:
    """Schedule an interview; it starts in PREPARING."""
    return _created(await commands.create_interview(body, cid), response)


@router.get("/interviews/{interview_id}", tags=["interviews"])
async def get_interview(interview_id: uuid.UUID, read: ReadDep) -> Interview:
    """One interview."""
    return found(await read.get_interview(interview_id), "interview")


@router.get("/interviews", tags=["interviews"])
async def list_interviews(
    read: ReadDep, query: Listing, filters: Annotated[InterviewFilter, Depends(interview_filter)]
) -> Page[Interview]:
    """Interviews filtered by status, candidate and created range (`sort`: created_at,
    updated_at, title)."""
    return await listing(read.list_interviews(query, filters))


@router.patch(
    "/interviews/{interview_id}", response_model=Interview | Accepted, tags=["interviews"]
)
async def change_interview_status(
    interview_id: uuid.UUID,
    body: StatusChangeIn,
    commands: CommandsDep,
    cid: CorrelationDep,
    response: Response,
) -> Any:
    """Move an interview PREPARING -> READY -> IN_PROGRESS -> COMPLETED (or CANCELLED); 409 if
    the transition is not allowed."""
    return _created(
        await commands.change_status(interview_id, body.status, cid), response, status=200
    )


@router.get("/interviews/{interview_id}/log", tags=["interviews"])
async def interview_log(interview_id: uuid.UUID, read: ReadDep) -> list[InterviewLogEntry]:
    """Each question of the interview with its latest answer and current score."""
    found(await read.get_interview(interview_id), "interview")
    return await read.interview_log(interview_id)


@router.get("/interviews/{interview_id}/report", tags=["interviews"])
async def interview_report(interview_id: uuid.UUID, read: ReadDep) -> InterviewReport:
    """The aggregate evaluation, available once the interview is COMPLETED and scored."""
    return found(await read.get_interview_report(interview_id), "interview report")


# ---- answers and evaluations ----


@router.post(
    "/interviews/{interview_id}/answers",
    status_code=202,
    response_model=Answer | Accepted,
    tags=["answers"],
    openapi_extra=ANSWER_BODIES,
)
async def submit_answer(
    interview_id: uuid.UUID,
    body: Annotated[AnswerIn | SpokenAnswer, Depends(answer_body)],
    request: Request,
    commands: CommandsDep,
    cid: CorrelationDep,
    response: Response,
) -> Any:
    """Answer one of the interview's questions (only while IN_PROGRESS), as JSON text or as a
    multipart recording (`question_id`, `audio`), which is transcribed before it is scored.
    Scoring is asynchronous: `evaluation` stays null until the evaluator has scored it."""
    if isinstance(body, SpokenAnswer):
        blobs = _state(request, "blobs")
        written = await submit_spoken(commands, blobs, interview_id, body, cid)
        return Accepted(id=written.id, event_id=written.event_id, status="transcribing")
    return _created(await commands.submit_answer(interview_id, body, cid), response, status=202)


@router.get("/interviews/{interview_id}/answers", tags=["answers"])
async def list_interview_answers(
    interview_id: uuid.UUID, read: ReadDep, query: Listing
) -> Page[Answer]:
    """The interview's answers, each with its current `evaluation` (null until scored)."""
    found(await read.get_interview(interview_id), "interview")
    return await listing(read.list_answers(query, AnswerFilter(interview_id=interview_id)))


@router.get("/answers/{answer_id}", tags=["answers"])
async def get_answer(answer_id: uuid.UUID, read: ReadDep) -> Answer:
    """One answer with its current evaluation."""
    return found(await read.get_answer(answer_id), "answer")


@router.get("/evaluations", tags=["answers"])
async def list_evaluations(
    read: ReadDep, query: Listing, filters: Annotated[EvaluationFilter, Depends(evaluation_filter)]
) -> Page[Evaluation]:
    """Every evaluation ever made (history included), with full lineage."""
    return await listing(read.list_evaluations(query, filters))


# ---- live events ----


@router.get(
    "/interviews/{interview_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    tags=["interviews"],
)
async def interview_events(
    interview_id: uuid.UUID,
    read: ReadDep,
    live: Annotated[LiveEvents, Depends(get_live)],
    settings: Annotated[GatewaySettings, Depends(get_settings)],
) -> StreamingResponse:
    """Server-Sent Events of this interview as they happen (`event:` is the event type, e.g.
    `answer.evaluated`)."""
    found(await read.get_interview(interview_id), "interview")
    stack = AsyncExitStack()
    queue = await stack.enter_async_context(live.subscribe(str(interview_id)))

    async def stream() -> AsyncIterator[str]:
        async with stack:
            yield frame(event="stream.open", data={"interview_id": str(interview_id)})
            async for event in with_heartbeats(queue, heartbeat_s=settings.sse_heartbeat_s):
                if event is None:
                    yield HEARTBEAT
                    continue
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
    cid: CorrelationDep,
    response: Response,
) -> Any:
    """Open a chat session with the AI interviewer, optionally about an interview."""
    return _created(await commands.start_chat(body, cid), response)


@router.post(
    "/chat/sessions/{session_id}/messages",
    status_code=202,
    responses={200: {"content": {"text/event-stream": {}}}},
    response_model=Accepted,
    tags=["chat"],
)
async def post_chat_message(
    session_id: uuid.UUID,
    body: ChatMessageIn,
    request: Request,
    commands: CommandsDep,
    live: Annotated[LiveEvents, Depends(get_live)],
    settings: Annotated[GatewaySettings, Depends(get_settings)],
    cid: CorrelationDep,
) -> Any:
    """Post a message. With `Accept: text/event-stream` the reply streams back as
    `chat.reply.delta` events ending with `chat.reply.completed`; otherwise 202."""
    if "text/event-stream" not in request.headers.get("accept", ""):
        posted = await commands.post_chat_message(session_id, body, cid)
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
        posted = await commands.post_chat_message(session_id, body, cid)
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
async def list_chat_messages(session_id: uuid.UUID, read: ReadDep) -> dict[str, list[ChatMessage]]:
    """The session's history in order, `role` user or assistant."""
    found(await read.get_chat_session(session_id), "chat session")
    return {"items": await read.list_chat_messages(session_id)}
