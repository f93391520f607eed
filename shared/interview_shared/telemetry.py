"""Distributed tracing with OpenTelemetry, off unless the standard `OTEL_*` variables ask for it.

Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set
and `OTEL_SDK_DISABLED` is not `true`; spans then go over OTLP/HTTP (protobuf), and the
exporter and batch processor read their other `OTEL_*` variables themselves. When it is off no
provider is installed, no middleware is added and the helpers here return at their first line,
so an untraced deployment pays nothing.

The trace context travels in W3C `traceparent` headers: HTTP headers (FastAPI and httpx
instrumentation) and Kafka record headers (FastStream's `KafkaTelemetryMiddleware` on publish).
Batch consumers get one span per record, parented by that record's header, so one answer stays
one trace although the store and the evaluator consume many answers per poll.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from aiokafka.structs import ConsumerRecord
from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

_PROPAGATOR = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("interview")  # a proxy: real once a provider is installed


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the `OTEL_*` variables ask for traces to be exported."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def tracing_enabled() -> bool:
    """Whether this process has a real tracer provider (from `tracing`, or a test's)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


@contextmanager
def tracing(service: str, environ: Mapping[str, str] = os.environ) -> Iterator[None]:
    """Export this process's spans while inside, if requested; flush them on the way out.

    `service` is the `service.name` unless `OTEL_SERVICE_NAME` overrides it. Call it in the
    composition root before building the app: the broker's middleware is chosen then.
    """
    if not tracing_requested(environ):
        yield
        return
    # Imported here: an untraced process never loads the exporter or the instrumentation.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    name = environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()  # store reads and model calls carry the context on
    try:
        yield
    finally:
        provider.shutdown()  # exports what the batch processor still holds


def _parent(record: ConsumerRecord[Any, Any]) -> context.Context:
    carrier = {
        key: value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        for key, value in (record.headers or ())
    }
    return _PROPAGATOR.extract(carrier)


def _same_trace(parent: context.Context) -> bool:
    current = trace.get_current_span().get_span_context()
    incoming = trace.get_current_span(parent).get_span_context()
    return current.is_valid and current.trace_id == incoming.trace_id


@contextmanager
def record_span(
    record: ConsumerRecord[Any, Any], name: str, **attributes: AttributeValue
) -> Iterator[None]:
    """A current span for handling one record, in the trace its headers carry.

    Nested under FastStream's consumer span when that already continues the record's trace
    (single-record subscribers); otherwise parented by the record's header directly (batches).
    """
    if not tracing_enabled():
        yield
        return
    parent = _parent(record)
    with _tracer.start_as_current_span(
        name,
        context=None if _same_trace(parent) else parent,
        kind=trace.SpanKind.CONSUMER,
        attributes={**_record_attributes(record), **attributes},
    ):
        yield


@contextmanager
def batch_spans(
    records: Sequence[ConsumerRecord[Any, Any]], name: str, **attributes: AttributeValue
) -> Iterator[None]:
    """One span per record, all open while one batch operation runs (e.g. one transaction).

    None is made current: the batch is one piece of work belonging to many traces.
    """
    if not tracing_enabled():
        yield
        return
    opened = [
        _tracer.start_span(
            name,
            context=_parent(record),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                **_record_attributes(record),
                "messaging.batch.message_count": len(records),
                **attributes,
            },
        )
        for record in records
    ]
    try:
        yield
    except BaseException as exc:
        for one in opened:
            one.record_exception(exc)
            one.set_status(trace.StatusCode.ERROR, type(exc).__name__)
        raise
    finally:
        for one in opened:
            one.end()


def _record_attributes(record: ConsumerRecord[Any, Any]) -> dict[str, AttributeValue]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
    }


@contextmanager
def span(name: str, **attributes: AttributeValue) -> Iterator[trace.Span | None]:
    """An internal span in the current trace (e.g. a model call); None when tracing is off."""
    if not tracing_enabled():
        yield None
        return
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def current_context() -> context.Context | None:
    """The current trace context, to resume around later work (None when tracing is off)."""
    return context.get_current() if tracing_enabled() else None


@contextmanager
def resumed(saved: context.Context | None) -> Iterator[None]:
    """Make `saved` (from `current_context`) current while inside."""
    if saved is None:
        yield
        return
    token = context.attach(saved)
    try:
        yield
    finally:
        context.detach(token)


@contextmanager
def publish_span(topic: str) -> Iterator[dict[str, str]]:
    """A producer span for one record sent by plain aiokafka (what FastStream's middleware does
    for its own publishes); yields the headers that carry it to the consumer."""
    if not tracing_enabled():
        yield {}
        return
    with _tracer.start_as_current_span(
        f"{topic} publish",
        kind=trace.SpanKind.PRODUCER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    ):
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        yield carrier
