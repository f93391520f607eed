"""Reports recomputed after a replay, from the log alone.

The live report follower reports an interview once and then forgets it, so a replay that gives
a reported interview new evaluations publishes the interview's new report itself. Everything
needed is on topics kept forever: the answers topic (what was answered, with the question's
skills) and the evaluations topic (every verdict, and every report with the evaluation ids it
counted). The store's outcomes are kept a day only, so they are not used: the answers a report
counts are the ones the last report counted, per question, else the question's newest answer.

Only interviews that already have a report are recomputed: one not reported yet is still open
or pending, and the live follower reports it with whatever evaluations it has by then. The new
report goes to the evaluations topic under the interview's key, after the verdicts it counts,
so the store applies the verdicts first; its event id is derived from the evaluation ids, so
recomputing the same report twice is one event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from interview_shared import topics
from interview_shared.events import AnswerEvaluated, AnswerSubmitted, Event, InterviewEvaluated
from interview_shared.reviews import rank_current

from interview_evaluator.aggregate import CurrentScore, summarise
from interview_evaluator.ids import interview_evaluated_event_id
from interview_evaluator.replay import log_events


@dataclass
class _Interview:
    answers: dict[uuid.UUID, AnswerSubmitted] = field(default_factory=dict)
    evaluations: dict[uuid.UUID, dict[uuid.UUID, AnswerEvaluated]] = field(default_factory=dict)
    """answer id -> evaluation id -> verdict (the first seen of an id wins, as in the store)."""
    reported: InterviewEvaluated | None = None
    """The newest report on the log."""


class ReportFold:
    """Folds the answers and evaluations of some interviews; then `reports` gives new reports."""

    def __init__(
        self, interview_ids: Iterable[uuid.UUID], *, rubric_versions: Mapping[uuid.UUID, str]
    ) -> None:
        self._interviews = {interview_id: _Interview() for interview_id in interview_ids}
        self._rubric_versions = rubric_versions
        """Each question's active rubric version: the store's current evaluation is under it."""

    def observe(self, event: Event) -> None:
        """Fold one event of the answers or evaluations topic in (others are ignored)."""
        if not isinstance(event, AnswerSubmitted | AnswerEvaluated | InterviewEvaluated):
            return
        if (state := self._interviews.get(event.interview_id)) is None:
            return
        if isinstance(event, AnswerSubmitted):
            state.answers.setdefault(event.answer_id, event)
        elif isinstance(event, AnswerEvaluated):
            state.evaluations.setdefault(event.answer_id, {}).setdefault(event.evaluation_id, event)
        elif isinstance(event, InterviewEvaluated):
            state.reported = event  # log order: the last one is the current report

    def reports(self) -> list[InterviewEvaluated]:
        """A report for each reported interview whose current evaluations have changed."""
        new = [
            self._report(interview_id, state) for interview_id, state in self._interviews.items()
        ]
        return [report for report in new if report is not None]

    def _report(self, interview_id: uuid.UUID, state: _Interview) -> InterviewEvaluated | None:
        if state.reported is None:
            return None
        scores = [self._current(state, answer) for answer in self._counted(state)]
        report = summarise(interview_id, [s for s in scores if s is not None])
        if set(report.evaluation_ids) == set(state.reported.evaluation_ids):
            return None
        return report.model_copy(
            update={
                "event_id": interview_evaluated_event_id(interview_id, report.evaluation_ids),
                "correlation_id": state.reported.correlation_id,
            }
        )

    def _counted(self, state: _Interview) -> list[AnswerSubmitted]:
        """Per question, the answer the last report counted, else the newest answer."""
        assert state.reported is not None
        in_report = set(state.reported.evaluation_ids)
        by_question: dict[uuid.UUID, list[AnswerSubmitted]] = {}
        for answer in state.answers.values():
            by_question.setdefault(answer.question_id, []).append(answer)
        chosen = []
        for answers in by_question.values():
            counted = [
                a
                for a in answers
                if not in_report.isdisjoint(state.evaluations.get(a.answer_id, {}))
            ]
            chosen.append(max(counted or answers, key=lambda a: (a.occurred_at, a.answer_id)))
        return chosen

    def _current(self, state: _Interview, answer: AnswerSubmitted) -> CurrentScore | None:
        """The newest human grade, else the newest evaluation under the question's active
        rubric, else the newest overall (as the store's `rules.current_evaluation` chooses)."""
        active = self._rubric_versions.get(answer.question_id, answer.question.rubric.version)
        chosen = max(
            state.evaluations.get(answer.answer_id, {}).values(),
            key=lambda v: (
                rank_current(
                    scorer=v.lineage.scorer,
                    rubric_version=v.lineage.rubric_version,
                    active_rubric=active,
                ),
                v.occurred_at,
                v.evaluation_id,
            ),
            default=None,
        )
        if chosen is None:
            return None
        return CurrentScore(
            evaluation_id=chosen.evaluation_id,
            score=chosen.score,
            rubric_version=chosen.lineage.rubric_version,
            skills=answer.question.skills,
            created_at=chosen.occurred_at,
        )

    def answer(self, interview_id: uuid.UUID, answer_id: uuid.UUID) -> AnswerSubmitted | None:
        """An answer folded in (for its text and question), if it was on the log."""
        state = self._interviews.get(interview_id)
        return None if state is None else state.answers.get(answer_id)


async def recomputed_reports(
    bootstrap: str,
    interview_ids: Iterable[uuid.UUID],
    *,
    rubric_versions: Mapping[uuid.UUID, str],
) -> list[InterviewEvaluated]:
    """The new reports of `interview_ids`, read from the whole answers and evaluations topics
    (an interview's answers may be older than the replay's window)."""
    fold = await folded(bootstrap, interview_ids, rubric_versions=rubric_versions)
    return fold.reports()


async def folded(
    bootstrap: str,
    interview_ids: Iterable[uuid.UUID],
    *,
    rubric_versions: Mapping[uuid.UUID, str],
) -> ReportFold:
    """A `ReportFold` of `interview_ids` over the whole answers and evaluations topics."""
    fold = ReportFold(interview_ids, rubric_versions=rubric_versions)
    for topic in (topics.ANSWERS, topics.EVALUATIONS):
        async for event in log_events(bootstrap, topic):
            fold.observe(event)
    return fold
