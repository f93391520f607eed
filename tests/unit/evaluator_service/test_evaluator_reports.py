"""The interview report folded from the log: when it is ready, what it says, and its id."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from interview_evaluator.ids import interview_evaluated_event_id
from interview_evaluator.report_state import ReportBook
from interview_evaluator.reports import MemoryLogTail, ReportFollower
from interview_shared.domain import InterviewStatus, Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    Event,
    InterviewEvaluated,
    InterviewState,
    Lineage,
    OutcomeRecorded,
    QuestionSnapshot,
    decode_event,
)
from interview_shared.messaging import EventPublisher
from support import event_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WAIT = timedelta(seconds=30)


@dataclass
class Interview:
    """Builds the events of one interview as the gateway, evaluator and store would."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    clock: int = 0

    def at(self) -> datetime:
        self.clock += 1
        return T0 + timedelta(seconds=self.clock)

    def answer(
        self, *skills: str, question_id: uuid.UUID | None = None, rubric: str = "v1"
    ) -> AnswerSubmitted:
        qid = question_id or uuid.uuid4()
        return AnswerSubmitted(
            answer_id=uuid.uuid4(),
            interview_id=self.id,
            question_id=qid,
            text="...",
            question=QuestionSnapshot(
                question_id=qid, text="Q?", skills=skills, rubric=Rubric(version=rubric)
            ),
            occurred_at=self.at(),
        )

    def applied(self, answer: AnswerSubmitted) -> OutcomeRecorded:
        return self._outcome(answer.event_id, "answer.submitted", "applied")

    def evaluated(
        self, answer: AnswerSubmitted, score: float | None, *, rubric: str | None = None
    ) -> AnswerEvaluated:
        return AnswerEvaluated(
            answer_id=answer.answer_id,
            interview_id=self.id,
            question_id=answer.question_id,
            outcome="SCORED" if score is not None else "UNSCORABLE",
            score=score,
            lineage=Lineage(
                scorer="offline",
                scorer_version="1",
                rubric_version=rubric or answer.question.rubric.version,
                evaluator_version="0",
            ),
            occurred_at=self.at(),
        )

    def completed(
        self, outcome: str = "applied", *, status: InterviewStatus = InterviewStatus.COMPLETED
    ) -> OutcomeRecorded:
        at = self.at()
        state = InterviewState(
            interview_id=self.id,
            candidate_id=uuid.uuid4(),
            title="t",
            question_ids=(),
            status=status if outcome == "applied" else InterviewStatus.READY,
            created_at=T0,
            updated_at=at,
            completed_at=at if outcome == "applied" else None,
        )
        return self._outcome(
            uuid.uuid4(), "interview.status_changed", outcome, interview=state, correlation="c-1"
        )

    def _outcome(
        self,
        subject: uuid.UUID,
        subject_type: str,
        outcome: Any,
        *,
        interview: InterviewState | None = None,
        correlation: str | None = None,
    ) -> OutcomeRecorded:
        return OutcomeRecorded(
            subject_event_id=subject,
            subject_type=subject_type,
            subject_key=str(self.id),
            outcome=outcome,
            interview=interview,
            correlation_id=correlation,
        )


def fold(book: ReportBook, *events: Event) -> None:
    for event in events:
        book.observe(event)


def report_of(book: ReportBook, interview: Interview, *, late: bool = False) -> Any:
    now = T0 + timedelta(seconds=interview.clock) + (WAIT if late else timedelta())
    return book.report(interview.id, now=now, wait=WAIT)


def answered(interview: Interview, *skills: str) -> tuple[AnswerSubmitted, OutcomeRecorded]:
    answer = interview.answer(*skills)
    return answer, interview.applied(answer)


# ---- readiness -----------------------------------------------------------------------------


@pytest.mark.parametrize("completion_first", [True, False])
def test_the_report_is_ready_when_the_last_of_completion_and_scores_arrives(
    completion_first: bool,
) -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    b, b_ok = answered(iv, "go")
    fold(book, a, a_ok, b, b_ok, iv.evaluated(a, 80.0))
    last: list[Event] = [iv.completed(), iv.evaluated(b, 40.0)]
    if not completion_first:
        last.reverse()

    book.observe(last[0])
    assert report_of(book, iv) is None
    book.observe(last[1])

    report = report_of(book, iv)
    assert report is not None
    assert report.overall_score == 60.0
    assert report.correlation_id == "c-1"


def test_a_rejected_completion_completes_nothing() -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv)
    fold(book, a, a_ok, iv.evaluated(a, 80.0), iv.completed("rejected"))

    assert report_of(book, iv, late=True) is None


def test_outcomes_announced_again_after_a_store_crash_count_as_applied() -> None:
    # The store committed, crashed before announcing, and announces the redelivery `duplicate`.
    book, iv = ReportBook(), Interview()
    a = iv.answer("sql")
    again = iv.applied(a).model_copy(update={"outcome": "duplicate"})
    completion = iv.completed().model_copy(update={"outcome": "duplicate"})
    fold(book, a, again, iv.evaluated(a, 80.0), completion)

    assert report_of(book, iv).overall_score == 80.0


def test_an_applied_answer_not_yet_read_keeps_the_interview_pending() -> None:
    # The store's outcomes of one interview are ordered; the answers topic is another topic and
    # may be read later: the answer must not be left out of the report.
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    b, b_ok = answered(iv, "go")
    fold(book, a, a_ok, iv.evaluated(a, 80.0), b_ok, iv.completed())
    assert report_of(book, iv) is None

    fold(book, b, iv.evaluated(b, 20.0))

    assert report_of(book, iv).overall_score == 50.0


def test_a_cancelled_interview_is_forgotten() -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv)
    fold(book, a, a_ok, iv.evaluated(a, 80.0), iv.completed(status=InterviewStatus.CANCELLED))
    fold(book, iv.completed())  # a later COMPLETED (not a legal transition) reports nothing

    assert report_of(book, iv, late=True) is None
    assert book.open_interviews == 0


def test_an_answer_the_store_did_not_apply_does_not_count() -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    stray = iv.answer("go")  # no applied outcome: rejected, or never reached the store
    fold(book, a, a_ok, stray, iv.evaluated(a, 70.0), iv.completed())

    assert [s.skill for s in report_of(book, iv).skills] == ["sql"]


def test_after_the_wait_the_report_goes_out_with_the_scores_there_are() -> None:
    # A dead-lettered answer is never scored; the interview is reported all the same.
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    b, b_ok = answered(iv, "go")
    fold(book, a, a_ok, b, b_ok, iv.evaluated(a, 90.0), iv.completed())

    assert report_of(book, iv) is None
    assert report_of(book, iv, late=True).overall_score == 90.0


def test_a_reported_interview_is_forgotten_and_not_reported_again() -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv)
    fold(book, a, a_ok, iv.evaluated(a, 50.0), iv.completed())
    report = report_of(book, iv)

    book.observe(report)  # read back from the evaluations topic (or another replica's)
    book.observe(iv.evaluated(a, 10.0, rubric="v2"))

    assert report_of(book, iv, late=True) is None
    assert iv.id not in book.completed
    assert book.open_interviews == 0  # only the id is kept


# ---- content -------------------------------------------------------------------------------


def test_averages_per_skill_and_overall_with_thresholds() -> None:
    book, iv = ReportBook(), Interview()
    scored = [("sql", "python", 80.0), ("python", 40.0), ("go", 30.0), (70.0,)]
    for *skills, score in scored:
        answer, applied = answered(iv, *(str(s) for s in skills))
        fold(book, answer, applied, iv.evaluated(answer, float(score)))
    book.observe(iv.completed())

    report = report_of(book, iv)

    assert report.overall_score == 55.0
    assert [(s.skill, s.score, s.answers) for s in report.skills] == [
        ("general", 70.0, 1),
        ("go", 30.0, 1),
        ("python", 60.0, 2),
        ("sql", 80.0, 1),
    ]
    assert report.strengths == ("general", "sql")  # >= 70
    assert report.weaknesses == ("go",)  # < 50


@pytest.mark.parametrize(
    ("score", "strong", "weak"),
    [(70.0, True, False), (69.99, False, False), (50.0, False, False), (49.99, False, True)],
)
def test_strength_and_weakness_thresholds(score: float, strong: bool, weak: bool) -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    fold(book, a, a_ok, iv.evaluated(a, score), iv.completed())

    report = report_of(book, iv)

    assert (report.strengths == ("sql",)) is strong
    assert (report.weaknesses == ("sql",)) is weak


def test_unscorable_answers_count_in_no_average() -> None:
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    b, b_ok = answered(iv, "sql")
    fold(book, a, a_ok, b, b_ok, iv.evaluated(a, 90.0), iv.evaluated(b, None), iv.completed())

    report = report_of(book, iv)

    assert report.overall_score == 90.0
    assert [(s.skill, s.answers) for s in report.skills] == [("sql", 1)]
    assert len(report.evaluation_ids) == 1


def test_the_newest_answer_to_a_question_is_the_one_that_counts() -> None:
    book, iv, question = ReportBook(), Interview(), uuid.uuid4()
    old = iv.answer("sql", question_id=question)
    new = iv.answer("sql", question_id=question)
    fold(book, old, iv.applied(old), new, iv.applied(new))
    fold(book, iv.evaluated(new, 95.0), iv.evaluated(old, 10.0), iv.completed())

    assert report_of(book, iv).overall_score == 95.0


def test_the_evaluation_under_the_questions_rubric_is_current() -> None:
    # As the store's `current_evaluation`: a re-score under another rubric does not replace it.
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv, "sql")
    live = iv.evaluated(a, 60.0)
    fold(book, a, a_ok, live, iv.evaluated(a, 99.0, rubric="v9"), iv.completed())

    report = report_of(book, iv)

    assert report.overall_score == 60.0
    assert report.evaluation_ids == (live.evaluation_id,)


def test_a_repeated_evaluation_id_keeps_the_first_verdict() -> None:
    # The store keeps the first row of an evaluation id; a re-judged redelivery may differ.
    book, iv = ReportBook(), Interview()
    a, a_ok = answered(iv)
    first = iv.evaluated(a, 60.0)
    again = first.model_copy(update={"score": 10.0, "occurred_at": iv.at()})
    fold(book, a, a_ok, first, again, iv.completed())

    assert report_of(book, iv).overall_score == 60.0


def test_an_interview_without_scores_has_no_overall_score() -> None:
    book, iv = ReportBook(), Interview()
    book.observe(iv.completed())

    report = report_of(book, iv)

    assert report.overall_score is None
    assert report.skills == report.strengths == report.weaknesses == ()


def test_the_same_log_gives_the_same_report_event() -> None:
    iv = Interview()
    a, a_ok = answered(iv, "sql")
    events: list[Event] = [a, a_ok, iv.evaluated(a, 75.0), iv.completed()]
    reports = []
    for _ in range(2):  # two replicas, or one after a restart
        book = ReportBook()
        fold(book, *events)
        reports.append(report_of(book, iv))

    assert reports[0] == reports[1]
    assert reports[0].event_id == interview_evaluated_event_id(iv.id, reports[0].evaluation_ids)


# ---- the follower over an in-memory log ----------------------------------------------------


@dataclass
class Published:
    events: list[Event] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def publish(self, message: Any, topic: str = "", **_: Any) -> None:
        self.events.append(decode_event(message))
        self.arrived.set()


async def test_the_follower_publishes_only_after_catching_up_and_only_what_is_missing() -> None:
    done, pending = Interview(), Interview()
    log: list[Event] = []
    for iv in (done, pending):
        a, a_ok = answered(iv)
        log += [a, a_ok, iv.evaluated(a, 50.0), iv.completed()]
    book = ReportBook()
    fold(book, *log)
    log.append(report_of(book, done))  # `done` was reported before the restart
    tail = MemoryLogTail([event_record(e, offset=i) for i, e in enumerate(log)])
    published = Published()
    follower = ReportFollower(
        tail=lambda: tail, publisher=EventPublisher(published), wait_s=WAIT.total_seconds()
    )

    task = asyncio.create_task(follower.run())
    try:
        await asyncio.wait_for(published.arrived.wait(), 5)
        await asyncio.sleep(0.2)  # a second report, if one were wrongly due, would be out by now
    finally:
        task.cancel()

    assert follower.caught_up
    assert [(type(e), e.interview_id) for e in published.events] == [  # type: ignore[union-attr]
        (InterviewEvaluated, pending.id)
    ]
