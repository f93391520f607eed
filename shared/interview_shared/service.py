"""Wiring every service shares: its Kafka router (broker + AsyncAPI docs) and the FastAPI app."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from faststream.kafka.fastapi import KafkaRouter

from interview_shared.http import HealthCheck, health_router, install_error_handlers
from interview_shared.settings import ServiceSettings

Lifespan = Any  # Callable[[FastAPI], AbstractAsyncContextManager[...]]; FastAPI's own alias is private


def kafka_router(settings: ServiceSettings, *, client_id: str, lifespan: Lifespan) -> KafkaRouter:
    """A FastStream Kafka router whose broker starts after `lifespan` has opened resources.

    The producer is idempotent with acks=all: a retried send cannot duplicate or reorder events.
    """
    return KafkaRouter(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        graceful_timeout=settings.shutdown_grace_s,
        lifespan=lifespan,
        schema_url="/asyncapi",
        logger=None,
    )


def broker_check(router: KafkaRouter, *, timeout_s: float = 2.0) -> HealthCheck:
    """A readiness check that the Kafka cluster answers a metadata request."""

    async def check() -> bool:
        return await router.broker.ping(timeout=timeout_s)

    return check


def create_service_app(
    *,
    title: str,
    description: str,
    router: KafkaRouter,
    checks: Mapping[str, HealthCheck],
) -> FastAPI:
    """A FastAPI app with the router's lifespan, health probes and the error envelope."""
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=router.lifespan_context)
    install_error_handlers(app)
    app.include_router(health_router(checks))
    app.include_router(router)
    return app


__all__ = ["AbstractAsyncContextManager", "broker_check", "create_service_app", "kafka_router"]
