"""The Grafana dashboard parses and queries only metrics the services export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import interview_shared.metrics  # noqa: F401 - registers every metric the services export
from prometheus_client import REGISTRY

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "interview-backend.json"
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def _exported() -> set[str]:
    """Every series name the registry can produce (a counter's `_total`, a histogram's parts)."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
    return names


def _queries() -> list[tuple[str, str]]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", ())
    ]


def test_every_panel_queries_metrics_the_services_export() -> None:
    exported = _exported()
    queries = _queries()
    assert len(queries) >= 10
    for title, expr in queries:
        referenced = set(re.findall(r"\binterview_[a-z0-9_]+", expr))
        assert referenced, f"{title!r} queries no metric of ours: {expr}"
        assert referenced <= exported, f"{title!r} queries unknown {referenced - exported}"


def test_the_dashboard_covers_lag_latency_tokens_and_cost() -> None:
    text = " ".join(expr for _, expr in _queries())
    for metric in (
        "interview_consumer_lag",
        "interview_http_request_seconds_bucket",
        "interview_evaluation_seconds_bucket",
        "interview_evaluation_tokens_total",
        "interview_evaluation_cost_usd_total",
    ):
        assert metric in text


def test_panel_ids_are_unique() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
