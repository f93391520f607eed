"""Prometheus metrics every service exposes at `/metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
STORE_REBUILD_APPLIED = Gauge(
    "interview_store_rebuild_applied_records",
    "Records of the log the store's replay (rebuild) has read since it started",
)
STORE_REBUILD_TARGET = Gauge(
    "interview_store_rebuild_target_records",
    "Records the store's replay had to read to reach the end offsets seen when it started",
)
STORE_REBUILD_CAUGHT_UP = Gauge(
    "interview_store_rebuild_caught_up",
    "1 once the store's replay has reached its target on every partition it reads, else 0",
)
CONSUMER_RESTARTS = Counter(
    "interview_consumer_restarts_total",
    "Restarts of a subscriber whose consumer had silently stopped consuming",
    ["subscriber"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "interview_http_request_seconds",
    "Time from receiving an HTTP request to sending the response's status line",
    ["service", "method", "route", "status"],
)
CONSUMER_LAG = Gauge(
    "interview_consumer_lag",
    "Records a consumer group has yet to consume: log end offset minus committed offset",
    ["group", "topic", "partition"],
)
CONSUMER_LAG_UPDATED = Gauge(
    "interview_consumer_lag_updated_timestamp_seconds",
    "When this process last measured its consumer groups' lag (Unix time)",
)
EVALUATION_SECONDS = Histogram(
    "interview_evaluation_seconds",
    "Time a scorer took to evaluate one answer, retries included",
    ["scorer", "outcome"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80),
)
EVALUATION_TOKENS = Counter(
    "interview_evaluation_tokens_total",
    "Model tokens spent on evaluations, by scorer and kind (prompt or completion)",
    ["scorer", "kind"],
)
EVALUATION_COST = Counter(
    "interview_evaluation_cost_usd_total",
    "Money spent on evaluations at the configured prices, in US dollars",
    ["scorer"],
)
JUDGE_CALL_ATTEMPTS = Histogram(
    "interview_judge_call_attempts",
    "HTTP requests one model call made before it succeeded or gave up (JUDGE_MAX_ATTEMPTS caps "
    "it; a call failing fast on an open circuit counts as one)",
    ["model"],
    buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20),
)
