"""A person's grade: current in every report fold, re-reports a reported interview, feeds the
judge's examples."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from interview_evaluator.examples import MemoryExampleBank
from interview_evaluator.replay_reports import ReportFold
from interview_evaluator.report_state import ReportBook
from interview_evaluator.review_reports import ReviewFollowUp
from interview_evaluator.scoring import ScoringRequest
from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    AnswerEvaluated,
    Event,
    InterviewEvaluated,
    InterviewState,
    Lineage,
    OutcomeRecorded,
)
from interview_shared.reviews import HumanReview
from test_replay_reports import INTERVIEW, QUESTION, T0, answer, reported, verdict


def grade(of: AnswerEvaluated, score: float, minute: int) -> AnswerEvaluated:
    return AnswerEvaluated(
        answer_id=of.answer_id, interview_id=of.interview_id, question_id=of.question_id,
        score=score, occurred_at=T0 + timedelta(minutes=minute),
        lineage=Lineage(scorer="human", scorer_version="1",
                        rubric_version=of.lineage.rubric_version, evaluator_version="api"),
        review=HumanReview(reviewed_evaluation_id=of.evaluation_id, reviewer="admin"),
    )  # fmt: skip


def test_a_grade_is_current_over_a_newer_verdict_under_the_active_rubric() -> None:
    first = answer(1)
    old = verdict(first, 20.0, "v1", 2)
    by_hand = grade(old, 75.0, 3)
    rescored = verdict(first, 90.0, "v2", 10)
    fold = ReportFold([INTERVIEW], rubric_versions={QUESTION: "v2"})
    for event in (first, old, reported(old), by_hand, rescored):
        fold.observe(event)

    [report] = fold.reports()

    assert (report.overall_score, report.evaluation_ids) == (75.0, (by_hand.evaluation_id,))


def test_the_live_book_reports_an_open_interview_with_its_grade() -> None:
    first = answer(1)
    machine = verdict(first, 40.0, "v1", 2)
    book = ReportBook()
    done = InterviewState(
        interview_id=INTERVIEW, candidate_id=uuid.uuid4(), title="t", question_ids=(QUESTION,),
        status=InterviewStatus.COMPLETED, created_at=T0, updated_at=T0, completed_at=T0,
    )  # fmt: skip
    events: list[Event] = [
        first,
        OutcomeRecorded(subject_event_id=first.event_id, subject_type="answer.submitted",
                        subject_key=str(INTERVIEW), outcome="applied"),
        machine,
        grade(machine, 66.0, 3),
        verdict(first, 10.0, "v1", 9),  # a later machine verdict does not win over the person
        OutcomeRecorded(subject_event_id=uuid.uuid4(), subject_type="interview.status_changed",
                        subject_key=str(INTERVIEW), outcome="applied", interview=done),
    ]  # fmt: skip
    for event in events:
        book.observe(event)

    report = book.report(INTERVIEW, now=T0, wait=timedelta(seconds=5))

    assert report is not None
    assert report.overall_score == 66.0


class FakeLog:
    """The fold `ReviewFollowUp` reads, over events held here."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.folds = 0

    async def fold(self, ids: Iterable[uuid.UUID], versions: Mapping[uuid.UUID, str]) -> ReportFold:
        self.folds += 1
        fold = ReportFold(ids, rubric_versions=versions)
        for event in self.events:
            fold.observe(event)
        return fold

    async def rubrics(self) -> Mapping[uuid.UUID, str]:
        return {QUESTION: "v1"}


class Published:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish_many(self, events: Iterable[Any]) -> None:
        self.events.extend(events)


async def test_a_grade_of_a_reported_interview_publishes_its_new_report_once() -> None:
    first = answer(1)
    machine = verdict(first, 40.0, "v1", 2)
    by_hand = grade(machine, 90.0, 5)
    log, out = FakeLog(), Published()
    bank = MemoryExampleBank()
    follow_up = ReviewFollowUp(
        publisher=out,  # type: ignore[arg-type]
        fold=log.fold,
        rubrics=log.rubrics,
        bank=bank,
    )
    log.events = [first, machine, reported(machine), by_hand]
    for event in log.events:
        follow_up.observe(event)
    assert follow_up.due

    await follow_up.run()

    [report] = out.events
    assert isinstance(report, InterviewEvaluated)
    assert (report.overall_score, report.evaluation_ids) == (90.0, (by_hand.evaluation_id,))
    assert not follow_up.due
    # The new report on the log settles the grade: a restart's catch-up does not report again.
    restarted = ReviewFollowUp(publisher=out, fold=log.fold, rubrics=log.rubrics)
    for event in [*log.events, report]:
        restarted.observe(event)
    assert not restarted.due
    request = ScoringRequest(answer_id=str(uuid.uuid4()), question="Q?", answer="B.")
    [example] = bank.select(request, k=3)
    assert (example.answer, example.score, example.source) == ("A.", 90.0, "review")
