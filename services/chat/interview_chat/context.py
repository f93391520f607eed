"""An interview's context for its chat sessions: read from the store once, then kept.

The title and the question snapshots do not change during an interview, so they are read
once per interview (not per message) and shared by its sessions; the status is followed from
the store's outcome events and the service's own writes. The only reads are on a miss: the
first message of a session after a start, or a session the book has not seen start.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Protocol

from cachetools import LRUCache
from interview_shared.domain import InterviewStatus
from interview_shared.projections import snapshot_of
from interview_shared.read_queries import GetChatSession, GetInterview, GetQuestion

from interview_chat.state import InterviewContext, SessionBook, SessionState


class ChatReads(GetInterview, GetQuestion, GetChatSession, Protocol):
    """The store queries the chat service uses (read through on a miss only)."""


class ContextLoader:
    """Sessions and interview contexts, read through to the store on a miss."""

    def __init__(self, book: SessionBook, read: ChatReads, *, size: int = 10_000) -> None:
        self._book = book
        self._read = read
        self._contexts: LRUCache[uuid.UUID, InterviewContext] = LRUCache(size)

    async def session(self, session_id: uuid.UUID) -> SessionState:
        """The session's state, with its interview's context loaded."""
        state = self._book.get(session_id)
        if state is None:
            known = await self._read.get_chat_session(session_id)  # never seen it start
            state = self._book.session(session_id, known.interview_id if known else None)
        if state.interview_id is not None and state.context is None:
            state.context = await self._interview(state.interview_id)
        return state

    async def status(self, state: SessionState) -> InterviewStatus | None:
        """The interview's status as last known."""
        if state.interview_id is None:
            return None
        known = self._book.status(state.interview_id)
        if known is None:
            interview = await self._read.get_interview(state.interview_id)
            if interview is None:
                return None
            known = interview.status
            self._book.set_status(state.interview_id, known)
        return known

    async def _interview(self, interview_id: uuid.UUID) -> InterviewContext | None:
        if (known := self._contexts.get(interview_id)) is not None:
            return known
        interview = await self._read.get_interview(interview_id)
        if interview is None:
            return None
        found = await asyncio.gather(*(self._read.get_question(q) for q in interview.question_ids))
        context = InterviewContext(
            interview_id=interview_id,
            title=interview.title,
            questions=tuple(snapshot_of(q) for q in found if q is not None),
        )
        self._contexts[interview_id] = context
        if self._book.status(interview_id) is None:
            self._book.set_status(interview_id, interview.status)
        return context
