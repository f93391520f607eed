"""HTTP latency is recorded per route template, and evaluations count their tokens and cost."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from interview_evaluator.observe import observe_evaluation
from interview_evaluator.scoring import Outcome, ScoringResult, Usage
from interview_shared.http_metrics import HttpMetricsMiddleware
from prometheus_client import REGISTRY


async def test_requests_are_timed_by_route_template_not_by_path() -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    app = FastAPI()
    app.add_middleware(HttpMetricsMiddleware, service=service)

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/items/1", "/items/2", "/nowhere"):
            await client.get(path)

    def count(route: str, status: str) -> float | None:
        labels = {"service": service, "method": "GET", "route": route, "status": status}
        return REGISTRY.get_sample_value("interview_http_request_seconds_count", labels)

    assert count("/items/{item_id}", "200") == 2
    assert count("unmatched", "404") == 1


def test_an_evaluation_counts_its_latency_tokens_and_cost() -> None:
    scorer = f"judge-{uuid.uuid4().hex[:6]}"
    result = ScoringResult(
        outcome=Outcome.SCORED,
        score=80,
        scorer=scorer,
        scorer_version="1",
        usage=Usage(prompt_tokens=120, completion_tokens=30, cost_usd=0.002),
    )
    observe_evaluation(result, 1.5)
    observe_evaluation(result, 0.5)

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"scorer": scorer, **labels})

    assert value("interview_evaluation_seconds_sum", outcome="SCORED") == 2.0
    assert value("interview_evaluation_tokens_total", kind="prompt") == 240
    assert value("interview_evaluation_tokens_total", kind="completion") == 60
    assert value("interview_evaluation_cost_usd_total") == pytest.approx(0.004)
