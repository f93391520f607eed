"""Answers one posted chat message: decides the turn, streams it, then records its effects.

Order of the writes, for at-least-once without double effects: the deltas stream first (time
to first token is the model's plus one Kafka hop), then the interview's status change and the
scored answer, then the completed reply that carries the new conversation state. A crash
before the completed reply redelivers the message, and everything is written again under the
same ids (reply id and answer id derive from message ids), which the store deduplicates.
"""

from __future__ import annotations

import asyncio
import uuid

from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    AnswerSubmitted,
    ChatMessagePosted,
    ChatReplyCompleted,
    ChatReplyDelta,
    InterviewStatusChanged,
)
from interview_shared.logging import get_logger
from interview_shared.messaging import EventPublisher
from interview_shared.outcomes import OutcomeHub

from interview_chat import policy
from interview_chat.cancellation import Cancellations
from interview_chat.context import ContextLoader
from interview_chat.interviewer import (
    Advice,
    Interviewer,
    InterviewerUnusableError,
    Move,
    OfflineInterviewer,
    tokens,
)
from interview_chat.state import SessionBook, SessionState

log = get_logger(__name__)
# Reply ids derive from the message id, so a redelivered message yields the same reply id and the
# store keeps one assistant message, not two. Answer ids derive from the answer's last message.
_REPLY_NAMESPACE = uuid.UUID("6f1c9a4e-3b7d-4c55-9a0e-2d8f6b1e7c31")
_ANSWER_NAMESPACE = uuid.UUID("0b8e2c55-91d4-4a63-b7f0-3c6a1d9e4f27")


def reply_id_for(message_id: uuid.UUID) -> uuid.UUID:
    """The deterministic id of the reply to a message."""
    return uuid.uuid5(_REPLY_NAMESPACE, str(message_id))


def answer_id_for(message_id: uuid.UUID) -> uuid.UUID:
    """The deterministic id of the answer a chat message completes."""
    return uuid.uuid5(_ANSWER_NAMESPACE, str(message_id))


class ReplyStream:
    """The deltas of one reply, in order, with at most one in flight.

    Tokens that arrive while a delta waits for the broker's acknowledgement go out together as
    the next delta, as Nagle's algorithm does for TCP: the first token leaves at once, an idle
    system sends every token on its own, and a model faster than a Kafka round trip (or a busy
    machine) yields fewer, larger deltas, so many concurrent replies do not flood the log, the
    gateways' tails and the store with one event per token.
    """

    def __init__(self, publisher: EventPublisher, posted: ChatMessagePosted) -> None:
        self._publisher = publisher
        self._posted = posted
        self.id = reply_id_for(posted.message_id)
        self.parts: list[str] = []
        """Everything said so far, sent or about to be."""
        self.deltas = 0
        self._unsent: list[str] = []
        self._sender: asyncio.Task[None] | None = None

    def send(self, text: str) -> None:
        """Say `text`: sent now, or with the next delta if one is in flight."""
        if self._sender is not None and self._sender.done() and (lost := self._sender.exception()):
            raise lost  # a delta the broker did not take ends the reply: it is redelivered
        self.parts.append(text)
        self._unsent.append(text)
        if self._sender is None or self._sender.done():
            # Taken now, not when the task first runs: a model whose chunks arrive buffered
            # would otherwise merge the first token into the next ones before anything leaves.
            first = "".join(self._unsent)
            self._unsent.clear()
            self._sender = asyncio.create_task(self._drain(first))

    async def flushed(self) -> None:
        """Wait until every delta is acknowledged (raises if one was not)."""
        if self._sender is not None:
            await self._sender

    async def _drain(self, text: str) -> None:
        posted = self._posted
        while text:
            await self._publisher.publish(
                ChatReplyDelta(
                    chat_session_id=posted.chat_session_id,
                    reply_id=self.id,
                    in_reply_to=posted.message_id,
                    index=self.deltas,
                    delta=text,
                    correlation_id=posted.correlation_id,
                )
            )
            self.deltas += 1
            text = "".join(self._unsent)
            self._unsent.clear()

    async def completed(self, **fields: object) -> ChatReplyCompleted:
        """The completed reply, once its deltas are all acknowledged (they precede it)."""
        await self.flushed()
        posted = self._posted
        return ChatReplyCompleted(
            chat_session_id=posted.chat_session_id,
            reply_id=self.id,
            in_reply_to=posted.message_id,
            content="".join(self.parts),
            deltas=self.deltas,
            correlation_id=posted.correlation_id,
            **fields,
        )


class Responder:
    """Turns `chat.message.posted` into deltas, effects and `chat.reply.completed`."""

    def __init__(
        self,
        *,
        interviewer: Interviewer,
        book: SessionBook,
        context: ContextLoader,
        publisher: EventPublisher,
        outcomes: OutcomeHub,
        cancellations: Cancellations | None = None,
        max_follow_ups: int = 1,
        outcome_wait_s: float = 10.0,
    ) -> None:
        self._interviewer = interviewer
        self._fallback = OfflineInterviewer()
        self._book = book
        self._context = context
        self._publisher = publisher
        self._outcomes = outcomes
        self._cancellations = cancellations or Cancellations()
        self._max_follow_ups = max_follow_ups
        self._outcome_wait_s = outcome_wait_s

    async def respond(self, posted: ChatMessagePosted) -> None:
        """Reply once to a message (a redelivered one is skipped)."""
        state = await self._context.session(posted.chat_session_id)
        self._book.fold(posted)
        if state.answered(posted.message_id):
            log.info("chat_already_answered", message_id=str(posted.message_id))
            return
        status = await self._context.status(state)
        planned = policy.plan(state, posted, status, max_follow_ups=self._max_follow_ups)
        reply = ReplyStream(self._publisher, posted)
        cancelled, follow_up = await self._cancellations.run(
            posted.message_id, self._generate(planned, state, posted, reply)
        )
        if cancelled:
            await self._cancelled(planned, reply)
            return
        resolution = policy.resolve(planned, state, follow_up=bool(follow_up))
        for fragment in tokens(resolution.suffix):
            reply.send(fragment)
        await self._effects(planned, resolution, state, posted)
        completed = await reply.completed(turn=resolution.turn)
        await self._publisher.publish(completed)
        self._book.fold(completed)

    async def _generate(
        self,
        planned: policy.Plan,
        state: SessionState,
        posted: ChatMessagePosted,
        reply: ReplyStream,
    ) -> bool:
        """Stream the interviewer's part of the turn; return whether it advised a follow-up."""
        if planned.move is None:
            for fragment in tokens(planned.fixed):
                reply.send(fragment)
            return False
        request = policy.request_for(planned, state, posted)
        advice: bool | None = None
        try:
            async for item in self._interviewer.reply(request):
                if isinstance(item, Advice):
                    advice = item.follow_up if advice is None else advice
                else:
                    reply.send(item)
        except InterviewerUnusableError as exc:
            log.warning("interviewer_fallback", reason=str(exc), sent=len(reply.parts))
            if reply.parts:  # the turn is under way: keep what was said, the service goes on
                return bool(advice) if advice is not None else request.thin
            advice = None
            async for item in self._fallback.reply(request):
                if isinstance(item, Advice):
                    advice = item.follow_up
                else:
                    reply.send(item)
        if planned.move is not Move.ASSESS:
            return False
        return request.thin if advice is None else advice

    async def _effects(
        self,
        planned: policy.Plan,
        resolution: policy.Resolution,
        state: SessionState,
        posted: ChatMessagePosted,
    ) -> None:
        interview_id = state.interview_id
        if interview_id is None:
            return
        if planned.start:
            await self._status(interview_id, InterviewStatus.IN_PROGRESS, posted)
        question = resolution.answered
        if question is None:
            return
        answer = AnswerSubmitted(
            answer_id=answer_id_for(posted.message_id),
            interview_id=interview_id,
            question_id=question.question_id,
            text=" ".join(state.texts(planned.answer_ids)),
            question=question,
            chat_session_id=state.session_id,
            chat_message_ids=planned.answer_ids,
            correlation_id=posted.correlation_id,
        )
        if not resolution.complete:
            await self._publisher.publish(answer)
            return
        # The evaluator reports on the answers the store holds when COMPLETED is applied: the
        # last answer must be applied first. Waiting on its outcome event is no call to the store.
        async with self._outcomes.expecting(answer.event_id) as applied:
            await self._publisher.publish(answer)
            if await self._outcomes.settle(applied, self._outcome_wait_s) is None:
                log.warning("chat_last_answer_not_applied_in_time", answer_id=str(answer.answer_id))
        await self._status(interview_id, InterviewStatus.COMPLETED, posted)

    async def _status(
        self, interview_id: uuid.UUID, status: InterviewStatus, posted: ChatMessagePosted
    ) -> None:
        await self._publisher.publish(
            InterviewStatusChanged(
                interview_id=interview_id, status=status, correlation_id=posted.correlation_id
            )
        )
        self._book.set_status(interview_id, status)

    async def _cancelled(self, planned: policy.Plan, reply: ReplyStream) -> None:
        # What was streamed stays in the history; the answer so far stays open (no effects).
        if not reply.parts:
            return
        turn = planned.turn
        if planned.answer_ids:
            turn = turn.model_copy(
                update={"step": turn.step + 1, "pending_message_ids": planned.answer_ids}
            )
        completed = await reply.completed(turn=turn, cancelled=True)
        await self._publisher.publish(completed)
        self._book.fold(completed)


__all__ = ["ReplyStream", "Responder", "answer_id_for", "reply_id_for"]
