"""Prometheus metrics every service exposes at `/metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_HANDLED = Counter(
    "interview_events_handled_total",
    "Events a consumer finished with, by consumer group and outcome",
    ["group", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "interview_event_handler_seconds",
    "Time to handle one event, retries included",
    ["group"],
)
STORE_BATCH_SECONDS = Histogram(
    "interview_store_batch_seconds", "Time to apply one polled batch in one transaction"
)
STORE_EVENTS_APPLIED = Counter(
    "interview_store_events_applied_total", "Events the store applied (duplicates included)"
)
