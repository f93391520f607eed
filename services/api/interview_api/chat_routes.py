"""Chat session lifecycle: the state of a session, a listing, and closing one.

The chat service owns the conversation state and knows nothing of users: the gateway checks
every session through the policy first and lists only the caller's organisation."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from interview_shared.chat_views import ChatSessionView
from interview_shared.http import ApiError, found

from interview_api.chat_client import ChatSessions
from interview_api.policy import PrincipalDep, ProjectionDep, acting_on
from interview_api.routes import ERRORS, CommandsDep, ContextDep, SessionDep
from interview_api.schemas import Accepted

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["chat"])


def get_sessions(request: Request) -> ChatSessions:
    """The chat service's read client, opened in the lifespan."""
    sessions: ChatSessions = request.app.state.chat_sessions
    return sessions


SessionsDep = Annotated[ChatSessions, Depends(get_sessions)]


@router.get("/chat/sessions/{session_id}")
async def get_chat_session(session_id: SessionDep, sessions: SessionsDep) -> ChatSessionView:
    """A session's state (`not_started`, `in_progress`, `finished`, `closed`) and the open
    question, as the interviewer holds them (a candidate reads only its own)."""
    return found(await sessions.get(session_id), "chat session")


@router.get("/chat/sessions")
async def list_chat_sessions(
    sessions: SessionsDep,
    who: PrincipalDep,
    projection: ProjectionDep,
    interview_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, list[ChatSessionView]]:
    """Chat sessions of the caller's organisation in the order they started, optionally of one
    interview (a candidate must name one of its own: 422 `interview_required`)."""
    if interview_id is not None:
        acting_on(who, await projection.interview(interview_id))  # 404 unless visible
    elif who.is_candidate:
        raise ApiError(422, "interview_required", "A candidate lists the chats of its interview.")
    items = await sessions.list(
        org_id=who.org, interview_id=interview_id, limit=limit, offset=offset
    )
    return {"items": items}


@router.post("/chat/sessions/{session_id}/close", status_code=202, response_model=Accepted)
async def close_chat_session(session_id: SessionDep, commands: CommandsDep, ctx: ContextDep) -> Any:
    """Close a session: the interviewer answers no more messages in it (later posts get 409
    `chat_session_closed` here, or a closing line). The interview itself is not changed."""
    written = await commands.close_chat(session_id, ctx)
    return Accepted(id=written.id, event_id=written.event_id)
