"""Wiring every service shares: its Kafka broker, the FastAPI app and their common lifespan.

The broker is a plain FastStream `KafkaBroker` started and stopped by the app's lifespan, in an
order we control: the service opens its resources first (store pool, HTTP clients), then the
broker starts consuming; on shutdown the broker stops first (finishing in-flight messages within
the grace period) and the resources close after it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from interview_shared import aiokafka_fix
from interview_shared.http import HealthCheck, health_router, install_error_handlers
from interview_shared.http_metrics import HttpMetricsMiddleware
from interview_shared.lag import LagMonitor, consumer_groups, group_subscribers
from interview_shared.settings import ServiceSettings
from interview_shared.stall import ProgressCheck, StallWatch
from interview_shared.task_dump import dumping_tasks_on_signal
from interview_shared.telemetry import tracing_enabled

Resources = Callable[[FastAPI], AbstractAsyncContextManager[None]]

aiokafka_fix.install()  # before any service's client writes to a broker (uvloop's closed socket)


def kafka_broker(settings: ServiceSettings, *, client_id: str) -> KafkaBroker:
    """A Kafka broker whose producer is idempotent with acks=all: a retried send cannot
    duplicate or reorder events. Per-message logs go to DEBUG; errors still log at ERROR.
    With tracing on, every publish carries the trace context in its record headers."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        graceful_timeout=settings.shutdown_grace_s,
        log_level=logging.DEBUG,
        middlewares=(KafkaTelemetryMiddleware(),) if tracing_enabled() else (),
    )


def broker_check(broker: KafkaBroker, *, timeout_s: float = 2.0) -> HealthCheck:
    """A readiness check that the Kafka cluster answers a metadata request."""

    async def check() -> bool:
        return await broker.ping(timeout=timeout_s)

    return check


@asynccontextmanager
async def _no_resources(_: FastAPI) -> AsyncIterator[None]:
    yield


def create_service_app(
    *,
    title: str,
    description: str,
    broker: KafkaBroker,
    checks: Mapping[str, HealthCheck],
    resources: Resources = _no_resources,
    service: str | None = None,
    settings: ServiceSettings | None = None,
    ready_details: Callable[[], Mapping[str, Any]] | None = None,
    progress: Mapping[object, ProgressCheck] | None = None,
) -> FastAPI:
    """A FastAPI app that runs `broker` inside `resources`, with health probes, the error
    envelope, and the broker's AsyncAPI document at `/asyncapi` (HTML) and `/asyncapi.json`.
    `service` labels its HTTP metrics (default: `title`). With `settings`, the lag of the
    broker's consumer groups is exported at `/metrics` and gates readiness, and each group
    subscriber gets a `StallWatch` (with the `progress` check given for that subscriber, if
    any; `app.state.stall_watches` by name). `ready_details` adds fields to the
    `/health/ready` body."""
    lag = _lag_monitor(broker, settings)
    watches = _stall_watches(broker, settings, progress or {})
    if lag is not None and settings is not None and settings.consumer_lag_ready_max:
        checks = {**checks, "lag": _lag_check(lag, settings.consumer_lag_ready_max)}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with dumping_tasks_on_signal():  # where a stalled consumer waits (kill -USR1)
            async with resources(app):
                await broker.start()
                try:
                    async with AsyncExitStack() as watching:
                        if lag is not None:
                            await watching.enter_async_context(lag.running())
                        for watch in watches.values():
                            await watching.enter_async_context(watch.running())
                        yield
                finally:
                    await broker.stop()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.broker = broker  # tests wrap it in FastStream's TestKafkaBroker
    app.state.stall_watches = watches
    app.add_middleware(HttpMetricsMiddleware, service=service or title)
    if tracing_enabled():
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # Probes and scrapes every few seconds would bury the traces worth reading.
        FastAPIInstrumentor.instrument_app(app, excluded_urls="health/,metrics")
    _serve_metrics(app)
    install_error_handlers(app)
    app.include_router(health_router(checks, details=ready_details))
    _serve_asyncapi(app, AsyncAPI(broker, title=title, description=description))
    return app


def _lag_monitor(broker: KafkaBroker, settings: ServiceSettings | None) -> LagMonitor | None:
    groups = consumer_groups(broker)
    if settings is None or not groups:
        return None
    return LagMonitor(
        settings.kafka_bootstrap_servers, groups, interval_s=settings.consumer_lag_interval_s
    )


def _stall_watches(
    broker: KafkaBroker,
    settings: ServiceSettings | None,
    progress: Mapping[object, ProgressCheck],
) -> dict[str, StallWatch]:
    if settings is None or not settings.consumer_stall_restart_s:
        return {}
    watches = {}
    for group, subscriber in group_subscribers(broker):  # a group-less tail has no coordinator
        spec = getattr(getattr(subscriber, "specification", None), "config", None)
        name = getattr(spec, "title_", None) or group  # the subscriber's AsyncAPI title
        watches[name] = StallWatch(
            subscriber=subscriber,
            name=name,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            stall_after_s=settings.consumer_stall_restart_s,
            progress=progress.get(subscriber),
            check_every_s=min(5.0, settings.consumer_stall_restart_s / 4),
            # FastStream's stop first waits out the handler in flight (the grace period).
            stop_timeout_s=settings.shutdown_grace_s + 10.0,
        )
    return watches


def _lag_check(lag: LagMonitor, ready_max: int) -> HealthCheck:
    # Not ready while far behind (a Kubernetes readiness probe then holds back a rollout);
    # unknown lag (not measured yet, Kafka unreachable) is the kafka check's business.
    async def check() -> bool:
        return lag.worst is None or lag.worst <= ready_max

    return check


def _serve_metrics(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _serve_asyncapi(app: FastAPI, spec: AsyncAPI) -> None:
    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(spec.to_specification().to_jsonable())

    @app.get("/asyncapi", include_in_schema=False)
    async def asyncapi_html() -> HTMLResponse:
        return HTMLResponse(get_asyncapi_html(spec.to_specification()))
