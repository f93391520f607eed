"""Request limits: body size (413) and rate (429), before a request costs anything.

The rate limiter uses the `limits` library (moving window): a hand-written one would have to
get the window arithmetic, the key expiry and a shared backend right; `limits` does, and takes
a storage URI (`memory://` here, `redis://…` to share the count between gateway replicas).
"""

from __future__ import annotations

import math
import time

from interview_shared.http import ApiError, error_response
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(Exception):
    """The request body passed the limit while it was being received."""


class BodyLimit:
    """ASGI middleware: a body over `max_bytes` is a 413, decided from `Content-Length` before
    reading anything, or while the stream is counted (chunked uploads), never after reading
    the whole body into memory. A multipart/form-data body (a recording, a CV) may be up to
    `multipart_max_bytes`: the route that reads the file holds it to its own limit."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, multipart_max_bytes: int | None = None
    ) -> None:
        self._app = app
        self._max = max_bytes
        self._multipart_max = max(max_bytes, multipart_max_bytes or 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self._multipart_max if multipart else self._max
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counting() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLargeError
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            # Once over the limit, whatever the app answers (FastAPI turns the error raised
            # while parsing into a 400) is replaced by the 413.
            if exceeded:
                return
            started = True
            await send(message)

        try:
            await self._app(scope, counting, guarded)
        except BodyTooLargeError:
            pass
        if exceeded and not started:
            await self._reject(scope, receive, send, limit)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"The request body is larger than {limit} bytes.",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class RateLimiter:
    """`per_minute` requests per key in a moving window; over it, a 429 with Retry-After."""

    def __init__(self, per_minute: int, *, storage_uri: str = "memory://") -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def check(self, key: str) -> None:
        """Count one request of `key`; raise the 429 if it is over the limit."""
        if self._limiter.hit(self._item, key):
            return
        reset_at, _ = self._limiter.get_window_stats(self._item, key)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(
            429,
            "rate_limited",
            f"More than {self._item.amount} requests a minute; retry later.",
            headers={"Retry-After": str(retry_after)},
        )
