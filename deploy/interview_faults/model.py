"""A stand-in for the model endpoint (R7): OpenAI-compatible chat completions whose failure mode
the scenario switches while answers stream.

Served by uvicorn inside the suite's event loop on 127.0.0.1. In mode `ok` it replies with a
valid verdict for whatever rubric the request's json_schema names; the other modes are the
failures a real provider shows: 429 with Retry-After, 5xx, replies slower than the judge's
timeout, bodies that are not JSON, and requests that are never answered. Every request is
recorded with its time and mode, so the scenario can count what reached the model while the
evaluator's breaker was open.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

Mode = Literal["ok", "429", "503", "slow", "malformed", "hang"]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Hit:
    """One request the stand-in received: when it arrived (monotonic) and in which mode."""

    at: float
    mode: Mode


@dataclass
class ModelStandIn:
    """The stand-in's state: the current mode and every request seen."""

    mode: Mode = "ok"
    slow_s: float = 5.0
    """How long `slow` waits before answering (more than the judge's timeout)."""
    malformed_share: float = 0.5
    """In `malformed`, the share of replies that are broken (the rest are fine)."""
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    rng: random.Random = field(default_factory=lambda: random.Random(9))
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the stand-in stops: hung requests then end instead of being cancelled."""

    def env(self) -> dict[str, str]:
        """The evaluator's settings that point its judge here."""
        return {"OPENAI_API_KEY": "sk-fault-suite-not-a-key", "OPENAI_BASE_URL": self.url}

    def between(self, start: float, end: float) -> list[Hit]:
        """Requests received in [start, end) (monotonic seconds)."""
        return [h for h in self.hits if start <= h.at < end]

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        mode = self.mode
        self.hits.append(Hit(time.monotonic(), mode))  # on arrival: a hung request counts too
        status, payload, headers = await self._reply(mode, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _reply(self, mode: Mode, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        json_type = {"content-type": "application/json"}
        if mode == "hang":
            await self.released.wait()  # until the client gives up (or the server stops)
            return 503, b"{}", json_type
        if mode == "429":
            error = {"error": {"message": "rate limited", "type": "requests"}}
            return 429, json.dumps(error).encode(), {**json_type, "retry-after": "1"}
        if mode == "503":
            error = {"error": {"message": "overloaded", "type": "server_error"}}
            return 503, json.dumps(error).encode(), json_type
        if mode == "slow":
            await asyncio.sleep(self.slow_s)
        if mode == "malformed" and self.rng.random() < self.malformed_share:
            return 200, b'{"id": "chatcmpl-broken", "choices": [{"index": 0, "mess', json_type
        return 200, json.dumps(_completion(json.loads(body or b"{}"))).encode(), json_type


def _completion(request: dict[str, Any]) -> dict[str, Any]:
    """A valid chat completion grading every criterion the request's schema allows at 70."""
    schema = request.get("response_format", {}).get("json_schema", {}).get("schema", {})
    item = schema.get("properties", {}).get("criteria", {}).get("items", {})
    names = item.get("properties", {}).get("name", {}).get("enum", [])
    criteria = [{"name": n, "score": 70, "rationale": "stand-in", "evidence": []} for n in names]
    content = json.dumps({"criteria": criteria, "feedback": "Fine.", "injection_detected": False})
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "stand-in"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140},
    }


@asynccontextmanager
async def model_stand_in() -> AsyncIterator[ModelStandIn]:
    """Serve a `ModelStandIn` on a free port of 127.0.0.1 for the duration of the block."""
    model = ModelStandIn()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    model.url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    config = uvicorn.Config(
        model.app, interface="asgi3", lifespan="off", log_level="warning", http="h11"
    )
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task  # raises what stopped it
            await asyncio.sleep(0.05)
        yield model
    finally:
        model.released.set()
        server.should_exit = True
        await task
        sock.close()
