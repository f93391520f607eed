"""A chat session as the interviewer sees it: the chat service serves it, the gateway relays it.

The chat service owns a conversation's state (which question is open, how many follow-ups
were asked), so this view comes from it and not from the store.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict

SessionPhase = Literal["not_started", "in_progress", "finished", "closed"]


class CurrentQuestion(BaseModel):
    """The open question of an interview conversation."""

    model_config = ConfigDict(frozen=True)

    question_id: uuid.UUID
    number: int
    total: int
    text: str
    follow_ups: int


class ChatSessionView(BaseModel):
    """A chat session's state."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    interview_id: uuid.UUID | None
    state: SessionPhase
    current_question: CurrentQuestion | None = None
    messages: int = 0
    """Messages in the session, the candidate's and the interviewer's."""
