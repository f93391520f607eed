"""The gateway's write side: validate against the read side, publish, wait until applied.

Every write goes through Kafka; the gateway never writes to the database. Read-your-writes comes
from waiting for the store to report the event's outcome before answering, so a client that
reads right after a write sees it. The store is the authority on rules that need current state
(unique e-mail, status transitions): a rejection it reports becomes the client's 4xx.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from interview_shared.domain import InterviewStatus, can_transition
from interview_shared.events import (
    AnswerSubmitted,
    CandidateRegistered,
    ChatMessagePosted,
    ChatSessionStarted,
    CvAnalyzed,
    EventEnvelope,
    InterviewCreated,
    InterviewStatusChanged,
    QuestionCreated,
    QuestionSnapshot,
)
from interview_shared.http import ApiError
from interview_shared.messaging import EventPublisher
from interview_shared.read_client import ReadSide
from interview_shared.read_models import ApplyResult, Interview, Outcome, Question

from interview_api.schemas import (
    AnswerIn,
    CandidateIn,
    ChatMessageIn,
    ChatSessionIn,
    CvAnalysisIn,
    InterviewIn,
    QuestionIn,
)

# Store rejection reasons -> (HTTP status, stable error code, message).
_REJECTIONS: dict[str, tuple[int, str, str]] = {
    "email_taken": (409, "email_taken", "A candidate with this e-mail already exists."),
    "already_exists": (409, "already_exists", "A resource with this id already exists."),
    "invalid_transition": (409, "invalid_transition", "The interview cannot move to that status."),
    "interview_not_found": (404, "not_found", "interview not found"),
}


@dataclass(frozen=True, slots=True)
class Written:
    """A write's result: `applied` is False when the store had not applied it in time."""

    id: uuid.UUID
    event_id: uuid.UUID
    applied: bool


class Commands:
    """Use cases behind the POST and PATCH routes."""

    def __init__(self, *, read: ReadSide, publisher: EventPublisher, wait_s: float) -> None:
        self._read = read
        self._publisher = publisher
        self._wait_s = wait_s

    async def register_candidate(self, body: CandidateIn, correlation_id: str) -> Written:
        """Publish candidate.registered; 409 if the e-mail is taken."""
        if await self._read.get_candidate_by_email(body.email) is not None:
            raise ApiError(*_REJECTIONS["email_taken"])
        event = CandidateRegistered(
            candidate_id=uuid.uuid4(), correlation_id=correlation_id, **body.model_dump()
        )
        return await self._write(event, event.candidate_id)

    async def record_cv_analysis(
        self, candidate_id: uuid.UUID, body: CvAnalysisIn, correlation_id: str
    ) -> Written:
        """Publish candidate.cv_analyzed for an existing candidate."""
        if await self._read.get_candidate(candidate_id) is None:
            raise ApiError(404, "not_found", "candidate not found")
        event = CvAnalyzed(
            candidate_id=candidate_id, correlation_id=correlation_id, **body.model_dump()
        )
        return await self._write(event, event.analysis_id)

    async def create_question(self, body: QuestionIn, correlation_id: str) -> Written:
        """Publish question.created."""
        fields = body.model_dump(exclude={"type"})
        event = QuestionCreated(
            question_id=uuid.uuid4(),
            question_type=body.type,
            correlation_id=correlation_id,
            **fields,
        )
        return await self._write(event, event.question_id)

    async def create_interview(self, body: InterviewIn, correlation_id: str) -> Written:
        """Publish interview.created once the candidate and every question exist."""
        if await self._read.get_candidate(body.candidate_id) is None:
            raise ApiError(404, "candidate_not_found", "candidate not found")
        missing = [str(q) for q in body.question_ids if await self._read.get_question(q) is None]
        if missing:
            raise ApiError(
                404, "question_not_found", "questions not found", {"question_ids": missing}
            )
        if len(set(body.question_ids)) != len(body.question_ids):
            raise ApiError(422, "duplicate_questions", "question_ids must not repeat")
        event = InterviewCreated(
            interview_id=uuid.uuid4(),
            candidate_id=body.candidate_id,
            title=body.title,
            question_ids=tuple(body.question_ids),
            correlation_id=correlation_id,
        )
        return await self._write(event, event.interview_id)

    async def change_status(
        self, interview_id: uuid.UUID, status: InterviewStatus, correlation_id: str
    ) -> Written:
        """Publish interview.status_changed if the transition is legal now (the store re-checks)."""
        interview = await self._interview(interview_id)
        if not can_transition(interview.status, status):
            raise ApiError(
                409,
                "invalid_transition",
                f"An interview cannot move from {interview.status} to {status}.",
                {"from": interview.status, "to": status},
            )
        event = InterviewStatusChanged(
            interview_id=interview_id, status=status, correlation_id=correlation_id
        )
        return await self._write(event, interview_id)

    async def submit_answer(
        self, interview_id: uuid.UUID, body: AnswerIn, correlation_id: str
    ) -> Written:
        """Publish answer.submitted with the question snapshot it will be judged against."""
        interview = await self._interview(interview_id)
        if interview.status is not InterviewStatus.IN_PROGRESS:
            raise ApiError(
                409,
                "interview_not_in_progress",
                "Answers are accepted only while the interview is IN_PROGRESS"
                f" (it is {interview.status}).",
            )
        if body.question_id not in interview.question_ids:
            raise ApiError(
                422, "question_not_in_interview", "That question is not part of this interview."
            )
        question = await self._question(body.question_id)
        event = AnswerSubmitted(
            answer_id=uuid.uuid4(),
            interview_id=interview_id,
            question_id=body.question_id,
            text=body.text,
            question=_snapshot(question),
            correlation_id=correlation_id,
        )
        return await self._write(event, event.answer_id)

    async def start_chat(self, body: ChatSessionIn, correlation_id: str) -> Written:
        """Publish chat.session.started, about an interview if one is named."""
        if body.interview_id is not None:
            await self._interview(body.interview_id)
        event = ChatSessionStarted(
            chat_session_id=uuid.uuid4(),
            interview_id=body.interview_id,
            correlation_id=correlation_id,
        )
        return await self._write(event, event.chat_session_id)

    async def post_chat_message(
        self, session_id: uuid.UUID, body: ChatMessageIn, correlation_id: str
    ) -> ChatMessagePosted:
        """Publish chat.message.posted; the caller may wait for the streamed reply."""
        if await self._read.get_chat_session(session_id) is None:
            raise ApiError(404, "not_found", "chat session not found")
        event = ChatMessagePosted(
            chat_session_id=session_id,
            message_id=uuid.uuid4(),
            content=body.content,
            correlation_id=correlation_id,
        )
        await self._publisher.publish(event)
        return event

    async def _write(self, event: EventEnvelope, resource_id: uuid.UUID) -> Written:
        await self._publisher.publish(event)
        outcome = await self._read.event_outcome(event.event_id, wait_s=self._wait_s)
        _raise_if_rejected(outcome)
        return Written(id=resource_id, event_id=event.event_id, applied=outcome is not None)

    async def _interview(self, interview_id: uuid.UUID) -> Interview:
        interview = await self._read.get_interview(interview_id)
        if interview is None:
            raise ApiError(404, "not_found", "interview not found")
        return interview

    async def _question(self, question_id: uuid.UUID) -> Question:
        question = await self._read.get_question(question_id)
        if question is None:
            raise ApiError(404, "question_not_found", "question not found")
        return question


def _raise_if_rejected(outcome: ApplyResult | None) -> None:
    if outcome is None or outcome.outcome is not Outcome.REJECTED:
        return
    reason = outcome.reason or "rejected"
    status, code, message = _REJECTIONS.get(reason, (409, reason, "The store rejected the change."))
    raise ApiError(status, code, message)


def _snapshot(question: Question) -> QuestionSnapshot:
    return QuestionSnapshot(
        question_id=question.id,
        text=question.text,
        reference_answer=question.reference_answer,
        key_points=question.key_points,
        skills=question.skills,
        rubric=question.rubric,
    )
