"""Replays as a service: the evaluator runs each `replay.requested` and reports on the log.

The request arrives on the replays topic through the evaluator's own `replays` group; the run
reads the log with assigned partitions (`replay_run`), never through the live answers group,
so live scoring keeps its offsets. Progress goes out as `replay.progressed` about once a second
and ends with one `replay.finished`, which the store keeps for GET /replays/{id}. Once the run
has published its verdicts, each reported interview it touched gets a fresh `interview.evaluated`
computed from the log (`replay_reports`), so reports follow the new current evaluations. The
evaluator reads no store: everything comes from Kafka.

A run is started, not awaited, by the handler (a long run must not hold the poll loop past
max.poll.interval.ms), so a crash mid-run leaves the replay `running`: request it again, and
the answers already judged are skipped. Requests are kept forever on their topic, so a new group
(or one that lost its offsets) reads every old request again: a request whose replay already
reported progress after it on the log is not run again (a re-run would overwrite its final
report with one that skipped everything).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_shared import topics
from interview_shared.events import (
    ReplayFinished,
    ReplayProgressed,
    ReplayRequested,
    decode_event,
)
from interview_shared.keyring import MemoryKeyRing, Privacy
from interview_shared.logging import get_logger
from interview_shared.messaging import CONSUMER_ACK_POLICY, EventPublisher
from pydantic import ValidationError

from interview_evaluator.priority import LiveFirst
from interview_evaluator.replay import replay_reported, submitted_answers
from interview_evaluator.replay_reports import recomputed_reports
from interview_evaluator.replay_run import (
    Budget,
    ReplayProgress,
    ReplayRequest,
    ReplayScope,
    ReplayStatus,
    opened_answers,
    read_context,
    run_replay,
)
from interview_evaluator.scoring import Scorer

log = get_logger(__name__)


def engine_request(event: ReplayRequested) -> ReplayRequest:
    """The engine's view of a request event."""
    scope = event.scope
    return ReplayRequest(
        replay_id=event.replay_id,
        scope=ReplayScope(
            since=scope.since,
            until=scope.until,
            interview_ids=frozenset(scope.interview_ids),
            question_ids=frozenset(scope.question_ids),
            candidate_ids=frozenset(scope.candidate_ids),
            org_id=event.org_id,
        ),
        budget=Budget(max_evaluations=event.max_evaluations, max_cost_usd=event.max_cost_usd),
        dry_run=event.dry_run,
    )


def _report(
    progress: ReplayProgress, org_id: str, *, final: bool, reason: str | None = None
) -> ReplayProgressed:
    kind = ReplayFinished if final else ReplayProgressed
    return kind(
        replay_id=progress.replay_id,
        org_id=org_id,
        status=progress.status.value,
        scanned=progress.scanned,
        evaluated=progress.evaluated,
        skipped=progress.skipped,
        cost_usd=round(progress.cost_usd, 6),
        reason=reason,
    )


class ReplayRunner:
    """Runs requested replays in the background with this evaluator's scorer."""

    def __init__(
        self,
        *,
        bootstrap: str,
        scorer: Scorer,
        publisher: EventPublisher,
        privacy: Privacy | None = None,
        priority: LiveFirst | None = None,
        report_every_s: float = 1.0,
    ) -> None:
        self._priority = priority or LiveFirst()
        self._privacy = privacy or Privacy(MemoryKeyRing())  # then sealed answers are skipped
        self._bootstrap = bootstrap
        self._scorer = scorer
        self._publisher = publisher
        self._every = report_every_s
        self._running: set[asyncio.Task[ReplayProgress | None]] = set()

    def start(
        self, event: ReplayRequested, *, at: tuple[int, int] | None = None
    ) -> asyncio.Task[ReplayProgress | None]:
        """Run the replay in the background (the handler returns at once); `at` is the request's
        (partition, offset) on the replays topic, to tell an old request from a new one."""
        task = asyncio.create_task(self.run(event, at=at), name=f"replay-{event.replay_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def stop(self) -> None:
        """Cancel runs still going (on shutdown)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def run(
        self, event: ReplayRequested, *, at: tuple[int, int] | None = None
    ) -> ReplayProgress | None:
        """Run one replay to its end, reporting progress; never raises for a failed run. None
        if the request was run before (read again by a new group)."""
        if at is not None and await replay_reported(
            self._bootstrap, event.replay_id, partition=at[0], after=at[1]
        ):
            log.info("replay_already_run", replay_id=str(event.replay_id))
            return None
        progress = ReplayProgress(replay_id=event.replay_id)
        if (reason := self._refusal(event)) is not None:
            progress.status = ReplayStatus.FAILED
            await self._publisher.publish(
                _report(progress, event.org_id, final=True, reason=reason)
            )
            return progress
        ticker = asyncio.create_task(self._tick(progress, event.org_id))
        reason = None
        try:
            progress = await self._replay(engine_request(event), progress)
        except Exception as error:  # a failed run is reported, not retried
            log.exception("replay_failed", replay_id=str(event.replay_id))
            progress.status, reason = ReplayStatus.FAILED, type(error).__name__
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        await self._publisher.publish(_report(progress, event.org_id, final=True, reason=reason))
        return progress

    def _refusal(self, event: ReplayRequested) -> str | None:
        if event.scorer is not None and event.scorer != self._scorer.name:
            return f"scorer_unavailable: this evaluator runs {self._scorer.name!r}"
        model = getattr(self._scorer, "model", None)
        if event.model is not None and event.model != model:
            return f"model_unavailable: this evaluator's model is {model!r}"
        return None

    async def _replay(self, request: ReplayRequest, progress: ReplayProgress) -> ReplayProgress:
        scope = request.scope
        context = await read_context(
            self._bootstrap,
            since=scope.since,
            candidates=bool(scope.candidate_ids),
            orgs=scope.org_id is not None,
        )
        touched: set[uuid.UUID] = set()
        done = await run_replay(
            opened_answers(submitted_answers(self._bootstrap, since=scope.since), self._privacy),
            request,
            context=context,
            scorer=self._scorer,
            publisher=None if request.dry_run else self._publisher,
            progress=progress,  # the one the ticker reports
            on_verdict=lambda v: touched.add(v.interview_id),
            priority=self._priority,
        )
        if touched:
            versions = {q: rubric.version for q, rubric in context.rubrics.items()}
            reports = await recomputed_reports(self._bootstrap, touched, rubric_versions=versions)
            await self._publisher.publish_many(reports)
        return done

    async def _tick(self, progress: ReplayProgress, org_id: str) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self._publisher.publish(_report(progress, org_id, final=False))


def register_replay_handler(broker: KafkaBroker, runner: ReplayRunner, *, group: str) -> None:
    """Start a run for each `replay.requested` (progress events on the topic are ignored)."""

    @broker.subscriber(
        topics.REPLAYS.name,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=CONSUMER_ACK_POLICY,
        title="evaluator-replays",
        description="Runs replay.requested; publishes replay.progressed and replay.finished.",
    )
    async def start_replay(message: KafkaMessage) -> None:
        try:
            event = decode_event(message.body)
        except ValidationError:
            log.warning("replay_request_unreadable")
            return
        if isinstance(event, ReplayRequested):
            record = message.raw_message  # one record: this is not a batch subscriber
            at = (record.partition, record.offset) if isinstance(record, ConsumerRecord) else None
            runner.start(event, at=at)
