"""Answers one posted chat message: loads the conversation, streams the reply as events."""

from __future__ import annotations

import uuid
from typing import Protocol

from interview_shared.domain import ChatRole
from interview_shared.events import ChatMessagePosted, ChatReplyCompleted, ChatReplyDelta
from interview_shared.logging import get_logger
from interview_shared.messaging import EventPublisher
from interview_shared.read_queries import (
    GetChatSession,
    GetInterview,
    GetQuestion,
    ListChatMessages,
)

from interview_chat.interviewer import Conversation, Interviewer, Turn

log = get_logger(__name__)
# Reply ids derive from the message id, so a redelivered message yields the same reply id and the
# store keeps one assistant message, not two.
_REPLY_NAMESPACE = uuid.UUID("6f1c9a4e-3b7d-4c55-9a0e-2d8f6b1e7c31")


class ChatReads(GetChatSession, GetInterview, GetQuestion, ListChatMessages, Protocol):
    """The read queries the chat service makes: the conversation and what it is about."""


def reply_id_for(message_id: uuid.UUID) -> uuid.UUID:
    """The deterministic id of the reply to a message."""
    return uuid.uuid5(_REPLY_NAMESPACE, str(message_id))


class Responder:
    """Turns `chat.message.posted` into `chat.reply.delta`* + `chat.reply.completed`."""

    def __init__(
        self, *, interviewer: Interviewer, read: ChatReads, publisher: EventPublisher
    ) -> None:
        self._interviewer = interviewer
        self._read = read
        self._publisher = publisher

    async def respond(self, posted: ChatMessagePosted) -> None:
        """Stream the reply; skip if this message was already answered."""
        reply_id = reply_id_for(posted.message_id)
        history = await self._read.list_chat_messages(posted.chat_session_id)
        if any(m.id == reply_id for m in history):
            log.info("chat_already_answered", message_id=str(posted.message_id))
            return
        conversation = await self._conversation(posted, history)
        index, text = 0, []
        async for fragment in self._interviewer.reply(conversation):
            await self._publisher.publish(
                ChatReplyDelta(
                    chat_session_id=posted.chat_session_id,
                    reply_id=reply_id,
                    in_reply_to=posted.message_id,
                    index=index,
                    delta=fragment,
                    correlation_id=posted.correlation_id,
                )
            )
            text.append(fragment)
            index += 1
        await self._publisher.publish(
            ChatReplyCompleted(
                chat_session_id=posted.chat_session_id,
                reply_id=reply_id,
                in_reply_to=posted.message_id,
                content="".join(text),
                deltas=index,
                correlation_id=posted.correlation_id,
            )
        )

    async def _conversation(self, posted: ChatMessagePosted, history: list) -> Conversation:  # type: ignore[type-arg]
        # The store may not have applied the posted message yet; it is the latest turn either way.
        turns = [Turn(m.role, m.content) for m in history if m.id != posted.message_id]
        title, questions = None, []
        session = await self._read.get_chat_session(posted.chat_session_id)
        if session is not None and session.interview_id is not None:
            interview = await self._read.get_interview(session.interview_id)
            if interview is not None:
                title = interview.title
                for question_id in interview.question_ids:
                    question = await self._read.get_question(question_id)
                    if question is not None:
                        questions.append(question.text)
        return Conversation(
            session_id=posted.chat_session_id,
            message=posted.content,
            history=tuple(turns),
            interview_title=title,
            questions=tuple(questions),
        )


__all__ = ["ChatRole", "Responder", "reply_id_for"]
