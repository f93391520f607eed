"""The chat service's read API: conversation state it owns (the gateway relays it)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from interview_shared.chat_views import ChatSessionView, CurrentQuestion
from interview_shared.http import found

from interview_chat.context import ContextLoader
from interview_chat.state import SessionBook, SessionState

router = APIRouter(prefix="/internal/v1/chat", tags=["chat"])


def view(state: SessionState) -> ChatSessionView:
    """What a client sees of a session."""
    turn, context = state.turn, state.context
    current = None
    if state.closed:
        phase = "closed"
    elif turn.phase == "waiting":
        phase = "not_started"
    elif turn.phase == "closed":
        phase = "finished"
    else:
        phase = "in_progress"
        if context is not None and turn.question_index < len(context.questions):
            question = context.questions[turn.question_index]
            current = CurrentQuestion(
                question_id=question.question_id,
                number=turn.question_index + 1,
                total=len(context.questions),
                text=question.text,
                follow_ups=turn.follow_ups,
            )
    return ChatSessionView(
        id=state.session_id,
        interview_id=state.interview_id,
        state=phase,
        current_question=current,
        messages=len(state.messages) + len(state.replies),
    )


@router.get("/sessions/{session_id}")
async def get_session(session_id: uuid.UUID, request: Request) -> ChatSessionView:
    """One session's state and current question."""
    book: SessionBook = request.app.state.book
    state = found(book.get(session_id), "chat session")
    loader: ContextLoader = request.app.state.context
    await loader.session(session_id)  # the interview's context, if not loaded yet
    return view(state)


@router.get("/sessions")
async def list_sessions(
    request: Request,
    interview_id: uuid.UUID | None = None,
    org_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, list[ChatSessionView]]:
    """Sessions in the order they started, optionally of one interview or organisation."""
    book: SessionBook = request.app.state.book
    states = book.sessions(interview_id=interview_id, org_id=org_id)[offset : offset + limit]
    return {"items": [view(state) for state in states]}
