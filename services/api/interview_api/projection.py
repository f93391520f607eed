"""What the gateway knows of the store's state, kept from the log: enough to validate writes.

A bounded cache per aggregate, fed by the outcomes topic (which carries each interview's state
after every change) and by the gateway's own accepted writes; a miss reads through to the
store once. So in steady state the accept path of an answer, a status change or a chat post
makes no call to the store. The store stays the authority: a decision that would reject a
request is confirmed against the store first (a cached entry may be stale), and what the
projection lets through but the store rejects comes back as the write's outcome.
"""

from __future__ import annotations

import uuid

from cachetools import LRUCache
from interview_shared.domain import Rubric
from interview_shared.events import InterviewState, OutcomeRecorded, QuestionSnapshot
from interview_shared.projections import interview_state, snapshot_of
from interview_shared.read_models import ChatSession, Question

from interview_api.ports import Lookups


class Projection:
    """Interviews (status, questions), question snapshots, chat sessions and known candidates."""

    def __init__(self, read: Lookups, *, size: int = 10_000) -> None:
        self._read = read
        self._interviews: LRUCache[uuid.UUID, InterviewState] = LRUCache(size)
        # Each entry keeps the organisation it belongs to: the policy checks writes from here.
        self._questions: LRUCache[uuid.UUID, tuple[QuestionSnapshot, str]] = LRUCache(size)
        self._sessions: LRUCache[uuid.UUID, tuple[str, uuid.UUID | None]] = LRUCache(size)
        self._candidates: LRUCache[uuid.UUID, str] = LRUCache(size)

    # ---- reads, with a read-through on a miss ----------------------------------------------

    async def interview(
        self, interview_id: uuid.UUID, *, fresh: bool = False
    ) -> InterviewState | None:
        """The interview's state; `fresh` asks the store (to confirm a rejection)."""
        if not fresh and (known := self._interviews.get(interview_id)) is not None:
            return known
        interview = await self._read.get_interview(interview_id)
        if interview is None:
            return None
        state = self._interviews[interview_id] = interview_state(interview)
        return state

    async def question(
        self, question_id: uuid.UUID, *, org: str, fresh: bool = False
    ) -> QuestionSnapshot | None:
        """The question as an answer is judged against it, if it belongs to `org`; `fresh`
        asks the store."""
        if fresh or (known := self._questions.get(question_id)) is None:
            question = await self._read.get_question(question_id)
            if question is None:
                return None
            known = self._questions[question_id] = (snapshot_of(question), question.org_id)
        snapshot, owner = known
        return snapshot if owner == org else None

    async def chat_session_scope(
        self, session_id: uuid.UUID
    ) -> tuple[str, uuid.UUID | None] | None:
        """(organisation, interview id) of the chat session, or None if it does not exist."""
        if (known := self._sessions.get(session_id)) is not None:
            return known
        session = await self._read.get_chat_session(session_id)
        if session is None:
            return None
        self.session_opened(session)
        return session.org_id, session.interview_id

    async def candidate_org(self, candidate_id: uuid.UUID) -> str | None:
        """The candidate's organisation, or None if it does not exist (never cached as
        missing: it may be registered soon)."""
        if (known := self._candidates.get(candidate_id)) is not None:
            return known
        candidate = await self._read.get_candidate(candidate_id)
        if candidate is None:
            return None
        self._candidates[candidate_id] = candidate.org_id
        return candidate.org_id

    # ---- updates from the log and from the gateway's own writes ----------------------------

    def observe(self, outcome: OutcomeRecorded) -> None:
        """Follow an outcome: interviews take the state it carries; other changes evict."""
        if outcome.interview is not None:
            self._interviews[outcome.interview.interview_id] = outcome.interview
        elif outcome.subject_type == "candidate.erased":  # by any replica
            self._candidates.pop(uuid.UUID(outcome.subject_key), None)
        elif outcome.outcome == "applied" and outcome.subject_type.startswith("question."):
            # A question changed after creation (a new rubric, say): the next read is fresh.
            if outcome.subject_type != "question.created":
                self._questions.pop(uuid.UUID(outcome.subject_key), None)

    def question_created(self, question: Question) -> None:
        """Remember a question this gateway created."""
        self._questions[question.id] = (snapshot_of(question), question.org_id)

    def rubric_changed(self, question_id: uuid.UUID, rubric: Rubric) -> None:
        """Judge this gateway's next answers to the question with its new rubric."""
        if (known := self._questions.get(question_id)) is not None:
            snapshot, owner = known
            self._questions[question_id] = (snapshot.model_copy(update={"rubric": rubric}), owner)

    def session_opened(self, session: ChatSession) -> None:
        """Remember a chat session."""
        self._sessions[session.id] = (session.org_id, session.interview_id)

    def candidate_registered(self, candidate_id: uuid.UUID, org: str) -> None:
        """Remember a candidate."""
        self._candidates[candidate_id] = org

    def candidate_erased(self, candidate_id: uuid.UUID) -> None:
        """Forget an erased candidate (the store is asked again, and says it is gone)."""
        self._candidates.pop(candidate_id, None)
