"""Event contracts: a versioned envelope and one frozen model per event type.

Tolerant reader: unknown fields are ignored and new fields get defaults, so producers can add
fields without breaking consumers. A breaking change bumps `version` and adds an upcaster to
`UPCASTERS`, which `decode_event` applies before validation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from interview_shared import topics
from interview_shared.domain import (
    DEFAULT_ORG,
    ChatRole,
    Difficulty,
    InterviewStatus,
    QuestionType,
    Rubric,
    email_partition_key,
)
from interview_shared.reviews import HumanReview


def _now() -> datetime:
    return datetime.now(UTC)


class EventEnvelope(BaseModel):
    """Fields every event carries; `key` is the aggregate id used as the Kafka key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[topics.Topic]
    pii_fields: ClassVar[tuple[str, ...]] = ()
    """Fields with the data subject's personal data, sealed on the log (`interview_shared.pii`)."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    version: int = 1
    occurred_at: datetime = Field(default_factory=_now)
    correlation_id: str | None = None
    data_subject: uuid.UUID | None = None
    """The candidate whose personal data this event carries; its key seals `pii_fields`."""

    @property
    def key(self) -> str:
        """The partition key: the id of the aggregate this event belongs to."""
        return str(getattr(self, self.topic.key.value))


class CandidateRegistered(EventEnvelope):
    """A candidate was registered."""

    topic: ClassVar[topics.Topic] = topics.CANDIDATES
    pii_fields: ClassVar[tuple[str, ...]] = ("name", "email", "cv_path")
    type: Literal["candidate.registered"] = "candidate.registered"
    candidate_id: uuid.UUID
    name: str
    email: str
    cv_path: str | None = None
    org_id: str = DEFAULT_ORG
    """The organisation of the user who created it; everything under it belongs there too."""

    @property
    def key(self) -> str:
        """Keyed by the e-mail's identity: which of two registrations of one address wins must
        not depend on the order a rebuild reads the partitions in."""
        return email_partition_key(self.email)


class CvAnalyzed(EventEnvelope):
    """A candidate's CV was analysed: extracted skills and a summary."""

    topic: ClassVar[topics.Topic] = topics.CANDIDATES
    pii_fields: ClassVar[tuple[str, ...]] = ("skills", "summary")
    type: Literal["candidate.cv_analyzed"] = "candidate.cv_analyzed"
    analysis_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    candidate_id: uuid.UUID
    skills: dict[str, Any] = Field(default_factory=dict)
    summary: str = ""


class CandidateErased(EventEnvelope):
    """A candidate was erased (GDPR art. 17): their data key is destroyed, their record goes.

    Published after the key's tombstone, so by the time a store applies it nothing personal of
    the candidate can be read from the log any more; the store drops what it still holds.
    """

    topic: ClassVar[topics.Topic] = topics.CANDIDATES
    type: Literal["candidate.erased"] = "candidate.erased"
    candidate_id: uuid.UUID


class QuestionCreated(EventEnvelope):
    """A question, with its reference material and rubric, was added to the bank.

    Version 2 makes `rubric` required: rubrics now change, so the one a question starts with is
    stated in the log instead of implied by whatever `Rubric()` defaults to in the reading code.
    Version 1 events without one are read through `question_created_v1_to_v2`.
    """

    topic: ClassVar[topics.Topic] = topics.QUESTIONS
    type: Literal["question.created"] = "question.created"
    version: int = 2
    question_id: uuid.UUID
    text: str
    question_type: QuestionType = QuestionType.GENERAL
    difficulty: Difficulty = Difficulty.MEDIUM
    skills: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    reference_answer: str = ""
    key_points: tuple[str, ...] = ()
    rubric: Rubric
    org_id: str = DEFAULT_ORG
    """The organisation of the user who created it; everything under it belongs there too."""


class QuestionRubricChanged(EventEnvelope):
    """A question's rubric was replaced by a new version; new answers are judged with it.

    Evaluations made with older versions stay; an answer's current evaluation becomes the one
    for this version once a replay (or a new answer) has produced it.
    """

    topic: ClassVar[topics.Topic] = topics.QUESTIONS
    type: Literal["question.rubric_changed"] = "question.rubric_changed"
    question_id: uuid.UUID
    rubric: Rubric


class InterviewCreated(EventEnvelope):
    """An interview was scheduled for a candidate with an ordered list of questions."""

    topic: ClassVar[topics.Topic] = topics.INTERVIEWS
    type: Literal["interview.created"] = "interview.created"
    interview_id: uuid.UUID
    candidate_id: uuid.UUID
    title: str
    question_ids: tuple[uuid.UUID, ...]
    org_id: str = DEFAULT_ORG
    """The organisation of the user who created it; everything under it belongs there too."""


class InterviewStatusChanged(EventEnvelope):
    """An interview was asked to move to a new status (the store enforces the rule)."""

    topic: ClassVar[topics.Topic] = topics.INTERVIEWS
    type: Literal["interview.status_changed"] = "interview.status_changed"
    interview_id: uuid.UUID
    status: InterviewStatus


class QuestionSnapshot(BaseModel):
    """The question as it was when the answer was given: what an evaluation is judged against."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    question_id: uuid.UUID
    text: str
    reference_answer: str = ""
    key_points: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    rubric: Rubric = Rubric()


class AnswerSubmitted(EventEnvelope):
    """A candidate answered a question; carries the question snapshot so replays are exact."""

    topic: ClassVar[topics.Topic] = topics.ANSWERS
    pii_fields: ClassVar[tuple[str, ...]] = ("text",)
    type: Literal["answer.submitted"] = "answer.submitted"
    answer_id: uuid.UUID
    interview_id: uuid.UUID
    question_id: uuid.UUID
    text: str
    question: QuestionSnapshot
    chat_session_id: uuid.UUID | None = None
    """Set when the answer was given in a chat with the interviewer."""
    chat_message_ids: tuple[uuid.UUID, ...] = ()
    """The candidate's chat messages the answer is made of, in order."""
    audio_uri: str | None = None
    """For a spoken answer: the recording `text` was transcribed from."""


class AnswerAudioSubmitted(EventEnvelope):
    """A candidate answered by recording; the transcriber turns it into `answer.submitted`.

    Same answer id and key (the interview) as the answer it becomes, so the transcript is
    judged against the same question snapshot, in the interview's order.
    """

    topic: ClassVar[topics.Topic] = topics.ANSWERS
    pii_fields: ClassVar[tuple[str, ...]] = ("filename",)
    type: Literal["answer.audio_submitted"] = "answer.audio_submitted"
    answer_id: uuid.UUID
    interview_id: uuid.UUID
    question_id: uuid.UUID
    audio_uri: str
    content_type: str
    filename: str
    question: QuestionSnapshot


class CriterionResult(BaseModel):
    """One rubric criterion's score with its evidence."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    score: float = Field(ge=0, le=100)
    weight: float = Field(gt=0)
    rationale: str = ""
    evidence: tuple[str, ...] = ()


class Lineage(BaseModel):
    """Everything needed to know how a score was produced and to reproduce it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    scorer: str
    scorer_version: str
    model: str | None = None
    rubric_version: str
    prompt_hash: str | None = None
    evaluator_version: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class EvaluationUsage(BaseModel):
    """Tokens, latency and cost of one evaluation."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0


class AnswerEvaluated(EventEnvelope):
    """An answer was scored (or found unscorable). Evaluations are append-only.

    A person's grade is one too: scorer `human` in the lineage and `review` set (see
    `interview_shared.reviews`); it becomes the answer's current evaluation.
    """

    topic: ClassVar[topics.Topic] = topics.EVALUATIONS
    type: Literal["answer.evaluated"] = "answer.evaluated"
    evaluation_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    answer_id: uuid.UUID
    interview_id: uuid.UUID
    question_id: uuid.UUID
    outcome: Literal["SCORED", "UNSCORABLE"] = "SCORED"
    score: float | None = Field(default=None, ge=0, le=100)
    criteria: tuple[CriterionResult, ...] = ()
    feedback: str = ""
    unscorable_reason: str | None = None
    explanation: dict[str, Any] = Field(default_factory=dict)
    flags: tuple[str, ...] = ()
    confidence: float | None = Field(default=None, ge=0, le=1)
    """How far the score can be trusted (0-1); low or mid-band scores carry needs_human_review."""
    lineage: Lineage
    usage: EvaluationUsage = EvaluationUsage()
    review: HumanReview | None = None
    """Set on a human grade: who gave it and which flagged verdict it answers."""


class SkillScore(BaseModel):
    """The aggregate score of one skill across an interview."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    skill: str
    score: float = Field(ge=0, le=100)
    answers: int


class InterviewEvaluated(EventEnvelope):
    """The aggregate of a completed interview's evaluations."""

    topic: ClassVar[topics.Topic] = topics.EVALUATIONS
    type: Literal["interview.evaluated"] = "interview.evaluated"
    interview_id: uuid.UUID
    overall_score: float | None = Field(default=None, ge=0, le=100)
    skills: tuple[SkillScore, ...] = ()
    strengths: tuple[str, ...] = ()
    weaknesses: tuple[str, ...] = ()
    rubric_versions: tuple[str, ...] = ()
    evaluation_ids: tuple[uuid.UUID, ...] = ()


class ChatSessionStarted(EventEnvelope):
    """A chat session was opened, optionally about an interview."""

    topic: ClassVar[topics.Topic] = topics.CHAT_MESSAGES
    type: Literal["chat.session.started"] = "chat.session.started"
    chat_session_id: uuid.UUID
    interview_id: uuid.UUID | None = None
    org_id: str = DEFAULT_ORG
    """The organisation of the user who created it; everything under it belongs there too."""


class ChatMessagePosted(EventEnvelope):
    """The user wrote a message in a chat session."""

    topic: ClassVar[topics.Topic] = topics.CHAT_MESSAGES
    pii_fields: ClassVar[tuple[str, ...]] = ("content",)
    type: Literal["chat.message.posted"] = "chat.message.posted"
    chat_session_id: uuid.UUID
    message_id: uuid.UUID
    role: ChatRole = ChatRole.USER
    content: str


class ChatReplyDelta(EventEnvelope):
    """One streamed fragment of the assistant's reply."""

    topic: ClassVar[topics.Topic] = topics.CHAT_REPLIES
    type: Literal["chat.reply.delta"] = "chat.reply.delta"
    chat_session_id: uuid.UUID
    reply_id: uuid.UUID
    in_reply_to: uuid.UUID
    index: int = Field(ge=0)
    delta: str


class InterviewTurn(BaseModel):
    """Where the interviewer's conversation stands after a reply (the chat service's state).

    Carried on every completed reply, so the chat service rebuilds its sessions from the log.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    step: int = Field(default=0, ge=0)
    """How many replies moved the conversation; a fold keeps the highest step only."""
    phase: Literal["waiting", "asking", "closed"] = "waiting"
    question_index: int = Field(default=0, ge=0)
    """The open question's position in the interview (while `asking`)."""
    follow_ups: int = Field(default=0, ge=0)
    """Follow-ups asked on the open question."""
    pending_message_ids: tuple[uuid.UUID, ...] = ()
    """The candidate's messages that answer the open question so far."""


class ChatReplyCompleted(EventEnvelope):
    """The assistant finished its reply; carries the whole text, which the store persists."""

    topic: ClassVar[topics.Topic] = topics.CHAT_REPLIES
    type: Literal["chat.reply.completed"] = "chat.reply.completed"
    chat_session_id: uuid.UUID
    reply_id: uuid.UUID
    in_reply_to: uuid.UUID
    content: str
    deltas: int = Field(ge=0)
    turn: InterviewTurn | None = None
    """The conversation's state after this reply (None: a reply that changed nothing)."""
    cancelled: bool = False
    """The client went away and the generation was stopped; `content` is what was sent."""


class ChatReplyCancelled(EventEnvelope):
    """The client stopped waiting for the reply to a message: stop generating it."""

    topic: ClassVar[topics.Topic] = topics.CHAT_MESSAGES
    type: Literal["chat.reply.cancelled"] = "chat.reply.cancelled"
    chat_session_id: uuid.UUID
    message_id: uuid.UUID


class ChatSessionClosed(EventEnvelope):
    """A chat session was closed: the interviewer answers no more messages in it."""

    topic: ClassVar[topics.Topic] = topics.CHAT_MESSAGES
    type: Literal["chat.session.closed"] = "chat.session.closed"
    chat_session_id: uuid.UUID


class ReplayScope(BaseModel):
    """Which answers a replay re-scores; empty lists mean "any"."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    since: datetime | None = None
    until: datetime | None = None
    interview_ids: tuple[uuid.UUID, ...] = ()
    question_ids: tuple[uuid.UUID, ...] = ()
    candidate_ids: tuple[uuid.UUID, ...] = ()


class ReplayRequested(EventEnvelope):
    """Someone asked for answers to be re-scored from the log (the evaluator runs it)."""

    topic: ClassVar[topics.Topic] = topics.REPLAYS
    type: Literal["replay.requested"] = "replay.requested"
    replay_id: uuid.UUID
    scope: ReplayScope
    scorer: str | None = None
    """The scorer to use; a replay naming one the evaluator does not run fails."""
    model: str | None = None
    max_evaluations: int | None = Field(default=None, ge=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    dry_run: bool = False
    org_id: str = DEFAULT_ORG
    """The organisation of the admin who asked: only its answers are re-scored."""


ReplayState = Literal["running", "completed", "capped", "failed"]


class ReplayProgressed(EventEnvelope):
    """How far a replay has got; the last one (or `replay.finished`) is its state."""

    topic: ClassVar[topics.Topic] = topics.REPLAYS
    type: Literal["replay.progressed"] = "replay.progressed"
    replay_id: uuid.UUID
    status: ReplayState = "running"
    scanned: int = Field(default=0, ge=0)
    evaluated: int = Field(default=0, ge=0)
    skipped: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0)
    reason: str | None = None
    org_id: str = DEFAULT_ORG
    """The replay's organisation, copied from its request."""


class ReplayFinished(ReplayProgressed):
    """A replay ended: completed, capped by its budget, or failed (with a reason)."""

    type: Literal["replay.finished"] = "replay.finished"  # type: ignore[assignment]


class InterviewState(BaseModel):
    """An interview as the store holds it right after applying an event (for projections)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    interview_id: uuid.UUID
    candidate_id: uuid.UUID
    title: str
    question_ids: tuple[uuid.UUID, ...]
    status: InterviewStatus
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    org_id: str = DEFAULT_ORG


class OutcomeRecorded(EventEnvelope):
    """The store applied (or rejected, or had already applied) one command event.

    Published after the store's transaction commits and before its offsets are committed, so
    every event the store keeps has an outcome on the log (at least once). Writers wait on it
    for read-your-writes, SSE sends a frame once it is seen, and projections follow the state
    it carries instead of asking the store.
    """

    topic: ClassVar[topics.Topic] = topics.OUTCOMES
    type: Literal["store.outcome_recorded"] = "store.outcome_recorded"
    subject_event_id: uuid.UUID
    subject_type: str
    subject_key: str
    outcome: Literal["applied", "duplicate", "rejected"]
    reason: str | None = None
    interview: InterviewState | None = None
    """The interview after the event, for interview.created and interview.status_changed."""


Event = Annotated[
    CandidateRegistered
    | CvAnalyzed
    | CandidateErased
    | QuestionCreated
    | QuestionRubricChanged
    | InterviewCreated
    | InterviewStatusChanged
    | AnswerSubmitted
    | AnswerAudioSubmitted
    | AnswerEvaluated
    | InterviewEvaluated
    | ChatSessionStarted
    | ChatMessagePosted
    | ChatReplyDelta
    | ChatReplyCompleted
    | ChatReplyCancelled
    | ChatSessionClosed
    | ReplayRequested
    | ReplayProgressed
    | ReplayFinished
    | OutcomeRecorded,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

# (type, version) -> function turning that version's payload into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# The rubric a version-1 question.created without one was read with: spelled out here, not
# taken from `Rubric()`, so changing the default later cannot re-grade last year's questions.
V1_DEFAULT_RUBRIC: dict[str, Any] = {
    "version": "v1",
    "criteria": [
        {"name": "correctness", "description": "Agrees with the reference answer", "weight": 0.6},
        {"name": "completeness", "description": "Covers the key points", "weight": 0.4},
    ],
}


def question_created_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """question.created v1 -> v2: a missing rubric is the v1 default, stated."""
    return {"rubric": V1_DEFAULT_RUBRIC, **payload, "version": 2}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("question.created", 1): question_created_v1_to_v2,
}


def upcast(payload: dict[str, Any]) -> dict[str, Any]:
    """Apply upcasters until the payload is at a version the current model reads."""
    while (step := UPCASTERS.get((payload.get("type", ""), payload.get("version", 1)))) is not None:
        payload = step(payload)
    return payload


def decode_event(raw: bytes | str) -> Event:
    """Decode one Kafka message value into its event model (raises pydantic.ValidationError).

    Current-version events take the fast path (one validate_json); only a payload that fails it,
    or that decodes at a version with an upcaster, is parsed again and upcast first.
    """
    try:
        event = EVENT_ADAPTER.validate_json(raw)
    except ValidationError:
        payload = _json_object(raw)
        if payload is None or _upcaster_of(payload) is None:
            raise
        return EVENT_ADAPTER.validate_python(upcast(payload))
    if (event.type, event.version) in UPCASTERS:
        return EVENT_ADAPTER.validate_python(upcast(json.loads(raw)))
    return event


def _json_object(raw: bytes | str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _upcaster_of(payload: dict[str, Any]) -> Upcaster | None:
    return UPCASTERS.get((payload.get("type", ""), payload.get("version", 1)))


def encode_event(event: EventEnvelope) -> bytes:
    """Serialise an event as the JSON that goes on the wire."""
    return event.model_dump_json().encode()
