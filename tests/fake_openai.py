"""A scriptable OpenAI-compatible HTTP server for tests: real sockets, real HTTP, no internet.

A tiny ASGI app served by uvicorn on 127.0.0.1 in a background thread. Each test queues the
replies it wants (status, headers, delay, any body, malformed ones included), optionally per
model, and afterwards inspects the requests the server received.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Reply:
    """One scripted response."""

    status: int = 200
    body: bytes | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    chunks: tuple[bytes, ...] = ()
    """A streamed body: sent chunk by chunk, `chunk_delay_s` apart (then `body`, if any)."""
    chunk_delay_s: float = 0.0
    cut: bool = False
    """Drop the connection after the chunks instead of ending the body (a read error)."""


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any]
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of a chat-completions request."""
        return list(self.json.get("messages", []))


def criterion(
    name: str, score: float, *, evidence: list[str] | None = None, rationale: str = "ok"
) -> dict[str, Any]:
    """One criterion as a model would return it."""
    return {"name": name, "score": score, "rationale": rationale, "evidence": evidence or []}


def verdict(
    criteria: list[dict[str, Any]],
    *,
    feedback: str = "Good.",
    injection: bool = False,
    **extra: Any,
) -> str:
    """The JSON text of a model verdict; `extra` adds fields (a "total", say) to be ignored."""
    return json.dumps(
        {"criteria": criteria, "feedback": feedback, "injection_detected": injection, **extra}
    )


def completion(
    *contents: str,
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
    finish_reason: str = "stop",
    model: str = "gpt-4o-mini",
) -> Reply:
    """A 200 chat completion whose choices carry `contents`."""
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "finish_reason": finish_reason,
            "logprobs": None,
        }
        for i, content in enumerate(contents)
    ]
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": choices,
        "usage": usage,
    }
    return Reply(body=body, headers={"x-request-id": "req_test"})


def _chunk(delta: dict[str, Any], finish_reason: str | None, model: str) -> bytes:
    body = {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def streamed(
    *texts: str,
    chunk_delay_s: float = 0.0,
    refusal: str | None = None,
    finish_reason: str = "stop",
    model: str = "gpt-4o-mini",
) -> Reply:
    """A 200 streamed chat completion (`stream=true`): one chunk per text, then [DONE]."""
    chunks = [_chunk({"role": "assistant", "content": ""}, None, model)]
    chunks += [_chunk({"content": text}, None, model) for text in texts]
    if refusal is not None:
        chunks.append(_chunk({"refusal": refusal}, None, model))
    chunks += [_chunk({}, finish_reason, model), b"data: [DONE]\n\n"]
    return Reply(
        headers={"content-type": "text/event-stream"},
        chunks=tuple(chunks),
        chunk_delay_s=chunk_delay_s,
    )


def error(status: int, *, headers: dict[str, str] | None = None, delay_s: float = 0.0) -> Reply:
    """An OpenAI-style error response."""
    body = {"error": {"message": f"scripted {status}", "type": "test", "code": None}}
    return Reply(status=status, body=body, headers=headers or {}, delay_s=delay_s)


class FakeOpenAIServer:
    """The server; `enqueue` replies, call through `url`, read `received`."""

    def __init__(self) -> None:
        self._default: deque[Reply] = deque()
        self._by_model: dict[str, deque[Reply]] = {}
        self.received: list[Received] = []
        self.disconnects = 0
        """Streamed replies the client stopped reading before their end."""
        self.record = True
        """Keep every request in `received` (a benchmark turns it off)."""
        self.fallback: Reply | None = None
        """Served when nothing is queued (benchmarks); None: a loud 500."""
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        config = uvicorn.Config(
            self._app,
            interface="asgi3",  # auto-detection mistakes a bound method for ASGI2
            lifespan="off",
            loop="asyncio",
            http="h11",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, args=([self._sock],), daemon=True)

    def start(self) -> None:
        """Serve in the background; returns once the socket accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut down and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def reset(self) -> None:
        """Forget scripted replies and received requests (between tests)."""
        with self._lock:
            self._default.clear()
            self._by_model.clear()
            self.received.clear()
            self.disconnects = 0

    def enqueue(self, *replies: Reply, model: str | None = None) -> None:
        """Queue replies, served in order; `model` reserves them for requests for that model."""
        with self._lock:
            queue = self._default if model is None else self._by_model.setdefault(model, deque())
            queue.extend(replies)

    def _next(self, model: str | None) -> Reply:
        """The next reply for `model`, or a loud 500 when the test scripted none."""
        with self._lock:
            queue = self._by_model.get(model or "")
            if queue:
                return queue.popleft()
            if self._default:
                return self._default.popleft()
        if self.fallback is not None:
            return self.fallback
        return Reply(status=500, body={"error": {"message": "no scripted reply", "type": "test"}})

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application: record, look up the script, answer."""
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        # Audio uploads are multipart: only JSON bodies are decoded (`json` stays empty).
        is_json = headers.get("content-type", "").startswith("application/json")
        payload = json.loads(body) if body and is_json else {}
        with self._lock:
            if self.record:
                self.received.append(
                    Received(scope["method"], scope["path"], headers, payload, time.monotonic())
                )
        reply = self._next(payload.get("model"))
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.chunks:
            if not await _stream(send, receive, reply):
                with self._lock:
                    self.disconnects += 1
            return
        await _respond(send, reply)


async def _read_body(receive: Receive) -> bytes:
    """The whole request body."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def _respond(send: Send, reply: Reply) -> None:
    """Send `reply`; dict bodies go out as JSON, bytes as they are (malformed on purpose)."""
    is_json = isinstance(reply.body, dict)
    body = json.dumps(reply.body).encode() if isinstance(reply.body, dict) else reply.body
    headers = {"content-type": "application/json" if is_json else "text/plain", **reply.headers}
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Send, receive: Receive, reply: Reply) -> bool:
    """Send a streamed reply; False if the client went away before its end."""
    headers = [(k.encode(), v.encode()) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    gone = asyncio.ensure_future(receive())  # the next message is http.disconnect
    try:
        for chunk in reply.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            # A zero timeout still lets the loop notice a disconnect between two chunks.
            await asyncio.wait({gone}, timeout=reply.chunk_delay_s)
            if gone.done():
                return False
        if reply.cut:  # uvicorn closes the connection mid-body when the application fails
            raise RuntimeError("scripted cut")
        await send({"type": "http.response.body", "body": b""})
    except OSError:
        return False
    finally:
        gone.cancel()
    return True
