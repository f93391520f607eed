"""The read queries the gateway's write path needs: lookups by id, for its projection."""

from __future__ import annotations

import uuid
from typing import Protocol

from interview_shared.read_models import Candidate, ChatSession, Interview, Question


class Lookups(Protocol):
    """What a projection miss reads through to (the store's read API, or a fake in tests)."""

    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None: ...
    async def get_question(self, question_id: uuid.UUID) -> Question | None: ...
    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None: ...
    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None: ...
