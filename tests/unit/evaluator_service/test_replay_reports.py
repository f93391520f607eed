"""After a replay, a reported interview's report is recomputed from the log's current scores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from interview_evaluator.replay_reports import ReportFold
from interview_shared.domain import Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    InterviewEvaluated,
    Lineage,
    QuestionSnapshot,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INTERVIEW = uuid.uuid4()
QUESTION = uuid.uuid4()


def answer(minute: int) -> AnswerSubmitted:
    snapshot = QuestionSnapshot(
        question_id=QUESTION, text="Q?", skills=("sql",), rubric=Rubric(version="v1")
    )
    return AnswerSubmitted(
        answer_id=uuid.uuid4(), interview_id=INTERVIEW, question_id=QUESTION, text="A.",
        question=snapshot, occurred_at=T0 + timedelta(minutes=minute),
    )  # fmt: skip


def verdict(of: AnswerSubmitted, score: float, rubric: str, minute: int) -> AnswerEvaluated:
    lineage = Lineage(scorer="offline", scorer_version="1", rubric_version=rubric,
                      evaluator_version="1")  # fmt: skip
    return AnswerEvaluated(
        answer_id=of.answer_id, interview_id=of.interview_id, question_id=of.question_id,
        score=score, lineage=lineage, occurred_at=T0 + timedelta(minutes=minute),
    )  # fmt: skip


def reported(*verdicts: AnswerEvaluated) -> InterviewEvaluated:
    return InterviewEvaluated(
        interview_id=INTERVIEW, overall_score=0.0,
        evaluation_ids=tuple(v.evaluation_id for v in verdicts), correlation_id="c-1",
    )  # fmt: skip


def test_a_reported_interview_follows_its_answer_rescored_under_the_active_rubric() -> None:
    first = answer(1)
    old = verdict(first, 20.0, "v1", 2)
    rescored = verdict(first, 90.0, "v2", 10)
    later_v1 = verdict(first, 10.0, "v1", 11)  # newer, but not under the active rubric
    fold = ReportFold([INTERVIEW], rubric_versions={QUESTION: "v2"})
    for event in (first, old, reported(old), rescored, later_v1):
        fold.observe(event)

    [report] = fold.reports()

    assert report.overall_score == 90.0
    assert report.evaluation_ids == (rescored.evaluation_id,)
    assert report.rubric_versions == ("v2",)
    assert report.correlation_id == "c-1"


def test_the_answer_the_last_report_counted_stays_counted() -> None:
    # A later answer to the same question that the store did not count (rejected, say) does not
    # replace the one the report was made from.
    counted, ignored = answer(1), answer(5)
    old = verdict(counted, 40.0, "v1", 2)
    fold = ReportFold([INTERVIEW], rubric_versions={QUESTION: "v2"})
    for event in (counted, old, ignored, verdict(ignored, 99.0, "v2", 6), reported(old)):
        fold.observe(event)
    rescored = verdict(counted, 60.0, "v2", 10)
    fold.observe(rescored)

    [report] = fold.reports()

    assert report.evaluation_ids == (rescored.evaluation_id,)


def test_an_unreported_or_unchanged_interview_gets_no_new_report() -> None:
    other = uuid.uuid4()
    first = answer(1)
    old = verdict(first, 20.0, "v1", 2)
    fold = ReportFold([INTERVIEW, other], rubric_versions={QUESTION: "v1"})
    for event in (first, old, reported(old)):
        fold.observe(event)

    assert fold.reports() == []
