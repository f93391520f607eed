"""A replay under a budget: which answers, with which rubric, once each, up to a cap.

Everything a replay needs comes from the log, read with assigned partitions and no consumer
group (`replay.log_events`): the answers, each question's active rubric (its last
`question.rubric_changed`, else its `question.created`), which interview belongs to which
candidate, and which (answer, scorer, rubric version) already has an evaluation. That last set
makes a replay idempotent: running one scope twice judges nothing the second time. Verdict ids
are derived from the same triple (`ids.evaluation_id`), so even two replays racing produce one
row in the store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from statistics import fmean

from interview_shared import topics
from interview_shared.domain import Rubric
from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    InterviewCreated,
    QuestionCreated,
    QuestionRubricChanged,
)
from interview_shared.keyring import Privacy
from interview_shared.messaging import EventPublisher

from interview_evaluator.evaluation import evaluated_event, scoring_request
from interview_evaluator.priority import LiveFirst
from interview_evaluator.replay import log_events, with_rubric
from interview_evaluator.scoring import Scorer

JudgedKey = tuple[uuid.UUID, str, str]
"""(answer id, scorer name, rubric version): what one evaluation is unique for."""


class ReplayStatus(StrEnum):
    """Where a replay is."""

    RUNNING = "running"
    COMPLETED = "completed"
    CAPPED = "capped"
    FAILED = "failed"


@dataclass(frozen=True)
class ReplayScope:
    """Which answers a replay judges; an empty set means "any"."""

    since: datetime | None = None
    until: datetime | None = None
    interview_ids: frozenset[uuid.UUID] = frozenset()
    question_ids: frozenset[uuid.UUID] = frozenset()
    candidate_ids: frozenset[uuid.UUID] = frozenset()
    org_id: str | None = None
    """Only answers to this organisation's interviews (the API's replays); None: any (the CLI)."""

    def matches(
        self,
        answer: AnswerSubmitted,
        candidate_of: dict[uuid.UUID, uuid.UUID],
        org_of: dict[uuid.UUID, str] | None = None,
    ) -> bool:
        """Whether the answer is in the time window, the organisation and every named set."""
        if self.org_id is not None and (org_of or {}).get(answer.interview_id) != self.org_id:
            return False
        at = answer.occurred_at
        if (self.since is not None and at < self.since) or (
            self.until is not None and at >= self.until
        ):
            return False
        if self.interview_ids and answer.interview_id not in self.interview_ids:
            return False
        if self.question_ids and answer.question_id not in self.question_ids:
            return False
        return not self.candidate_ids or candidate_of.get(answer.interview_id) in (
            self.candidate_ids
        )


@dataclass(frozen=True)
class Budget:
    """Caps on one replay: evaluations made and money spent (None: no cap)."""

    max_evaluations: int | None = None
    max_cost_usd: float | None = None

    def spent(self, evaluated: int, cost_usd: float) -> bool:
        """Whether another evaluation would go over a cap."""
        if self.max_evaluations is not None and evaluated >= self.max_evaluations:
            return True
        return self.max_cost_usd is not None and cost_usd >= self.max_cost_usd


@dataclass
class ReplayProgress:
    """How far a replay has got (sent as progress, and its final state)."""

    replay_id: uuid.UUID
    status: ReplayStatus = ReplayStatus.RUNNING
    scanned: int = 0
    evaluated: int = 0
    skipped: int = 0
    """In scope, but already judged by this scorer against this rubric version."""
    cost_usd: float = 0.0
    """Spent, or (dry run) estimated from this scorer's mean cost in the log."""


@dataclass
class LogContext:
    """What a replay reads from the log before it judges anything."""

    rubrics: dict[uuid.UUID, Rubric] = field(default_factory=dict)
    candidates: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    orgs: dict[uuid.UUID, str] = field(default_factory=dict)
    """Interview -> organisation (read when a replay is scoped to one)."""
    judged: set[JudgedKey] = field(default_factory=set)
    costs: dict[str, list[float]] = field(default_factory=dict)

    def mean_cost(self, scorer: str) -> float:
        """This scorer's mean cost per evaluation so far (0 if it never ran)."""
        spent = self.costs.get(scorer)
        return fmean(spent) if spent else 0.0


async def read_context(
    bootstrap: str, *, since: datetime | None, candidates: bool, orgs: bool = False
) -> LogContext:
    """Active rubrics, (optionally) interview -> candidate and -> organisation, and what was
    judged since `since`."""
    context = LogContext()
    async for event in log_events(bootstrap, topics.QUESTIONS):
        if isinstance(event, QuestionCreated | QuestionRubricChanged):
            context.rubrics[event.question_id] = event.rubric  # log order: the last one wins
    if candidates or orgs:
        async for event in log_events(bootstrap, topics.INTERVIEWS):
            if isinstance(event, InterviewCreated):
                context.candidates[event.interview_id] = event.candidate_id
                context.orgs[event.interview_id] = event.org_id
    # An answer's evaluations come after it in time, so reading from `since` misses none.
    async for event in log_events(bootstrap, topics.EVALUATIONS, since=since):
        if isinstance(event, AnswerEvaluated):
            lineage = event.lineage
            context.judged.add((event.answer_id, lineage.scorer, lineage.rubric_version))
            context.costs.setdefault(lineage.scorer, []).append(event.usage.cost_usd)
    return context


@dataclass(frozen=True)
class ReplayRequest:
    """One replay: its scope, caps, scorer and whether to judge (or only count)."""

    replay_id: uuid.UUID
    scope: ReplayScope
    budget: Budget = Budget()
    dry_run: bool = False
    rubric: Rubric | None = None
    """A rubric to judge with instead of each question's active one (the ops CLI's --rubric)."""


async def opened_answers(
    answers: AsyncGenerator[AnswerSubmitted], privacy: Privacy
) -> AsyncGenerator[AnswerSubmitted]:
    """`answers` with their text opened; answers of erased candidates are not there at all."""
    async with aclosing(answers):
        async for answer in answers:
            opened, erased = await privacy.open(answer)
            if not erased:
                yield opened


async def run_replay(
    answers: AsyncGenerator[AnswerSubmitted],
    request: ReplayRequest,
    *,
    context: LogContext,
    scorer: Scorer,
    publisher: EventPublisher | None,
    on_progress: Callable[[ReplayProgress], object] = lambda _: None,
    on_verdict: Callable[[AnswerEvaluated], object] = lambda _: None,
    progress: ReplayProgress | None = None,
    priority: LiveFirst | None = None,
) -> ReplayProgress:
    """Judge every answer in scope not yet judged with its rubric, until done or capped.

    `progress` (else a new one) is updated in place as the replay goes. With `priority` (the
    evaluator's), each answer waits until no live answer is being judged.
    """
    progress = progress or ReplayProgress(replay_id=request.replay_id)
    step = _Step(request, context, scorer, publisher, on_verdict, priority or LiveFirst())
    async with aclosing(answers):  # a capped replay stops reading: close the consumer now
        async for answer in answers:
            progress.scanned += 1
            if not await step.take(answer, progress):
                break
            on_progress(progress)
    if progress.status is ReplayStatus.RUNNING:
        progress.status = ReplayStatus.COMPLETED
    on_progress(progress)
    return progress


@dataclass(frozen=True)
class _Step:
    request: ReplayRequest
    context: LogContext
    scorer: Scorer
    publisher: EventPublisher | None
    on_verdict: Callable[[AnswerEvaluated], object]
    priority: LiveFirst

    async def take(self, answer: AnswerSubmitted, progress: ReplayProgress) -> bool:
        """Judge, skip or count one answer; False once the budget is spent (status capped)."""
        request, context = self.request, self.context
        if not request.scope.matches(answer, context.candidates, context.orgs):
            return True
        rubric = request.rubric or context.rubrics.get(answer.question_id) or answer.question.rubric
        key = (answer.answer_id, self.scorer.name, rubric.version)
        if key in context.judged:
            progress.skipped += 1
        elif request.budget.spent(progress.evaluated, progress.cost_usd):
            progress.status = ReplayStatus.CAPPED
            return False
        elif request.dry_run or self.publisher is None:
            progress.evaluated += 1
            progress.cost_usd += context.mean_cost(self.scorer.name)
        else:
            await self.priority.turn()  # live answers first: see `priority`
            verdict = await _judge(with_rubric(answer, rubric), self.scorer, request.replay_id)
            await self.publisher.publish(verdict)
            self.on_verdict(verdict)
            context.judged.add(key)
            progress.evaluated += 1
            progress.cost_usd += verdict.usage.cost_usd
            # Scoring is CPU work on the evaluator's event loop: let the live consumer's
            # pending work run between two replayed answers, so live latency holds.
            await asyncio.sleep(0)
        return True


async def _judge(answer: AnswerSubmitted, scorer: Scorer, replay_id: uuid.UUID) -> AnswerEvaluated:
    result = await scorer.score(scoring_request(answer))
    result = result.model_copy(
        update={"parameters": {**result.parameters, "replay_id": str(replay_id)}}
    )
    # No replay id in the evaluation id (see `ids`): a replay judging an answer the live path or
    # another replay already judged with this scorer and rubric version repeats that id.
    return evaluated_event(answer, result)
