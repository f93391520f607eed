"""Composition root of the evaluator: picks the scorer and wires it to Kafka."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from interview_shared.blobs import FilesystemBlobStore
from interview_shared.keyring import KeyRing, MemoryKeyRing, Privacy
from interview_shared.keyring_kafka import following_keys
from interview_shared.logging import configure_logging, get_logger
from interview_shared.messaging import EventProcessor, EventPublisher, RawPublisher
from interview_shared.service import broker_check, create_service_app, kafka_broker
from interview_shared.telemetry import tracing

from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.examples import MemoryExampleBank
from interview_evaluator.handlers import ANSWERS_ROLE, AnswerBatchHandler, register_handlers
from interview_evaluator.judge_settings import build_judge
from interview_evaluator.priority import LiveFirst
from interview_evaluator.producer import KafkaSender
from interview_evaluator.replay_service import ReplayRunner, register_replay_handler
from interview_evaluator.reports import KafkaLogTail, LogTail, ReportFollower, follow
from interview_evaluator.review_reports import ReviewFollowUp, kafka_follow_up
from interview_evaluator.scoring import Scorer
from interview_evaluator.semantic_scorer import offline_scorer
from interview_evaluator.settings import EvaluatorSettings
from interview_evaluator.transcription import (
    TRANSCRIBER_ROLE,
    TranscriptionHandler,
    build_transcriber,
    register_transcription,
)

log = get_logger(__name__)


def create_app(
    settings: EvaluatorSettings,
    *,
    scorer: Scorer | None = None,
    log_tail: Callable[[], LogTail] | None = None,
    sender: RawPublisher | None = None,
    reviews: ReviewFollowUp | None = None,
    key_ring: KeyRing | None = None,
) -> FastAPI:
    """Build the evaluator; `scorer`, `log_tail` (the reports' view of the log), `sender`
    (where verdicts, reports and dead letters go) and `reviews` (human grades' follow-up)
    replace the real adapters in tests. The evaluator calls no other service: everything it
    needs is on Kafka. A substituted `sender` means no Kafka: data keys are kept in memory."""
    judge = None if scorer is not None else build_judge(settings)
    active: Scorer = scorer or judge or offline_scorer(settings.offline_scorer)
    log.info("scorer_selected", scorer=active.name)
    broker = kafka_broker(settings, client_id="interview-evaluator")
    kafka_sender = KafkaSender(settings.kafka_bootstrap_servers, client_id="interview-evaluator")
    ring = key_ring or (MemoryKeyRing() if sender is not None else None)
    privacy = Privacy(ring)  # without one, the lifespan starts the Kafka key ring
    publisher = EventPublisher(sender or kafka_sender, privacy=privacy)
    bank = judge.examples if judge is not None else None
    follower = ReportFollower(
        tail=log_tail or (lambda: KafkaLogTail(settings.kafka_bootstrap_servers)),
        publisher=publisher,
        wait_s=settings.aggregate_wait_s,
        reviews=reviews
        or kafka_follow_up(
            settings.kafka_bootstrap_servers,
            publisher=publisher,
            bank=bank if isinstance(bank, MemoryExampleBank) else None,
            privacy=privacy,
        ),
    )

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if ring is None:  # every key is read before the first answer is
                await stack.enter_async_context(
                    following_keys(privacy, settings, client_id="interview-evaluator")
                )
            if judge is not None:
                stack.push_async_callback(judge.aclose)
            if sender is None:
                # Opened before the broker consumes and closed after it stops (the lifespan's
                # order), so every verdict of the last batch is flushed before the exit.
                await kafka_sender.start()
                stack.push_async_callback(kafka_sender.stop)
            task = asyncio.create_task(follow(follower), name="report-follower")
            stack.push_async_callback(_cancel, task)
            if transcriber is not None:
                stack.push_async_callback(transcriber.aclose)
            # Runs are cancelled before the sender closes (callbacks run last-in first-out).
            stack.push_async_callback(replays.stop)
            yield

    # Requests come through their own group; the run reads the log with assigned partitions.
    # Replays judge only while no live answer is being judged (`priority`).
    live_first = LiveFirst()
    replays = ReplayRunner(
        bootstrap=settings.kafka_bootstrap_servers,
        scorer=active,
        publisher=publisher,
        privacy=privacy,
        priority=live_first,
    )
    register_replay_handler(broker, replays, group=settings.consumer_group("replays"))
    register_handlers(
        broker,
        answers=AnswerBatchHandler(
            evaluator=AnswerEvaluator(
                scorer=active,
                publisher=publisher,
                privacy=privacy,
                priority=live_first,
                concurrency=settings.evaluator_concurrency,
            ),
            # Retries of the scorer live in the judge (one layer); here a failure dead-letters.
            processor=EventProcessor(
                publisher=publisher, group=settings.consumer_group(ANSWERS_ROLE), max_attempts=1
            ),
            breaker=judge.breaker if judge is not None else None,
            pause_s=min(settings.judge_breaker_reset_s, settings.max_poll_interval_ms / 4000),
        ),
        group=settings.consumer_group(ANSWERS_ROLE),
        batch_size=settings.evaluator_batch_size,
        max_poll_interval_ms=settings.max_poll_interval_ms,
    )
    transcriber = build_transcriber(settings)
    if transcriber is not None:
        register_transcription(
            broker,
            handler=TranscriptionHandler(
                transcriber=transcriber,
                blobs=FilesystemBlobStore(settings.blob_dir),
                publisher=publisher,
                privacy=privacy,
            ),
            # Retries of the endpoint live in the transcriber; here a failure dead-letters.
            processor=EventProcessor(
                publisher=publisher, group=settings.consumer_group(TRANSCRIBER_ROLE), max_attempts=1
            ),
            group=settings.consumer_group(TRANSCRIBER_ROLE),
        )
    app = create_service_app(
        title="interview-evaluator",
        description=f"Scores answers with the {active.name} scorer.",
        broker=broker,
        # Not gated on the report follower's catch-up: scoring does not need it, and on a long log
        # the rebuild would keep a restarted evaluator unready (reports are eventually there).
        checks={"kafka": broker_check(broker)},
        resources=resources,
        settings=settings,
    )
    app.state.reports = follower
    app.state.replays = replays
    return app


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    """Run the evaluator (`python -m interview_evaluator.main`)."""
    settings = EvaluatorSettings()
    configure_logging(service="evaluator", level=settings.log_level, fmt=settings.log_format)
    with tracing("interview-evaluator"):  # before create_app: it picks the broker middleware
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
