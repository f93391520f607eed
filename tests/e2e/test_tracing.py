"""One answer is one trace: gateway, store and evaluator as processes, exporting over OTLP/HTTP
to a stand-in collector (a tiny HTTP server in this test that decodes the protobuf)."""

from __future__ import annotations

import gzip
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from flows import score_an_answer
from interview_localinfra._process import free_port
from interview_localinfra.system import ServiceGroup, local_service_env
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from support import AUTH_ENV, bearer, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


class Collector:
    """Spans received, flattened to (service name, span name, trace id, attributes)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def receive(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            )
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: str(a.value).strip() for a in span.attributes}
                    with self.lock:
                        self.spans.append((service, span.name, span.trace_id.hex(), attributes))

    def trace(self, trace_id: str) -> list[tuple[str, str]]:
        """(service, span name) of every span of one trace."""
        with self.lock:
            return [(svc, name) for svc, name, tid, _ in self.spans if tid == trace_id]

    def trace_of(self, attribute: str, value: str) -> str | None:
        """The trace id of the first span whose `attribute` is `value`."""
        with self.lock:
            return next(
                (tid for _, _, tid, attrs in self.spans if value in attrs.get(attribute, "")),
                None,
            )


@pytest.fixture
def collector() -> Iterator[tuple[Collector, int]]:
    """A stand-in OTLP/HTTP collector on a free port."""
    received = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                received.receive(body)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def traced_system(
    kafka_bootstrap: str, collector: tuple[Collector, int]
) -> AsyncIterator[ServiceGroup]:
    """The four services with tracing on, exporting every 100 ms."""
    env = local_service_env(
        AUTH_ENV
        | {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "CONSUMER_GROUP_PREFIX": f"traced-{uuid.uuid4().hex[:8]}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector[1]}",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
        drop=("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_", "OTEL_", "JWT_", "SERVICE_"),
    )
    async with ServiceGroup(env) as group:
        yield group


async def test_one_answer_is_one_trace_across_gateway_store_and_evaluator(
    traced_system: ServiceGroup, collector: tuple[Collector, int]
) -> None:
    received, _ = collector
    base = f"http://127.0.0.1:{traced_system.env['PORT']}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=bearer()) as api:
        answer_id, _ = await score_an_answer(api)

    wanted = {
        ("interview-api", "POST /api/v1/interviews/{interview_id}/answers"),
        ("interview-api", "interview.answers.v1 publish"),
        ("interview-store", "store persist"),
        ("interview-evaluator", "interview-evaluator-... handle"),
        ("interview-evaluator", "evaluator score"),
        ("interview-evaluator", "interview.evaluations.v1 publish"),
    }
    group = traced_system.env["CONSUMER_GROUP_PREFIX"] + "-evaluator handle"
    wanted = {(s, group if n.endswith("... handle") else n) for s, n in wanted}

    async def complete() -> bool:
        trace_id = received.trace_of("answer_id", answer_id)
        return trace_id is not None and wanted <= set(received.trace(trace_id))

    try:
        await eventually(complete, timeout_s=30, interval_s=0.2)
    except TimeoutError:
        trace_id = received.trace_of("answer_id", answer_id)
        found = sorted(set(received.trace(trace_id))) if trace_id else []
        pytest.fail(f"trace incomplete; missing {sorted(wanted - set(found))}, found {found}")
    trace_id = received.trace_of("answer_id", answer_id)
    assert trace_id is not None
    spans = received.trace(trace_id)
    # The store wrote both the answer and its verdict within this trace.
    assert spans.count(("interview-store", "store persist")) >= 2
