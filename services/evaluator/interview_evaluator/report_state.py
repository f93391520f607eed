"""The evaluator's own view of open interviews, folded from the log, that decides when to report.

Fed in log order from three topics: `answer.submitted` (what was answered, with the question's
skills and rubric version), `answer.evaluated` and `interview.evaluated` (evaluations topic),
and the store's `store.outcome_recorded` (which answers it applied, and the interview's state
after a status change: a rejected transition never completes anything).

An interview is ready once it is COMPLETED and the newest applied answer to each question has
an evaluation; whichever of the two arrives last makes it ready. The store's outcomes of one
interview share a partition, so every answer it applied before the completion has its outcome
before the completion's: an answer still in flight on the answers topic keeps the interview
pending instead of being left out.

Memory: per interview not yet reported, its answers (ids, question, time, skills, rubric) and
their evaluations (ids, score, rubric, time): no texts. Once reported all of that is dropped and
only the interview id is remembered (16 bytes and a set slot, to ignore late events); a
CANCELLED interview is dropped the same way. Interviews left open (never completed nor
cancelled) keep their entries for the life of the process and are rebuilt on restart: the bound
is the log's retention, not a cap.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    Event,
    InterviewEvaluated,
    OutcomeRecorded,
)
from interview_shared.reviews import rank_current

from interview_evaluator.aggregate import CurrentScore, summarise
from interview_evaluator.ids import interview_evaluated_event_id


@dataclass(frozen=True, slots=True)
class _Answer:
    answer_id: uuid.UUID
    question_id: uuid.UUID
    submitted_at: datetime
    skills: tuple[str, ...]
    rubric_version: str


@dataclass(frozen=True, slots=True)
class _Evaluation:
    evaluation_id: uuid.UUID
    score: float | None
    rubric_version: str
    created_at: datetime
    scorer: str


@dataclass(slots=True)
class _Interview:
    answers: dict[uuid.UUID, _Answer] = field(default_factory=dict)
    """answer.submitted event id -> the answer (the store's outcomes name event ids)."""
    applied: set[uuid.UUID] = field(default_factory=set)
    """answer.submitted event ids the store applied."""
    evaluations: defaultdict[uuid.UUID, dict[uuid.UUID, _Evaluation]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    """answer id -> evaluation id -> evaluation (the first seen of an id wins, as in the store)."""
    completed_at: datetime | None = None
    correlation_id: str | None = None


class ReportBook:
    """Open interviews and which are reported; `observe` events, then ask `report`."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, _Interview] = {}
        self._reported: set[uuid.UUID] = set()
        self._completed: set[uuid.UUID] = set()

    @property
    def open_interviews(self) -> int:
        """Interviews whose details are held (the memory that grows)."""
        return len(self._open)

    @property
    def completed(self) -> frozenset[uuid.UUID]:
        """Interviews COMPLETED and not reported yet."""
        return frozenset(self._completed)

    def observe(self, event: Event) -> uuid.UUID | None:
        """Fold one event in; returns the interview it may have made ready, if any."""
        if isinstance(event, InterviewEvaluated):
            self.mark_reported(event.interview_id)
            return None
        if isinstance(event, AnswerSubmitted):
            iid = event.interview_id
            if (state := self._state(iid)) is not None:
                state.answers[event.event_id] = _answer(event)
            return iid
        if isinstance(event, AnswerEvaluated):
            iid = event.interview_id
            if (state := self._state(iid)) is not None:
                state.evaluations[event.answer_id].setdefault(
                    event.evaluation_id, _evaluation(event)
                )
            return iid
        if isinstance(event, OutcomeRecorded):
            return self._outcome(event)
        return None

    def mark_reported(self, interview_id: uuid.UUID) -> None:
        """The interview's report is on the log (or it was cancelled): forget its details and
        ignore what comes later."""
        self._reported.add(interview_id)
        self._open.pop(interview_id, None)
        self._completed.discard(interview_id)

    def report(
        self, interview_id: uuid.UUID, *, now: datetime, wait: timedelta
    ) -> InterviewEvaluated | None:
        """The report, if the interview is COMPLETED and every answer is evaluated, or if `wait`
        has passed since its completion (an answer dead-lettered is never evaluated)."""
        state = self._open.get(interview_id)
        if state is None or state.completed_at is None or interview_id in self._reported:
            return None
        if None in (answers := _latest_applied(state)):
            if now - state.completed_at < wait:
                return None  # an applied answer has not been read from the answers topic yet
        scores = [_current(state, a) for a in answers if a is not None]
        if any(s is None for s in scores) and now - state.completed_at < wait:
            return None
        current = [s for s in scores if s is not None]
        report = summarise(interview_id, current)
        newest = max((s.created_at for s in current), default=state.completed_at)
        return report.model_copy(
            update={
                "event_id": interview_evaluated_event_id(interview_id, report.evaluation_ids),
                "occurred_at": max(newest, state.completed_at),  # same report, same event
                "correlation_id": state.correlation_id,
            }
        )

    def _state(self, interview_id: uuid.UUID) -> _Interview | None:
        if interview_id in self._reported:
            return None
        return self._open.setdefault(interview_id, _Interview())

    def _outcome(self, event: OutcomeRecorded) -> uuid.UUID | None:
        try:
            iid = uuid.UUID(event.subject_key)
        except ValueError:
            return None  # not an interview's event
        if event.subject_type == "answer.submitted":
            # `duplicate`: the store applied it before and crashed before announcing it (the
            # redelivered batch announces it again as a duplicate).
            if event.outcome != "rejected" and (state := self._state(iid)) is not None:
                state.applied.add(event.subject_event_id)
            return iid
        # The state the store carries is what counts, whatever the outcome: a completion applied
        # and announced after a crash comes back as `duplicate`, still COMPLETED.
        interview = event.interview
        if event.subject_type != "interview.status_changed" or interview is None:
            return None
        if interview.status is InterviewStatus.CANCELLED:
            self.mark_reported(iid)  # never reported: its details need not be kept
            return None
        if interview.status is not InterviewStatus.COMPLETED or (state := self._state(iid)) is None:
            return None
        state.completed_at = interview.completed_at or interview.updated_at
        state.correlation_id = event.correlation_id
        self._completed.add(iid)
        return iid


def _answer(event: AnswerSubmitted) -> _Answer:
    return _Answer(
        answer_id=event.answer_id,
        question_id=event.question_id,
        submitted_at=event.occurred_at,
        skills=event.question.skills,
        rubric_version=event.question.rubric.version,
    )


def _evaluation(event: AnswerEvaluated) -> _Evaluation:
    return _Evaluation(
        evaluation_id=event.evaluation_id,
        score=event.score,
        rubric_version=event.lineage.rubric_version,
        created_at=event.occurred_at,
        scorer=event.lineage.scorer,
    )


def _latest_applied(state: _Interview) -> list[_Answer | None]:
    """The newest applied answer per question (as the store's log shows it); None for an applied
    answer whose `answer.submitted` has not been read yet."""
    missing: list[_Answer | None] = []
    newest: dict[uuid.UUID, _Answer] = {}
    for event_id in state.applied:
        answer = state.answers.get(event_id)
        if answer is None:
            missing.append(None)
            continue
        held = newest.get(answer.question_id)
        if held is None or (held.submitted_at, str(held.answer_id)) < (
            answer.submitted_at,
            str(answer.answer_id),
        ):
            newest[answer.question_id] = answer
    return [*newest.values(), *missing]


def _current(state: _Interview, answer: _Answer) -> CurrentScore | None:
    """The answer's current evaluation, chosen as the store does (`rules.current_evaluation`):
    the newest human grade, else the newest under the question's rubric version, else the
    newest overall. An open interview's answers were judged with the rubric their snapshot
    names (a rubric change reaches reported interviews through a replay's recompute)."""
    chosen = max(
        state.evaluations.get(answer.answer_id, {}).values(),
        key=lambda e: (
            rank_current(
                scorer=e.scorer,
                rubric_version=e.rubric_version,
                active_rubric=answer.rubric_version,
            ),
            e.created_at,
            e.evaluation_id,
        ),
        default=None,
    )
    if chosen is None:
        return None
    return CurrentScore(
        evaluation_id=chosen.evaluation_id,
        score=chosen.score,
        rubric_version=chosen.rubric_version,
        skills=answer.skills,
        created_at=chosen.created_at,
    )
