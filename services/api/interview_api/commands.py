"""The gateway's write side: validate against the projection, publish, wait for the outcome.

Every write goes through Kafka; the gateway never writes to the database and, in steady state,
never calls the store while accepting one. Read-your-writes comes from waiting, in process, for
the store's outcome event for the published event before answering, so a client that reads
right after a `201` sees the change; the body is built from the published event itself. The
store is the authority on rules that need current state (unique e-mail, status transitions): a
rejection it reports becomes the client's 4xx.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from cachetools import LRUCache
from interview_shared.domain import InterviewStatus, can_transition
from interview_shared.events import (
    AnswerAudioSubmitted,
    AnswerEvaluated,
    AnswerSubmitted,
    CandidateErased,
    CandidateRegistered,
    ChatMessagePosted,
    ChatReplyCancelled,
    ChatSessionClosed,
    ChatSessionStarted,
    CvAnalyzed,
    EventEnvelope,
    InterviewCreated,
    InterviewState,
    InterviewStatusChanged,
    OutcomeRecorded,
    QuestionCreated,
    QuestionRubricChanged,
    QuestionSnapshot,
    ReplayRequested,
    ReplayScope,
)
from interview_shared.http import ApiError
from interview_shared.keyring import KeyRing, Privacy
from interview_shared.messaging import EventPublisher
from interview_shared.outcomes import OutcomeHub
from interview_shared.projections import (
    answer_fields,
    candidate_fields,
    chat_session_fields,
    evaluation_fields,
    interview_fields,
    interview_from_state,
    question_fields,
)
from interview_shared.read_models import (
    Answer,
    Candidate,
    ChatSession,
    Evaluation,
    Interview,
    Question,
)

from interview_api.policy import acting_on
from interview_api.projection import Projection
from interview_api.request_context import Context
from interview_api.rubrics import new_rubric
from interview_api.schemas import (
    AnswerIn,
    CandidateIn,
    ChatMessageIn,
    ChatSessionIn,
    CvAnalysisIn,
    InterviewIn,
    QuestionIn,
    ReplayIn,
    RubricIn,
)

# Store rejection reasons -> (HTTP status, stable error code, message).
_REJECTIONS: dict[str, tuple[int, str, str]] = {
    "email_taken": (409, "email_taken", "A candidate with this e-mail already exists."),
    "already_exists": (409, "already_exists", "A resource with this id already exists."),
    "invalid_transition": (409, "invalid_transition", "The interview cannot move to that status."),
    "interview_not_found": (404, "not_found", "interview not found"),
    "question_not_found": (404, "not_found", "question not found"),
}


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Written:
    """A write's result: `applied` is False when the store had not applied it in time."""

    id: uuid.UUID
    event_id: uuid.UUID
    applied: bool
    resource: Any = None
    """The resource as the store now holds it, built from the published event (or outcome)."""


class Commands:
    """Use cases behind the POST and PATCH routes."""

    def __init__(
        self,
        *,
        projection: Projection,
        outcomes: OutcomeHub,
        publisher: EventPublisher,
        keys: KeyRing,
        wait_s: float,
        publish_timeout_s: float = 5.0,
    ) -> None:
        self._projection = projection
        self._keys = keys
        self._outcomes = outcomes
        self._publisher = publisher
        self._wait_s = wait_s
        self._publish_timeout_s = publish_timeout_s
        self._closed: LRUCache[uuid.UUID, bool] = LRUCache(10_000)
        self._background: set[asyncio.Task[None]] = set()

    async def register_candidate(self, body: CandidateIn, ctx: Context) -> Written:
        """Publish candidate.registered; the store decides whether the e-mail is taken (409).

        The candidate's data key is made (and on the keys topic) first: the event's name and
        e-mail go on the log sealed with it."""
        candidate_id = ctx.new_id("resource")
        await self._kafka(self._keys.create(candidate_id))
        event = CandidateRegistered(
            event_id=ctx.new_id("event"),
            candidate_id=candidate_id,
            data_subject=candidate_id,
            org_id=ctx.org,
            correlation_id=ctx.correlation_id,
            **body.model_dump(),
        )
        written = await self._write(event, event.candidate_id, Candidate(**candidate_fields(event)))
        if written.applied:
            self._projection.candidate_registered(event.candidate_id, ctx.org)
        return written

    async def record_cv_analysis(
        self, candidate_id: uuid.UUID, body: CvAnalysisIn, ctx: Context
    ) -> Written:
        """Publish candidate.cv_analyzed for a candidate the policy has already let through."""
        event = CvAnalyzed(
            event_id=ctx.new_id("event"),
            analysis_id=ctx.new_id("resource"),
            candidate_id=candidate_id,
            data_subject=candidate_id,
            correlation_id=ctx.correlation_id,
            **body.model_dump(),
        )
        return await self._write(event, event.analysis_id)

    async def create_question(self, body: QuestionIn, ctx: Context) -> Written:
        """Publish question.created."""
        fields = body.model_dump(exclude={"type"})
        event = QuestionCreated(
            event_id=ctx.new_id("event"),
            question_id=ctx.new_id("resource"),
            question_type=body.type,
            org_id=ctx.org,
            correlation_id=ctx.correlation_id,
            **fields,
        )
        question = Question(**question_fields(event))
        written = await self._write(event, event.question_id, question)
        if written.applied:
            self._projection.question_created(question)
        return written

    async def change_rubric(self, question: Question, body: RubricIn, ctx: Context) -> Written:
        """Publish question.rubric_changed with a version the question has not now (the
        policy has checked that the question is of the caller's organisation)."""
        snapshot = await self._projection.question(question.id, org=ctx.org, fresh=True)
        if snapshot is None:
            raise ApiError(404, "not_found", "question not found")
        event = QuestionRubricChanged(
            event_id=ctx.new_id("event"),
            question_id=question.id,
            rubric=new_rubric(snapshot.rubric, body.version, body.criteria),
            correlation_id=ctx.correlation_id,
        )
        written = await self._write(event, question.id)
        if written.applied:
            self._projection.rubric_changed(question.id, event.rubric)
        return written

    async def request_replay(self, body: ReplayIn, ctx: Context) -> Written:
        """Publish replay.requested; the evaluator runs it and reports progress on the log.

        Waits (bounded, like every write) only for the store's outcome event, so a GET right
        after the 202 finds the replay; the replay itself runs long after the answer.
        """
        fields = body.model_dump(exclude={"scope"})
        scope = ReplayScope(**body.scope.model_dump())
        event = ReplayRequested(
            event_id=ctx.new_id("event"),
            replay_id=ctx.new_id("resource"),
            scope=scope,
            org_id=ctx.org,  # the evaluator re-scores only this organisation's answers
            correlation_id=ctx.correlation_id,
            **fields,
        )
        return await self._write(event, event.replay_id)

    async def record_evaluation(self, event: AnswerEvaluated) -> Written:
        """Publish an evaluation made at the gateway (a person's grade) and wait for the store."""
        return await self._write(event, event.evaluation_id, Evaluation(**evaluation_fields(event)))

    async def create_interview(self, body: InterviewIn, ctx: Context) -> Written:
        """Publish interview.created once the candidate and every question exist in the
        caller's organisation (another organisation's are "not found")."""
        if await self._projection.candidate_org(body.candidate_id) != ctx.org:
            raise ApiError(404, "candidate_not_found", "candidate not found")
        found = await asyncio.gather(
            *(self._projection.question(q, org=ctx.org) for q in body.question_ids)
        )
        missing = [str(q) for q, snap in zip(body.question_ids, found, strict=True) if snap is None]
        if missing:
            raise ApiError(
                404, "question_not_found", "questions not found", {"question_ids": missing}
            )
        if len(set(body.question_ids)) != len(body.question_ids):
            raise ApiError(422, "duplicate_questions", "question_ids must not repeat")
        event = InterviewCreated(
            event_id=ctx.new_id("event"),
            interview_id=ctx.new_id("resource"),
            candidate_id=body.candidate_id,
            title=body.title,
            question_ids=tuple(body.question_ids),
            org_id=ctx.org,
            correlation_id=ctx.correlation_id,
        )
        return await self._write(event, event.interview_id, Interview(**interview_fields(event)))

    async def change_status(
        self, interview: InterviewState, status: InterviewStatus, ctx: Context
    ) -> Written:
        """Publish interview.status_changed if the transition looks legal (the store decides)."""
        interview_id = interview.interview_id
        if not can_transition(interview.status, status):
            interview = await self._interview(interview_id, fresh=True)
        if not can_transition(interview.status, status):
            raise ApiError(
                409,
                "invalid_transition",
                f"An interview cannot move from {interview.status} to {status}.",
                {"from": interview.status, "to": status},
            )
        event = InterviewStatusChanged(
            event_id=ctx.new_id("event"),
            interview_id=interview_id,
            status=status,
            correlation_id=ctx.correlation_id,
        )
        return await self._write(event, interview_id)

    async def submit_answer(
        self, interview: InterviewState, body: AnswerIn, ctx: Context
    ) -> Written:
        """Publish answer.submitted with the question snapshot it will be judged against."""
        question = await self.answerable(interview, body.question_id)
        event = AnswerSubmitted(
            event_id=ctx.new_id("event"),
            answer_id=ctx.new_id("resource"),
            interview_id=interview.interview_id,
            question_id=body.question_id,
            text=body.text,
            question=question,
            data_subject=interview.candidate_id,
            correlation_id=ctx.correlation_id,
        )
        return await self._write(event, event.answer_id, Answer(**answer_fields(event)))

    async def answerable(
        self, interview: InterviewState, question_id: uuid.UUID
    ) -> QuestionSnapshot:
        """The question's snapshot, if the interview (which the policy let the caller act on)
        takes an answer to it now (else 4xx)."""
        if not _accepts(interview, question_id):
            interview = await self._interview(interview.interview_id, fresh=True)
        if interview.status is not InterviewStatus.IN_PROGRESS:
            raise ApiError(
                409,
                "interview_not_in_progress",
                "Answers are accepted only while the interview is IN_PROGRESS"
                f" (it is {interview.status}).",
            )
        if question_id not in interview.question_ids:
            raise ApiError(
                422, "question_not_in_interview", "That question is not part of this interview."
            )
        question = await self._projection.question(question_id, org=interview.org_id)
        if question is None:
            raise ApiError(404, "question_not_found", "question not found")
        return question

    async def submit_recording(self, event: AnswerAudioSubmitted) -> Written:
        """Publish answer.audio_submitted (the recording is in the blob store already)."""
        return await self._write(event, event.answer_id)

    async def start_chat(self, body: ChatSessionIn, ctx: Context) -> Written:
        """Publish chat.session.started, about an interview if one is named (a candidate must
        name one of its own)."""
        if body.interview_id is not None:
            acting_on(ctx.principal, await self._projection.interview(body.interview_id))
        elif ctx.principal.is_candidate:
            raise ApiError(422, "interview_required", "A candidate chats about its interview.")
        event = ChatSessionStarted(
            event_id=ctx.new_id("event"),
            chat_session_id=ctx.new_id("resource"),
            interview_id=body.interview_id,
            org_id=ctx.org,
            correlation_id=ctx.correlation_id,
        )
        session = ChatSession(**chat_session_fields(event))
        written = await self._write(event, event.chat_session_id, session)
        if written.applied:
            self._projection.session_opened(session)
        return written

    async def post_chat_message(
        self, session_id: uuid.UUID, body: ChatMessageIn, ctx: Context
    ) -> ChatMessagePosted:
        """Publish chat.message.posted (the policy has checked the session); the caller may
        wait for the streamed reply."""
        if session_id in self._closed:
            raise ApiError(409, "chat_session_closed", "This chat session is closed.")
        event = ChatMessagePosted(
            event_id=ctx.new_id("event"),
            chat_session_id=session_id,
            message_id=ctx.new_id("resource"),
            content=body.content,
            data_subject=await self._chat_subject(session_id),
            correlation_id=ctx.correlation_id,
        )
        await self._publish(event)
        return event

    async def close_chat(self, session_id: uuid.UUID, ctx: Context) -> Written:
        """Publish chat.session.closed for a session the policy has let the caller act on."""
        event = ChatSessionClosed(
            event_id=ctx.new_id("event"),
            chat_session_id=session_id,
            correlation_id=ctx.correlation_id,
        )
        written = await self._write(event, session_id)
        self._closed[session_id] = True
        return written

    async def sealed_file(self, subject: uuid.UUID, data: bytes) -> bytes:
        """A file of the candidate's (a recording, a CV) as the blob store keeps it: encrypted
        with their data key, so an erasure shreds it too, backups included."""
        # One registered before keys existed gets one now; bounded like every Kafka write.
        await self._kafka(self._keys.create(subject))
        return await Privacy(self._keys).seal_file(subject, data)

    async def erase_candidate(self, candidate_id: uuid.UUID, ctx: Context) -> Written:
        """Erase a candidate of the caller's organisation: destroy the data key, then publish
        candidate.erased for the stores to drop what they hold.

        The key goes first: from its tombstone on, no reader of the log can open the
        candidate's data, whatever happens to the event. A retried erasure does it again."""
        if await self._projection.candidate_org(candidate_id) != ctx.org:
            raise ApiError(404, "not_found", "candidate not found")
        await self._kafka(self._keys.destroy(candidate_id))
        event = CandidateErased(
            event_id=ctx.new_id("event"),
            candidate_id=candidate_id,
            correlation_id=ctx.correlation_id,
        )
        written = await self._write(event, candidate_id)
        self._projection.candidate_erased(candidate_id)
        return written

    def cancel_reply(self, posted: ChatMessagePosted) -> None:
        """Tell the chat service to stop the reply to `posted` (its client went away).

        Called while the stream is being torn down, so the publish runs as its own task.
        """
        event = ChatReplyCancelled(
            chat_session_id=posted.chat_session_id,
            message_id=posted.message_id,
            correlation_id=posted.correlation_id,
        )
        task = asyncio.create_task(self._publisher.publish(event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _write(
        self, event: EventEnvelope, resource_id: uuid.UUID, resource: Any = None
    ) -> Written:
        # Expect the outcome before publishing: it can arrive before publish() returns.
        async with self._outcomes.expecting(event.event_id) as future:
            await self._publish(event)
            try:
                async with asyncio.timeout(self._wait_s):  # no extra task, unlike wait_for
                    outcome = await future
            except TimeoutError:
                return Written(id=resource_id, event_id=event.event_id, applied=False)
        _raise_if_rejected(outcome)
        if outcome.interview is not None:  # the interview as it is now, after this change
            resource = interview_from_state(outcome.interview)
        return Written(id=resource_id, event_id=event.event_id, applied=True, resource=resource)

    async def _chat_subject(self, session_id: uuid.UUID) -> uuid.UUID | None:
        """The candidate whose interview the session is about (None: no interview, no one's)."""
        scope = await self._projection.chat_session_scope(session_id)
        if scope is None or scope[1] is None:
            return None
        interview = await self._projection.interview(scope[1])
        return None if interview is None else interview.candidate_id

    async def _publish(self, event: EventEnvelope) -> None:
        """Publish and wait for the broker's acknowledgement, or answer 503 (Retry-After)."""
        await self._kafka(self._publisher.publish(event))

    async def _kafka(self, write: Awaitable[T]) -> T:
        """Await a write to Kafka (an event, a data key or its tombstone), or answer 503.

        Without a bound a dead broker holds the request for the producer's whole request
        timeout (40 s) and then fails as a 500. A send that times out here may still be
        delivered later: the client was told to retry, never promised it was kept.
        """
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                return await write
        except (TimeoutError, KafkaError) as exc:
            raise ApiError(
                503, "broker_unavailable", "The event log is unavailable; retry later."
            ) from exc

    async def _interview(self, interview_id: uuid.UUID, *, fresh: bool) -> InterviewState:
        interview = await self._projection.interview(interview_id, fresh=fresh)
        if interview is None:
            raise ApiError(404, "not_found", "interview not found")
        return interview


def _accepts(interview: InterviewState, question_id: uuid.UUID) -> bool:
    return interview.status is InterviewStatus.IN_PROGRESS and question_id in interview.question_ids


def _raise_if_rejected(outcome: OutcomeRecorded) -> None:
    if outcome.outcome != "rejected":
        return
    reason = outcome.reason or "rejected"
    status, code, message = _REJECTIONS.get(reason, (409, reason, "The store rejected the change."))
    raise ApiError(status, code, message)
