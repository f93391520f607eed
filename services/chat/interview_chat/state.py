"""The chat service's own state of every conversation, folded from the chat topics.

The service owns where an interview conversation stands (which question is open, how many
follow-ups were asked, which messages answer it). Every completed reply carries that state
(`InterviewTurn`), so a fold over the chat topics rebuilds it after a restart: the service
replays them at start-up and keeps following them, and its own replies are folded as it
publishes them. Replies of one session share a partition, and a fold keeps the highest `step`,
so a late copy of an older reply never winds the state back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from interview_shared.domain import DEFAULT_ORG, ChatRole, InterviewStatus
from interview_shared.events import (
    ChatMessagePosted,
    ChatReplyCancelled,
    ChatReplyCompleted,
    ChatSessionClosed,
    ChatSessionStarted,
    Event,
    InterviewState,
    InterviewTurn,
    QuestionSnapshot,
)

from interview_chat.interviewer import Turn


@dataclass(frozen=True, slots=True)
class InterviewContext:
    """What the interviewer knows of the interview: loaded once per session, not per message."""

    interview_id: uuid.UUID
    title: str
    questions: tuple[QuestionSnapshot, ...]


@dataclass
class SessionState:
    """One chat session as the chat service sees it."""

    session_id: uuid.UUID
    interview_id: uuid.UUID | None = None
    org_id: str = DEFAULT_ORG
    """The organisation the session was opened in (listings are scoped by it)."""
    turn: InterviewTurn = field(default_factory=InterviewTurn)
    closed: bool = False
    messages: dict[uuid.UUID, ChatMessagePosted] = field(default_factory=dict)
    replies: dict[uuid.UUID, ChatReplyCompleted] = field(default_factory=dict)
    """Completed replies by the message they answer."""
    cancelled: set[uuid.UUID] = field(default_factory=set)
    """Messages whose reply the client cancelled."""
    context: InterviewContext | None = None

    def answered(self, message_id: uuid.UUID) -> bool:
        """Whether the message already has its reply (or the client gave up on it)."""
        return message_id in self.replies or message_id in self.cancelled

    def history(self, *, excluding: uuid.UUID | None = None) -> tuple[Turn, ...]:
        """What was said, in order (by event time: the two topics interleave on replay)."""
        said = [
            (m.occurred_at, Turn(ChatRole.USER, m.content))
            for m in self.messages.values()
            if m.message_id != excluding
        ]
        said += [
            (r.occurred_at, Turn(ChatRole.ASSISTANT, r.content)) for r in self.replies.values()
        ]
        return tuple(turn for _, turn in sorted(said, key=lambda pair: pair[0]))

    def texts(self, message_ids: tuple[uuid.UUID, ...]) -> list[str]:
        """The candidate's words in these messages, in order (unknown ids are skipped)."""
        return [self.messages[m].content for m in message_ids if m in self.messages]


class SessionBook:
    """Every session's state, and the interview statuses the store has announced."""

    def __init__(self) -> None:
        self._sessions: dict[uuid.UUID, SessionState] = {}
        self._statuses: dict[uuid.UUID, InterviewStatus] = {}
        self._interviews: set[uuid.UUID] = set()

    def get(self, session_id: uuid.UUID) -> SessionState | None:
        """The session's state, if the book has seen it start."""
        return self._sessions.get(session_id)

    def sessions(
        self, *, interview_id: uuid.UUID | None = None, org_id: str | None = None
    ) -> list[SessionState]:
        """Sessions, optionally of one interview or organisation, in the order they started."""
        return [
            s
            for s in self._sessions.values()
            if (interview_id is None or s.interview_id == interview_id)
            and (org_id is None or s.org_id == org_id)
        ]

    def session(self, session_id: uuid.UUID, interview_id: uuid.UUID | None) -> SessionState:
        """The session's state, created if new."""
        state = self._sessions.get(session_id)
        if state is None:
            state = self._sessions[session_id] = SessionState(session_id, interview_id)
        if interview_id is not None:
            state.interview_id = interview_id
            self._interviews.add(interview_id)
        return state

    def fold(self, event: Event) -> None:
        """Apply one chat event; idempotent, so the tail and the writer may both fold it."""
        if isinstance(event, ChatSessionStarted):
            self.session(event.chat_session_id, event.interview_id).org_id = event.org_id
            return
        if not isinstance(
            event, ChatMessagePosted | ChatReplyCompleted | ChatReplyCancelled | ChatSessionClosed
        ):
            return
        state = self.session(event.chat_session_id, None)
        if isinstance(event, ChatMessagePosted):
            state.messages.setdefault(event.message_id, event)
        elif isinstance(event, ChatReplyCompleted):
            state.replies.setdefault(event.in_reply_to, event)
            if event.turn is not None and event.turn.step > state.turn.step:
                state.turn = event.turn
        elif isinstance(event, ChatReplyCancelled):
            state.cancelled.add(event.message_id)
        else:
            state.closed = True

    def status(self, interview_id: uuid.UUID) -> InterviewStatus | None:
        """The interview's status as last announced or written."""
        return self._statuses.get(interview_id)

    def set_status(self, interview_id: uuid.UUID, status: InterviewStatus) -> None:
        """Record a status (from the store's outcome, or the store's read API on a miss)."""
        self._statuses[interview_id] = status

    def observe(self, interview: InterviewState) -> None:
        """Follow the interview state an outcome carries (a cancellation by a recruiter, say)."""
        if interview.interview_id in self._interviews:  # only interviews someone chats about
            self._statuses[interview.interview_id] = interview.status
