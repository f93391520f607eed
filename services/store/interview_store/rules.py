"""The store's business rules, written once and run by both backends.

`plan_batch` decides, event by event and in batch order, what a batch does: which rows it adds,
which interviews change, and each event's outcome. It reads current state through `StateView`
and never writes, so the memory backend runs it against its dictionaries and the PostgreSQL
backend against a snapshot loaded (and row-locked) inside its transaction; each then writes the
resulting `Changes` its own way. Because the rules run in one place, the two backends cannot
disagree about an outcome.
"""

from __future__ import annotations

import math
import types
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Literal, NamedTuple, Protocol, TypeVar, Union, get_args, get_origin

from interview_shared import events as ev
from interview_shared.domain import ChatRole, InterviewStatus, Rubric, can_transition, email_key
from interview_shared.projections import (
    answer_fields,
    candidate_fields,
    chat_session_fields,
    evaluation_fields,
    interview_fields,
    question_fields,
    utc,
)
from interview_shared.reviews import rank_current
from pydantic import BaseModel

from interview_store.port import (
    Answer,
    ApplyResult,
    Candidate,
    ChatMessage,
    ChatSession,
    CvAnalysis,
    Evaluation,
    Interview,
    InterviewLogEntry,
    InterviewReport,
    Outcome,
    Question,
    Replay,
)


class Kind(StrEnum):
    """Row kinds whose ids must be unique."""

    CANDIDATE = "candidate"
    CV_ANALYSIS = "cv_analysis"
    QUESTION = "question"
    INTERVIEW = "interview"
    ANSWER = "answer"
    EVALUATION = "evaluation"
    CHAT_SESSION = "chat_session"
    CHAT_MESSAGE = "chat_message"


class StateView(Protocol):
    """Read access to committed state, as the planner needs it."""

    def outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        """The recorded outcome of an event already processed."""
        ...

    def exists(self, kind: Kind, row_id: uuid.UUID) -> bool:
        """Whether a row of this kind has this id."""
        ...

    def email_owner(self, email_key: str) -> uuid.UUID | None:
        """The candidate registered with this normalised e-mail, if any."""
        ...

    def interview(self, interview_id: uuid.UUID) -> Interview | None:
        """The interview's current state."""
        ...

    def last_sequence(self, session_id: uuid.UUID) -> int:
        """The highest message sequence in a chat session (0 when empty)."""
        ...


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """A stored answer (without its evaluation) and the question text it was given for."""

    answer: Answer
    question_text: str


class RubricChange(NamedTuple):
    """A question's new rubric and when it took effect."""

    rubric: Rubric
    at: datetime


class ReplayRow(NamedTuple):
    """A replay's state and when it was reported."""

    replay: Replay
    at: datetime


class Recorded(NamedTuple):
    """An outcome to persist for `event_outcome`."""

    result: ApplyResult
    event_type: str


@dataclass
class Changes:
    """Everything one batch writes, in batch order."""

    results: list[ApplyResult] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    cv_analyses: list[CvAnalysis] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    rubrics: dict[uuid.UUID, RubricChange] = field(default_factory=dict)
    """The last new rubric of every question the batch changes (applied after `questions`)."""
    interviews: dict[uuid.UUID, Interview] = field(default_factory=dict)
    """Final state of every interview the batch created or changed."""
    created_interviews: set[uuid.UUID] = field(default_factory=set)
    answers: list[AnswerRow] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    reports: dict[uuid.UUID, InterviewReport] = field(default_factory=dict)
    chat_sessions: list[ChatSession] = field(default_factory=list)
    chat_messages: list[ChatMessage] = field(default_factory=list)
    replays: dict[uuid.UUID, ReplayRow] = field(default_factory=dict)
    """The latest state of every replay the batch reports on (upserted)."""
    erased: list[uuid.UUID] = field(default_factory=list)
    """Candidates erased by the batch (written last: it also blanks what the batch wrote)."""
    claimed: dict[Kind, set[uuid.UUID]] = field(default_factory=lambda: {k: set() for k in Kind})
    """The new row ids the batch takes, by kind: the rows it inserts."""


def invalid_reason(value: object) -> str | None:
    """Why an event cannot be stored, if it holds a NUL byte or a non-finite number anywhere.

    PostgreSQL text and jsonb cannot hold NUL and JSON has no NaN, so both backends reject these
    events the same way instead of one of them crashing.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _storable(item):
                return "invalid_text"
        elif isinstance(item, _SCALARS):
            continue  # the common case: ids and timestamps
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "invalid_number"
        elif isinstance(item, BaseModel):
            stack.extend(item.__dict__.values())
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


_SCALARS = (uuid.UUID, datetime, int, type(None))


def _storable(text: str) -> bool:
    """No NUL and valid UTF-8 (a lone surrogate cannot be encoded, so asyncpg would fail)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def event_invalid_reason(event: BaseModel) -> str | None:
    """`invalid_reason(event)`, walking only the fields whose type can hold text or a float.

    A validated event's ids, timestamps, integers, enums and literals cannot hold a NUL byte or a
    NaN, so they are skipped; the rest is walked in the same order as `invalid_reason` walks the
    whole event (last field first), so the reason reported for an event with several problems is
    the same.
    """
    names = _CHECKED.get(type(event))
    if names is None:
        names = _CHECKED[type(event)] = _fields_to_check(type(event))
    values = event.__dict__
    for name in names:
        value = values[name]
        if isinstance(value, str):
            if not _storable(value):
                return "invalid_text"
        elif value is not None and (reason := invalid_reason(value)) is not None:
            return reason
    return None


_CHECKED: dict[type[BaseModel], tuple[str, ...]] = {}


def _fields_to_check(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` that may hold text or a float, last field first."""
    names = [name for name, info in model.model_fields.items() if not _inert(info.annotation)]
    return tuple(reversed(names))


def _inert(annotation: Any) -> bool:
    """Whether every value of this type is storable: no free text, no float."""
    origin = get_origin(annotation)
    if origin is Literal:
        return invalid_reason(get_args(annotation)) is None
    if origin in (Union, types.UnionType):
        return all(_inert(arg) for arg in get_args(annotation))
    if origin is tuple:
        return all(_inert(arg) for arg in get_args(annotation) if arg is not Ellipsis)
    if not isinstance(annotation, type) or origin is not None:
        return False
    if issubclass(annotation, Enum):
        return invalid_reason([member.value for member in annotation]) is None
    return issubclass(annotation, _SCALARS)


M = TypeVar("M", bound=BaseModel)


def trusted(model: type[M], values: dict[str, Any]) -> M:
    """A read model from values that are already valid and name every field.

    The same object `model.model_construct(**values)` builds, without its per-field alias and
    default handling, which cost more than the rest of planning an event. Only for values taken
    from validated events, from another read model, or from rows this store wrote. Read models
    are frozen, so instances of one model share one (never mutated) set of field names: one
    object less per row for the garbage collector to visit.
    """
    record = _new(model)
    _set(record, "__dict__", values)
    fields = _ALL_FIELDS.get(model)
    if fields is None or len(fields) != len(values):
        fields = _ALL_FIELDS[model] = set(model.model_fields)
        if fields != values.keys():
            raise TypeError(f"{model.__name__} needs exactly its fields: {sorted(fields)}")
    _set(record, "__pydantic_fields_set__", fields)
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", None)
    return record


_new = object.__new__
_set = object.__setattr__
_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}


class _Planner:
    """Runs the rules over one batch, keeping the batch's own effects as an overlay."""

    def __init__(self, view: StateView) -> None:
        self.view = view
        self.changes = Changes()
        self.seen: dict[uuid.UUID, ApplyResult] = {}
        self.new_ids = self.changes.claimed
        self.emails: dict[str, uuid.UUID] = {}
        self.sequences: dict[uuid.UUID, int] = {}
        self.handlers: dict[str, Callable[[Any], str | None]] = {
            "candidate.registered": self.candidate_registered,
            "candidate.cv_analyzed": self.cv_analyzed,
            "candidate.erased": self.candidate_erased,
            "question.created": self.question_created,
            "question.rubric_changed": self.rubric_changed,
            "interview.created": self.interview_created,
            "interview.status_changed": self.status_changed,
            "answer.submitted": self.answer_submitted,
            "answer.evaluated": self.answer_evaluated,
            "interview.evaluated": self.interview_evaluated,
            "chat.session.started": self.chat_session_started,
            "chat.message.posted": self.chat_message_posted,
            "chat.reply.completed": self.chat_reply_completed,
            "replay.requested": self.replay_reported,
            "replay.progressed": self.replay_reported,
            "replay.finished": self.replay_reported,
        }

    def run(self, batch: Sequence[ev.Event]) -> Changes:
        for event in batch:
            self.changes.results.append(self.one(event))
        return self.changes

    def one(self, event: ev.Event) -> ApplyResult:
        event_id = event.event_id
        if event.type in _LIVE_ONLY:
            # Deltas are for live streaming only; the completed reply carries the whole text.
            # Cancellations and closings are the chat service's business: nothing to keep.
            return _result(event_id, Outcome.APPLIED, None)
        previous = self.seen.get(event_id) or self.view.outcome(event_id)
        if previous is not None:
            return _result(event_id, Outcome.DUPLICATE, None)
        reason = event_invalid_reason(event) or self.handlers[event.type](event)
        result = _result(event_id, Outcome.APPLIED if reason is None else Outcome.REJECTED, reason)
        self.seen[event_id] = result
        self.changes.recorded.append(Recorded(result, event.type))
        return result

    def exists(self, kind: Kind, row_id: uuid.UUID) -> bool:
        return row_id in self.new_ids[kind] or self.view.exists(kind, row_id)

    def claim(self, kind: Kind, row_id: uuid.UUID) -> str | None:
        """Reserve a new row id, or say why it cannot be used."""
        new_ids = self.new_ids[kind]
        if row_id in new_ids or self.view.exists(kind, row_id):
            return "already_exists"
        new_ids.add(row_id)
        return None

    # The read models below are built with `trusted`: every value comes from a validated event.

    def candidate_registered(self, event: ev.CandidateRegistered) -> str | None:
        if self.exists(Kind.CANDIDATE, event.candidate_id):
            return "already_exists"
        key = email_key(event.email)
        if self.emails.get(key) is not None or self.view.email_owner(key) is not None:
            return "email_taken"
        self.claim(Kind.CANDIDATE, event.candidate_id)
        self.emails[key] = event.candidate_id
        self.changes.candidates.append(trusted(Candidate, candidate_fields(event)))
        return None

    def candidate_erased(self, event: ev.CandidateErased) -> str | None:
        # Applied whether or not the candidate is (still) here: erasing twice is erasing once.
        self.changes.erased.append(event.candidate_id)
        return None

    def cv_analyzed(self, event: ev.CvAnalyzed) -> str | None:
        if (reason := self.claim(Kind.CV_ANALYSIS, event.analysis_id)) is not None:
            return reason
        self.changes.cv_analyses.append(
            trusted(
                CvAnalysis,
                {
                    "id": event.analysis_id,
                    "candidate_id": event.candidate_id,
                    "skills": dict(event.skills),
                    "summary": event.summary,
                    "created_at": utc(event.occurred_at),
                },
            )
        )
        return None

    def question_created(self, event: ev.QuestionCreated) -> str | None:
        if (reason := self.claim(Kind.QUESTION, event.question_id)) is not None:
            return reason
        self.changes.questions.append(trusted(Question, question_fields(event)))
        return None

    def rubric_changed(self, event: ev.QuestionRubricChanged) -> str | None:
        # Same key as question.created, so on any replay the question exists by now.
        if not self.exists(Kind.QUESTION, event.question_id):
            return "question_not_found"
        self.changes.rubrics[event.question_id] = RubricChange(event.rubric, utc(event.occurred_at))
        return None

    def interview_created(self, event: ev.InterviewCreated) -> str | None:
        # Candidate and question ids are not checked: topics replay out of order on a rebuild.
        if (reason := self.claim(Kind.INTERVIEW, event.interview_id)) is not None:
            return reason
        self.changes.interviews[event.interview_id] = trusted(Interview, interview_fields(event))
        self.changes.created_interviews.add(event.interview_id)
        return None

    def status_changed(self, event: ev.InterviewStatusChanged) -> str | None:
        current = self.changes.interviews.get(event.interview_id) or self.view.interview(
            event.interview_id
        )
        if current is None:
            return "interview_not_found"
        if not can_transition(current.status, event.status):
            return "invalid_transition"
        self.changes.interviews[event.interview_id] = transition(
            current, event.status, utc(event.occurred_at)
        )
        return None

    def answer_submitted(self, event: ev.AnswerSubmitted) -> str | None:
        if (reason := self.claim(Kind.ANSWER, event.answer_id)) is not None:
            return reason
        answer = trusted(Answer, answer_fields(event))
        self.changes.answers.append(AnswerRow(answer, event.question.text))
        return None

    def answer_evaluated(self, event: ev.AnswerEvaluated) -> str | None:
        if (reason := self.claim(Kind.EVALUATION, event.evaluation_id)) is not None:
            return reason
        self.changes.evaluations.append(trusted(Evaluation, evaluation_fields(event)))
        return None

    def interview_evaluated(self, event: ev.InterviewEvaluated) -> str | None:
        # An upsert: a re-evaluation replaces the report (the evaluations keep the history).
        self.changes.reports[event.interview_id] = trusted(
            InterviewReport,
            {
                "interview_id": event.interview_id,
                "overall_score": event.overall_score,
                "skills": tuple(event.skills),
                "strengths": tuple(event.strengths),
                "weaknesses": tuple(event.weaknesses),
                "rubric_versions": tuple(event.rubric_versions),
                "created_at": utc(event.occurred_at),
            },
        )
        return None

    def replay_reported(
        self, event: ev.ReplayRequested | ev.ReplayProgressed | ev.ReplayFinished
    ) -> str | None:
        # Keyed by replay id, so a replay's events arrive in order: the last one is its state.
        counts = {"scanned": 0, "evaluated": 0, "skipped": 0, "cost_usd": 0.0}
        if not isinstance(event, ev.ReplayRequested):
            counts = {k: getattr(event, k) for k in counts}
        status = "running" if isinstance(event, ev.ReplayRequested) else event.status
        fields = {"id": event.replay_id, "status": status, "org_id": event.org_id, **counts}
        replay = trusted(Replay, fields)
        self.changes.replays[event.replay_id] = ReplayRow(replay, utc(event.occurred_at))
        return None

    def chat_session_started(self, event: ev.ChatSessionStarted) -> str | None:
        if (reason := self.claim(Kind.CHAT_SESSION, event.chat_session_id)) is not None:
            return reason
        self.changes.chat_sessions.append(trusted(ChatSession, chat_session_fields(event)))
        return None

    def chat_message_posted(self, event: ev.ChatMessagePosted) -> str | None:
        return self.add_message(event, event.message_id, event.role, event.content)

    def chat_reply_completed(self, event: ev.ChatReplyCompleted) -> str | None:
        return self.add_message(event, event.reply_id, ChatRole.ASSISTANT, event.content)

    def add_message(
        self,
        event: ev.ChatMessagePosted | ev.ChatReplyCompleted,
        message_id: uuid.UUID,
        role: ChatRole,
        content: str,
    ) -> str | None:
        if (reason := self.claim(Kind.CHAT_MESSAGE, message_id)) is not None:
            return reason
        session = event.chat_session_id
        sequence = self.sequences.get(session) or self.view.last_sequence(session)
        self.sequences[session] = sequence + 1
        self.changes.chat_messages.append(
            trusted(
                ChatMessage,
                {
                    "id": message_id,
                    "session_id": session,
                    "role": role,
                    "content": content,
                    "sequence": sequence + 1,
                    "created_at": utc(event.occurred_at),
                },
            )
        )
        return None


# A recording is kept by the blob store; its answer arrives as answer.submitted once transcribed.
_LIVE_ONLY = frozenset(
    {"chat.reply.delta", "chat.reply.cancelled", "chat.session.closed", "answer.audio_submitted"}
)


def _result(event_id: uuid.UUID, outcome: Outcome, reason: str | None) -> ApplyResult:
    return trusted(ApplyResult, {"event_id": event_id, "outcome": outcome, "reason": reason})


def plan_batch(view: StateView, batch: Sequence[ev.Event]) -> Changes:
    """Decide what a batch does against current state, without writing anything."""
    return _Planner(view).run(batch)


def transition(current: Interview, status: InterviewStatus, at: datetime) -> Interview:
    """The interview after a legal status change at `at`."""
    values = dict(current.__dict__)
    values["status"] = status
    values["updated_at"] = at
    if status is InterviewStatus.IN_PROGRESS:
        values["started_at"] = at
    elif status is InterviewStatus.COMPLETED:
        values["completed_at"] = at
    return trusted(Interview, values)


def newest_first(evaluation: Evaluation) -> tuple[datetime, uuid.UUID]:
    """Order key for "newest": the event time, ties broken by id, so replays agree."""
    return (evaluation.created_at, evaluation.id)


def current_evaluation(
    evaluations: Iterable[Evaluation], active_rubric: str | None
) -> Evaluation | None:
    """The newest human grade, else the newest evaluation for the active rubric version, else
    the newest overall (`reviews.rank_current`; the evaluator's report folds choose alike)."""
    return max(evaluations, key=lambda e: (_rank(e, active_rubric), *newest_first(e)), default=None)


def _rank(evaluation: Evaluation, active_rubric: str | None) -> int:
    lineage = evaluation.lineage
    return rank_current(
        scorer=lineage.scorer, rubric_version=lineage.rubric_version, active_rubric=active_rubric
    )


def with_evaluation(
    row: AnswerRow, evaluations: Iterable[Evaluation], active_rubric: str | None
) -> Answer:
    """The answer's read model with its current evaluation attached."""
    current = current_evaluation(evaluations, active_rubric)
    return row.answer.model_copy(update={"evaluation": current})


def latest_answer(rows: Iterable[AnswerRow]) -> AnswerRow | None:
    """The newest answer: the log shows the last attempt at a question."""
    return max(rows, key=lambda r: (r.answer.submitted_at, r.answer.id), default=None)


def build_log(
    interview: Interview,
    questions: Mapping[uuid.UUID, Question],
    latest: Mapping[uuid.UUID, Answer],
    question_texts: Mapping[uuid.UUID, str],
) -> list[InterviewLogEntry]:
    """One entry per question, in interview order (1-based), with its latest answer and score.

    The question text comes from the bank, or from the answer's snapshot when the question has not
    been consumed yet (topics replay out of order).
    """
    entries = []
    for position, question_id in enumerate(interview.question_ids, start=1):
        question = questions.get(question_id)
        answer = latest.get(question_id)
        text = question.text if question else question_texts.get(question_id, "")
        score = answer.evaluation.score if answer and answer.evaluation else None
        entries.append(
            InterviewLogEntry(
                position=position,
                question_id=question_id,
                question=text,
                answer_id=answer.id if answer else None,
                answer=answer.text if answer else None,
                score=score,
            )
        )
    return entries
