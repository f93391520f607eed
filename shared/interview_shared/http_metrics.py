"""HTTP latency histograms for every service, as a pure ASGI middleware.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: that one buffers nothing but wraps every
response in a task, which breaks the gateway's SSE streams on disconnect. The clock stops at the
status line, so a long-lived stream is measured by its time to first byte, not its lifetime.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interview_shared.metrics import HTTP_REQUEST_SECONDS


class HttpMetricsMiddleware:
    """Observes `interview_http_request_seconds` by route template, never by raw path."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time one request until its response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                HTTP_REQUEST_SECONDS.labels(
                    self.service, scope["method"], _route(scope), str(message["status"])
                ).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


def _route(scope: Scope) -> str:
    # The matched route's template keeps the label set small (ids stay out of it).
    route = scope.get("route")
    path: str | None = getattr(route, "path", None)
    return path or "unmatched"
