"""The chat service: the offline interviewer and the responder that streams its replies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from interview_chat.interviewer import Conversation, OfflineInterviewer, Turn, tokens
from interview_chat.responder import Responder, reply_id_for
from interview_shared import topics
from interview_shared.domain import ChatRole
from interview_shared.events import (
    CandidateRegistered,
    ChatMessagePosted,
    ChatReplyCompleted,
    ChatReplyDelta,
    ChatSessionStarted,
    Event,
    EventEnvelope,
    InterviewCreated,
    QuestionCreated,
    decode_event,
)
from interview_shared.messaging import EventPublisher
from interview_shared.read_models import ApplyResult
from interview_store.memory import MemoryStore

# ---- tokens ------------------------------------------------------------------------------------


@settings(max_examples=500)
@given(st.text())
def test_tokens_concatenate_back_to_the_text(text: str) -> None:
    parts = tokens(text)

    assert "".join(parts) == text
    assert all(parts)
    assert len(parts) == max(len(text.split()), 1 if text else 0)


@given(st.lists(st.text(st.characters(exclude_categories=["Z", "Cc"]), min_size=1), min_size=1))
def test_each_token_is_one_word_with_its_trailing_space(words: list[str]) -> None:
    text = "  ".join(words) + " "

    assert [part.strip() for part in tokens(text)] == words


def test_tokens_of_nothing_and_of_blanks() -> None:
    assert tokens("") == []
    assert tokens("   ") == ["   "]
    assert tokens("  hi there ") == ["  hi ", "there "]


# ---- OfflineInterviewer ------------------------------------------------------------------------

QUESTIONS = ("What is a mutex?", "How does a B-tree index work?")


async def run_interview(messages: list[str], questions: tuple[str, ...] = QUESTIONS) -> list[str]:
    """Reply to each message in turn, as the chat service would; return the replies."""
    interviewer, history, replies = OfflineInterviewer(), list[Turn](), list[str]()
    session_id = uuid.uuid4()
    for message in messages:
        conversation = Conversation(
            session_id=session_id,
            message=message,
            history=tuple(history),
            interview_title="Backend",
            questions=questions,
        )
        reply = "".join([fragment async for fragment in interviewer.reply(conversation)])
        assert reply == interviewer.compose(conversation)
        history += [Turn(ChatRole.USER, message), Turn(ChatRole.ASSISTANT, reply)]
        replies.append(reply)
    return replies


async def test_the_interviewer_greets_asks_in_order_acknowledges_and_ends() -> None:
    greeting, second, last, after = await run_interview(
        ["Hello!", "Mutual exclusion with locks.", "Balanced pages of sorted keys.", "Bye"]
    )

    assert greeting.startswith('Hello, and welcome to your interview for "Backend"!')
    assert greeting.endswith(f"Question 1 of 2: {QUESTIONS[0]}")
    assert second.startswith("Thank you for your answer. You mentioned mutual, exclusion, locks.")
    assert second.endswith(f"Question 2 of 2: {QUESTIONS[1]}")
    assert last.startswith("Thank you for your answer. You mentioned balanced, pages, sorted.")
    assert "That was the last question." in last
    assert QUESTIONS[1] not in last
    assert "That was the last question." in after


async def test_without_questions_the_interviewer_asks_an_open_question() -> None:
    greeting, follow_up = await run_interview(["Hi", "I built a compiler."], questions=())

    assert greeting.startswith("Hello, and welcome to your interview")
    assert "Tell me about a project" in greeting
    assert follow_up.startswith("Thanks. You mentioned built, compiler.")


async def test_a_question_contained_in_an_earlier_question_is_still_asked() -> None:
    questions = ("What is a mutex, and when is a semaphore better?", "What is a mutex")

    _, second = await run_interview(["Hello", "A lock."], questions=questions)

    assert second.endswith("Question 2 of 2: What is a mutex")


# ---- Responder ---------------------------------------------------------------------------------


class LocalReadSide(MemoryStore):
    """The store's read API in process."""

    async def event_outcome(self, event_id: uuid.UUID, *, wait_s: float = 0) -> ApplyResult | None:
        return await super().event_outcome(event_id)


@dataclass
class Pipeline:
    """Publishes into the store, like the store's consumer would, and records every event."""

    store: MemoryStore
    published: list[tuple[str, bytes | None, Event]] = field(default_factory=list)

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        event = decode_event(message)
        self.published.append((topic, key, event))
        await self.store.apply([event])

    async def post(self, event: EventEnvelope) -> None:
        await EventPublisher(self).publish(event)


async def chat_about_an_interview(store: LocalReadSide) -> uuid.UUID:
    """A chat session about an interview with two questions; returns the session id."""
    candidate = CandidateRegistered(candidate_id=uuid.uuid4(), name="Ada", email="a@example.com")
    questions = [QuestionCreated(question_id=uuid.uuid4(), text=text) for text in QUESTIONS]
    interview = InterviewCreated(
        interview_id=uuid.uuid4(),
        candidate_id=candidate.candidate_id,
        title="Backend",
        question_ids=tuple(q.question_id for q in questions),
    )
    session = ChatSessionStarted(chat_session_id=uuid.uuid4(), interview_id=interview.interview_id)
    setup: list[Event] = [candidate, *questions, interview, session]
    await store.apply(setup)
    return session.chat_session_id


async def test_a_reply_streams_as_ordered_deltas_then_the_whole_text() -> None:
    store = LocalReadSide()
    pipeline = Pipeline(store)
    session_id = await chat_about_an_interview(store)
    posted = ChatMessagePosted(
        chat_session_id=session_id, message_id=uuid.uuid4(), content="Hi!", correlation_id="c-7"
    )
    await pipeline.post(posted)
    responder = Responder(
        interviewer=OfflineInterviewer(), read=store, publisher=EventPublisher(pipeline)
    )

    await responder.respond(posted)

    replies = pipeline.published[1:]  # after the posted message
    assert {t for t, _, _ in replies} == {topics.CHAT_REPLIES.name}
    assert {k for _, k, _ in replies} == {str(session_id).encode()}
    *deltas, completed = [e for _, _, e in replies]
    assert all(isinstance(d, ChatReplyDelta) for d in deltas)
    assert isinstance(completed, ChatReplyCompleted)
    chunks = [d for d in deltas if isinstance(d, ChatReplyDelta)]
    assert [d.index for d in chunks] == list(range(len(chunks)))
    assert completed.content == "".join(d.delta for d in chunks)
    assert completed.deltas == len(chunks) > 1
    assert {d.reply_id for d in chunks} == {completed.reply_id} == {reply_id_for(posted.message_id)}
    assert {d.in_reply_to for d in chunks} == {completed.in_reply_to} == {posted.message_id}
    assert {e.correlation_id for e in (*chunks, completed)} == {"c-7"}
    assert completed.content.startswith('Hello, and welcome to your interview for "Backend"!')
    assert completed.content.endswith(f"Question 1 of 2: {QUESTIONS[0]}")
    history = await store.list_chat_messages(session_id)
    assert [(m.role, m.content) for m in history] == [
        (ChatRole.USER, "Hi!"),
        (ChatRole.ASSISTANT, completed.content),
    ]


async def test_a_redelivered_message_is_not_answered_twice() -> None:
    store = LocalReadSide()
    pipeline = Pipeline(store)
    session_id = await chat_about_an_interview(store)
    posted = ChatMessagePosted(chat_session_id=session_id, message_id=uuid.uuid4(), content="Hi!")
    await pipeline.post(posted)
    responder = Responder(
        interviewer=OfflineInterviewer(), read=store, publisher=EventPublisher(pipeline)
    )
    await responder.respond(posted)
    published = len(pipeline.published)

    await responder.respond(posted)

    assert len(pipeline.published) == published
    assert len(await store.list_chat_messages(session_id)) == 2


async def test_the_next_reply_asks_the_next_question() -> None:
    store = LocalReadSide()
    pipeline = Pipeline(store)
    session_id = await chat_about_an_interview(store)
    responder = Responder(
        interviewer=OfflineInterviewer(), read=store, publisher=EventPublisher(pipeline)
    )

    for content in ("Hi!", "A lock for mutual exclusion."):
        posted = ChatMessagePosted(
            chat_session_id=session_id, message_id=uuid.uuid4(), content=content
        )
        await pipeline.post(posted)
        await responder.respond(posted)

    replies = [e.content for _, _, e in pipeline.published if isinstance(e, ChatReplyCompleted)]
    assert replies[1].endswith(f"Question 2 of 2: {QUESTIONS[1]}")


def test_reply_ids_are_deterministic_per_message() -> None:
    message_id = uuid.uuid4()

    assert reply_id_for(message_id) == reply_id_for(uuid.UUID(str(message_id)))
    assert reply_id_for(message_id) != reply_id_for(uuid.uuid4())
    assert reply_id_for(message_id).version == 5
