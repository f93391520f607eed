"""Human grades on the log: a new report for an interview already reported, and judge examples.

The live report follower reports an interview once and then forgets it, so a person's grade
(an `answer.evaluated` with scorer `human`, see `interview_shared.reviews`) of an answer in a
reported interview would change nothing. `ReviewFollowUp` watches the same events the follower
folds: a grade that no later report on the log counts is pending, and once the follower has
caught up it recomputes those interviews' reports from the log (`replay_reports`, the fold a
replay uses, which puts a human grade first as the store does) and publishes the ones that
changed. Their event ids come from the evaluation ids, so every replica and every restart
publishing the same report is one event to the store. An interview not reported yet needs
nothing from here: the follower reports it with the grade.

The same pass gives the LLM judge's example bank each graded answer (its text and question from
the answers topic), as issue 10's "human reviews recorded by the product"; the bank lives in
memory, so on start-up the follower's catch-up sees every grade again and refills it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from interview_shared import topics
from interview_shared.events import (
    AnswerEvaluated,
    Event,
    InterviewEvaluated,
    QuestionCreated,
    QuestionRubricChanged,
)
from interview_shared.keyring import Privacy
from interview_shared.logging import get_logger
from interview_shared.messaging import EventPublisher
from interview_shared.reviews import HUMAN_SCORER

from interview_evaluator.examples import MemoryExampleBank
from interview_evaluator.replay import log_events
from interview_evaluator.replay_reports import ReportFold, folded
from interview_evaluator.scoring import GradedExample

log = get_logger(__name__)
Fold = Callable[[Iterable[uuid.UUID], Mapping[uuid.UUID, str]], Awaitable[ReportFold]]
"""Reads the answers and evaluations of some interviews from the log (tests pass their own)."""
Rubrics = Callable[[], Awaitable[Mapping[uuid.UUID, str]]]
"""Each question's active rubric version, from the questions topic."""


@dataclass(frozen=True, slots=True)
class _Grade:
    interview_id: uuid.UUID
    evaluation_id: uuid.UUID
    score: float


class ReviewFollowUp:
    """Pending human grades; `observe` the follower's events, then `run` when `due`."""

    def __init__(
        self,
        *,
        publisher: EventPublisher,
        fold: Fold,
        rubrics: Rubrics,
        bank: MemoryExampleBank | None = None,
        privacy: Privacy | None = None,
    ) -> None:
        self._privacy = privacy
        self._publisher = publisher
        self._fold = fold
        self._rubrics = rubrics
        self._bank = bank
        self._unreported: dict[uuid.UUID, set[uuid.UUID]] = {}
        """interview -> human grades no report on the log has counted yet."""
        self._examples: dict[uuid.UUID, _Grade] = {}
        """answer -> its newest grade, not yet in the bank."""

    @property
    def due(self) -> bool:
        """Whether some grade waits for a report or for the bank."""
        return bool(self._unreported or self._examples)

    def observe(self, event: Event) -> None:
        """Fold one event of the followed topics in (log order per interview)."""
        if isinstance(event, InterviewEvaluated):
            waiting = self._unreported.get(event.interview_id)
            if waiting is not None:
                waiting.difference_update(event.evaluation_ids)
                if not waiting:
                    del self._unreported[event.interview_id]
            return
        if not isinstance(event, AnswerEvaluated) or event.lineage.scorer != HUMAN_SCORER:
            return
        self._unreported.setdefault(event.interview_id, set()).add(event.evaluation_id)
        if self._bank is not None and event.score is not None:
            self._examples[event.answer_id] = _Grade(
                event.interview_id, event.evaluation_id, event.score
            )

    async def run(self) -> None:
        """Publish the changed reports of the pending interviews and fill the bank."""
        unreported, examples = self._unreported, self._examples
        self._unreported, self._examples = {}, {}
        try:
            interviews = set(unreported) | {g.interview_id for g in examples.values()}
            fold = await self._fold(interviews, await self._rubrics())
            reports = fold.reports()
            await self._publisher.publish_many(reports)
        except BaseException:
            # Try again on the next sweep (grades that arrived meanwhile are kept too).
            for interview_id, grades in unreported.items():
                self._unreported.setdefault(interview_id, set()).update(grades)
            self._examples = {**examples, **self._examples}
            raise
        added = await self._add_examples(fold, examples)
        log.info("human_grades_followed_up", reports=len(reports), examples=added)

    async def _add_examples(self, fold: ReportFold, examples: Mapping[uuid.UUID, _Grade]) -> int:
        if self._bank is None:
            return 0
        added = 0
        for answer_id, grade in examples.items():
            answer = fold.answer(grade.interview_id, answer_id)
            if answer is None:
                continue  # its answer.submitted is not on the log (dead-lettered): no text
            if self._privacy is not None:
                answer, erased = await self._privacy.open(answer)
                if erased:
                    continue  # an erased candidate's words are no one's example
            example = GradedExample(
                answer_id=str(answer_id), answer=answer.text, score=grade.score, source="review"
            )
            self._bank.add(answer.question.text, example)
            added += 1
        return added


async def active_rubric_versions(bootstrap: str) -> dict[uuid.UUID, str]:
    """Each question's rubric version as the store has it: the last on the questions topic."""
    versions: dict[uuid.UUID, str] = {}
    async for event in log_events(bootstrap, topics.QUESTIONS):
        if isinstance(event, QuestionCreated | QuestionRubricChanged):
            versions[event.question_id] = event.rubric.version
    return versions


def kafka_follow_up(
    bootstrap: str,
    *,
    publisher: EventPublisher,
    bank: MemoryExampleBank | None,
    privacy: Privacy | None = None,
) -> ReviewFollowUp:
    """A `ReviewFollowUp` reading the log of the cluster at `bootstrap`."""

    async def fold(ids: Iterable[uuid.UUID], versions: Mapping[uuid.UUID, str]) -> ReportFold:
        return await folded(bootstrap, ids, rubric_versions=versions)

    async def rubrics() -> Mapping[uuid.UUID, str]:
        return await active_rubric_versions(bootstrap)

    return ReviewFollowUp(
        publisher=publisher, fold=fold, rubrics=rubrics, bank=bank, privacy=privacy
    )
