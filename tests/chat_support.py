"""An in-process chat service for unit tests: the responder, its book, and a store behind it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from interview_chat.context import ContextLoader
from interview_chat.interviewer import Interviewer, OfflineInterviewer
from interview_chat.responder import Responder
from interview_chat.state import SessionBook
from interview_shared.domain import InterviewStatus, Rubric
from interview_shared.events import (
    CandidateRegistered,
    ChatMessagePosted,
    ChatReplyCompleted,
    ChatSessionStarted,
    Event,
    EventEnvelope,
    InterviewCreated,
    InterviewStatusChanged,
    OutcomeRecorded,
    QuestionCreated,
    decode_event,
)
from interview_shared.messaging import EventPublisher
from interview_shared.outcomes import OutcomeHub
from interview_store.memory import MemoryStore

QUESTIONS = (
    QuestionCreated(
        question_id=uuid.uuid4(),
        text="What is a mutex?",
        reference_answer="A lock giving mutual exclusion: one thread at a time in a critical"
        " section.",
        key_points=("mutual exclusion", "one thread at a time"),
        skills=("concurrency",),
        rubric=Rubric(),
    ),
    QuestionCreated(
        question_id=uuid.uuid4(),
        text="How does a B-tree index work?",
        reference_answer="A balanced tree of sorted keys in pages; lookups walk from the root.",
        skills=("databases",),
        rubric=Rubric(),
    ),
)


@dataclass
class Pipeline:
    """Publishes into the store, as its consumer would, announces outcomes, records events."""

    store: MemoryStore
    outcomes: OutcomeHub = field(default_factory=OutcomeHub)
    published: list[Event] = field(default_factory=list)

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        event = decode_event(message)
        self.published.append(event)
        (result,) = await self.store.apply([event])
        self.outcomes.seen(
            OutcomeRecorded(
                subject_event_id=event.event_id,
                subject_type=event.type,
                subject_key=event.key,
                outcome=result.outcome.value,
                reason=result.reason,
            )
        )

    async def post(self, event: EventEnvelope) -> None:
        await EventPublisher(self).publish(event)

    def of(self, kind: type[Any]) -> list[Any]:
        """The published events of one type, in order."""
        return [e for e in self.published if isinstance(e, kind)]


@dataclass
class Chat:
    """A chat session about an interview, with the chat service's responder."""

    pipeline: Pipeline
    book: SessionBook
    responder: Responder
    session_id: uuid.UUID
    interview_id: uuid.UUID

    async def say(self, content: str) -> ChatMessagePosted:
        """Post a message and let the responder answer it."""
        posted = ChatMessagePosted(
            chat_session_id=self.session_id, message_id=uuid.uuid4(), content=content
        )
        await self.pipeline.post(posted)
        await self.responder.respond(posted)
        return posted

    def replies(self) -> list[str]:
        """The interviewer's replies so far."""
        return [e.content for e in self.pipeline.of(ChatReplyCompleted)]


async def chat(
    *,
    interviewer: Interviewer | None = None,
    status: InterviewStatus = InterviewStatus.READY,
    max_follow_ups: int = 1,
    questions: tuple[QuestionCreated, ...] = QUESTIONS,
) -> Chat:
    """A READY interview with `questions`, a session about it, and a responder."""
    store = MemoryStore()
    pipeline = Pipeline(store)
    candidate = CandidateRegistered(
        candidate_id=uuid.uuid4(), name="Ada", email=f"{uuid.uuid4().hex}@example.com"
    )
    interview = InterviewCreated(
        interview_id=uuid.uuid4(),
        candidate_id=candidate.candidate_id,
        title="Backend",
        question_ids=tuple(q.question_id for q in questions),
    )
    session = ChatSessionStarted(chat_session_id=uuid.uuid4(), interview_id=interview.interview_id)
    setup: list[Event] = [candidate, *questions, interview]
    if status is not InterviewStatus.PREPARING:
        ready = InterviewStatus.READY
        setup.append(InterviewStatusChanged(interview_id=interview.interview_id, status=ready))
    await store.apply([*setup, session])
    book = SessionBook()
    book.fold(session)
    responder = Responder(
        interviewer=interviewer or OfflineInterviewer(),
        book=book,
        context=ContextLoader(book, store),
        publisher=EventPublisher(pipeline),
        outcomes=pipeline.outcomes,
        max_follow_ups=max_follow_ups,
        outcome_wait_s=1.0,
    )
    return Chat(pipeline, book, responder, session.chat_session_id, interview.interview_id)


FULL_ANSWER = (
    "A mutex is a lock that provides mutual exclusion, so only one thread at a time runs the"
    " critical section it protects."
)
FULL_SECOND = (
    "A B-tree keeps sorted keys in balanced pages, and a lookup walks from the root page down to"
    " a leaf in logarithmic time."
)
