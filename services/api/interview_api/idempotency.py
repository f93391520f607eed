"""`Idempotency-Key` on POST: a repeat gets the first response back and creates nothing.

Two layers, so that the guarantee holds across gateway replicas without a shared cache:
- Within a replica this middleware remembers, per (organisation, user, key), a hash of the
  request (path and body) and the response, for `IDEMPOTENCY_TTL_S`, bounded in size. A repeat
  with the same request replays the response; with another request it is a 422.
- Across replicas (or after a restart) `Context.new_id` derives the event id and the resource id
  from (user, key, route): a repeat that lands elsewhere publishes the same event id, which the
  store applies once, so it still creates nothing and answers with the same resource id.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field

from cachetools import TTLCache
from interview_shared.http import ApiError, error_response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interview_api.auth import TokenVerifier

HEADER = "idempotency-key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
REPLAYED = (b"idempotent-replayed", b"true")


@dataclass
class Recorded:
    """A finished response, as it went to the client."""

    fingerprint: str
    start: Message
    body: list[bytes] = field(default_factory=list)


class Idempotency:
    """ASGI middleware implementing the per-replica layer (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, verifier: TokenVerifier, ttl_s: float, size: int = 100_000
    ) -> None:
        self._app = app
        self._verifier = verifier
        self._done: TTLCache[tuple[str, str, str], Recorded] = TTLCache(size, ttl_s)
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache_key = await self._key(scope)
        if cache_key is None:
            await self._app(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        lock = self._locks.setdefault(cache_key, asyncio.Lock())
        try:
            async with lock:  # concurrent repeats wait for the first one's response
                if (done := self._done.get(cache_key)) is not None:
                    await _replay(done, digest, scope, receive, send)
                    return
                record = Recorded(digest, {})
                await self._app(scope, _replaying(body, receive), _recording(record, send))
                if _keep(record):
                    self._done[cache_key] = record
        finally:
            if not lock.locked():
                self._locks.pop(cache_key, None)

    async def _key(self, scope: Scope) -> tuple[str, str, str] | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if key is None or not KEY_PATTERN.match(key) or scheme.lower() != "bearer":
            return None  # the route answers (422 for a malformed key, 401 for no token)
        try:
            principal = await self._verifier.verify(token)
        except ApiError:
            return None
        return principal.org, principal.sub, key


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: wait for the disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _recording(record: Recorded, send: Send) -> Send:
    async def recording(message: Message) -> None:
        if message["type"] == "http.response.start":
            record.start = message
        elif message["type"] == "http.response.body":
            record.body.append(message.get("body", b""))
        await send(message)

    return recording


def _keep(record: Recorded) -> bool:
    """Remember final answers only: not a 5xx, 401 or 429 (retrying those is the point), and
    not a stream (a chat reply is live; the derived ids still stop a duplicate message)."""
    status = record.start.get("status", 500)
    streamed = b"text/event-stream" in dict(record.start.get("headers", [])).get(
        b"content-type", b""
    )
    return status < 500 and status not in (401, 429) and not streamed


async def _replay(done: Recorded, digest: str, scope: Scope, receive: Receive, send: Send) -> None:
    if done.fingerprint != digest:
        response = error_response(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with another request; use a new key.",
        )
        await response(scope, receive, send)
        return
    start = dict(done.start)
    start["headers"] = [*done.start.get("headers", []), REPLAYED]
    await send(start)
    await send({"type": "http.response.body", "body": b"".join(done.body), "more_body": False})
