"""Composition root of the evaluator: picks the scorer and wires it to Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from interview_shared.logging import configure_logging, get_logger
from interview_shared.messaging import EventProcessor, EventPublisher
from interview_shared.read_client import HttpReadSide, ReadSide
from interview_shared.service import broker_check, create_service_app, kafka_broker
from interview_shared.telemetry import tracing

from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.handlers import (
    ANSWERS_ROLE,
    REPORTS_ROLE,
    AnswerBatchHandler,
    CompletionHandler,
    register_handlers,
)
from interview_evaluator.judge_settings import build_judge
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.scoring import Scorer
from interview_evaluator.settings import EvaluatorSettings

log = get_logger(__name__)


def create_app(
    settings: EvaluatorSettings, *, scorer: Scorer | None = None, read: ReadSide | None = None
) -> FastAPI:
    """Build the evaluator; `scorer` and `read` replace the real adapters (tests)."""
    judge = None if scorer is not None else build_judge(settings)
    active: Scorer = scorer or judge or OfflineScorer()
    log.info("scorer_selected", scorer=active.name)
    http_read = HttpReadSide(settings.store_url)
    reader: ReadSide = read or http_read

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if read is None:
                await stack.enter_async_context(http_read)
            if judge is not None:
                stack.push_async_callback(judge.aclose)
            yield

    broker = kafka_broker(settings, client_id="interview-evaluator")
    publisher = EventPublisher(broker)
    register_handlers(
        broker,
        answers=AnswerBatchHandler(
            evaluator=AnswerEvaluator(
                scorer=active,
                publisher=publisher,
                read=reader,
                concurrency=settings.evaluator_concurrency,
            ),
            # Retries of the scorer live in the judge (one layer); here a failure dead-letters.
            processor=EventProcessor(
                publisher=publisher, group=settings.consumer_group(ANSWERS_ROLE), max_attempts=1
            ),
            breaker=judge.breaker if judge is not None else None,
            pause_s=min(settings.judge_breaker_reset_s, settings.max_poll_interval_ms / 4000),
        ),
        completions=CompletionHandler(
            read=reader, publisher=publisher, wait_s=settings.aggregate_wait_s
        ),
        processor=EventProcessor(
            publisher=publisher,
            group=settings.consumer_group(REPORTS_ROLE),
            max_attempts=settings.consumer_max_attempts,
            backoff_s=settings.consumer_retry_backoff_s,
        ),
        groups=(settings.consumer_group(ANSWERS_ROLE), settings.consumer_group(REPORTS_ROLE)),
        batch_size=settings.evaluator_batch_size,
        max_poll_interval_ms=settings.max_poll_interval_ms,
    )
    return create_service_app(
        title="interview-evaluator",
        description=f"Scores answers with the {active.name} scorer.",
        broker=broker,
        checks={"kafka": broker_check(broker)},
        resources=resources,
        settings=settings,
    )


def main() -> None:
    """Run the evaluator (`python -m interview_evaluator.main`)."""
    settings = EvaluatorSettings()
    configure_logging(service="evaluator", level=settings.log_level, fmt=settings.log_format)
    with tracing("interview-evaluator"):  # before create_app: it picks the broker middleware
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
