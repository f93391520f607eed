"""Tracing is configured by the standard OTEL_* variables and costs nothing when off."""

from __future__ import annotations

import pytest
from interview_shared.service import kafka_broker
from interview_shared.settings import ServiceSettings
from interview_shared.telemetry import tracing, tracing_enabled, tracing_requested


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_tracing_is_requested_only_by_an_endpoint(
    environ: dict[str, str], *, requested: bool
) -> None:
    assert tracing_requested(environ) is requested


def test_off_installs_no_provider_and_no_broker_middleware() -> None:
    with tracing("interview-test", environ={}):
        assert not tracing_enabled()
        broker = kafka_broker(ServiceSettings(), client_id="test")
    assert not broker.middlewares
