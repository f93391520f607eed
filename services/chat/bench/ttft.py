"""Time to first token of the interviewer: through gateway + Kafka vs the model called directly.

Run: `make bench-chat` (or `uv run python services/chat/bench/ttft.py [--bootstrap HOST:PORT]`).

Starts a local Kafka (unless `--bootstrap`), the four services as processes (memory store) with
the LLM interviewer pointed at the test suite's streaming OpenAI-compatible stand-in
(`tests/fake_openai.py`, real HTTP), and measures, in the same run:

- direct: an `openai` client streaming from the stand-in, time to the first content chunk;
- gateway: `POST /api/v1/chat/sessions/{id}/messages` with `Accept: text/event-stream`, time to
  the first `chat.reply.delta` frame (gateway -> Kafka -> chat -> model -> Kafka -> gateway);
- 200 concurrent streams through the gateway, each in its own session.

Direct and gateway samples alternate, so both see the same machine load. Not part of any
service's runtime: a script beside the chat service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
from interview_localinfra import LocalKafka, ensure_topics
from interview_localinfra._process import free_port
from interview_localinfra.system import ServiceGroup
from interview_shared import topics
from interview_shared.auth import Role, mint_token, new_secret

ROOT = Path(__file__).resolve().parents[3]
TOKENS = 20
# The stand-in runs in a process of its own, as a model server would: in the benchmark's process
# it would compete for one interpreter with the 200 client streams it is measured by.
STAND_IN = f"""
import sys, threading
sys.path.insert(0, {str(ROOT / "tests")!r})
from fake_openai import FakeOpenAIServer, streamed
server = FakeOpenAIServer()
server.record = False
server.fallback = streamed(*[f"token{{i}} " for i in range({TOKENS})])
server.start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


@contextlib.contextmanager
def stand_in() -> Iterator[str]:
    """The streaming OpenAI-compatible stand-in as a subprocess; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", STAND_IN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def direct_ttft(client: openai.AsyncOpenAI) -> float:
    """Milliseconds to the first content chunk, calling the stand-in directly."""
    started = time.perf_counter()
    stream = await client.chat.completions.create(
        model="bench", messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    try:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                return (time.perf_counter() - started) * 1000
    finally:
        await stream.close()
    raise RuntimeError("no token")


async def gateway_ttft(api: httpx.AsyncClient, session_id: str) -> float:
    """Milliseconds to the first chat.reply.delta frame through the gateway."""
    started = time.perf_counter()
    first: float | None = None
    async with api.stream(
        "POST",
        f"/chat/sessions/{session_id}/messages",
        json={"content": "Hello, I am ready."},
        headers={"Accept": "text/event-stream"},
    ) as response:
        async for line in response.aiter_lines():
            if first is None and line == "event: chat.reply.delta":
                first = (time.perf_counter() - started) * 1000
            if line == "event: chat.reply.completed":
                break
    if first is None:
        raise RuntimeError("no delta")
    return first


async def setup_interview(api: httpx.AsyncClient) -> str:
    """A READY interview with one question; every session of the benchmark is about it."""

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.post(path, json=body)
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    candidate = await post(
        "/candidates", {"name": "Bench", "email": f"bench-{uuid.uuid4().hex}@example.com"}
    )
    question = await post("/questions", {"text": "What is a mutex?"})
    interview = await post(
        "/interviews",
        {"candidate_id": candidate["id"], "title": "Bench", "question_ids": [question["id"]]},
    )
    (await api.patch(f"/interviews/{interview['id']}", json={"status": "READY"})).raise_for_status()
    return str(interview["id"])


async def sessions(api: httpx.AsyncClient, interview_id: str, n: int) -> list[str]:
    """`n` new chat sessions about the interview."""
    out = []
    for _ in range(n):
        response = await api.post("/chat/sessions", json={"interview_id": interview_id})
        response.raise_for_status()
        out.append(str(response.json()["id"]))
    return out


def line(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {pct(values, 0.5):.1f} | {pct(values, 0.9):.1f} |"
        f" {pct(values, 0.99):.1f} |"
    )


async def run(args: argparse.Namespace) -> None:
    async with contextlib.AsyncExitStack() as stack:
        model_url = stack.enter_context(stand_in())
        bootstrap: str = args.bootstrap
        if not bootstrap:
            bootstrap = (await stack.enter_async_context(LocalKafka())).bootstrap_servers
        await ensure_topics(bootstrap, topics.ALL_TOPICS)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "DATABASE_", "JWT_", "SERVICE_", "RATE_"))
        }
        # The gateway is never open: a fresh secret and an admin's token for this run; one
        # subject sends every request, so the per-user rate limit is lifted.
        secret = new_secret()
        token = mint_token(secret, sub="bench-chat", org="default", role=Role.ADMIN, ttl_s=86400)
        env |= {
            "JWT_SECRET": secret,
            "SERVICE_API_KEY": new_secret(),
            "RATE_LIMIT_PER_MINUTE": str(10**9),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CONSUMER_GROUP_PREFIX": f"bench-chat-{uuid.uuid4().hex[:8]}",
            "PORT": str(free_port()),
            "STORE_PORT": str(free_port()),
            "EVALUATOR_PORT": str(free_port()),
            "CHAT_PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "INTERVIEWER_BASE_URL": model_url,
            "INTERVIEWER_API_KEY": "sk-bench",
            "INTERVIEWER_MODEL": "bench",
        }
        await stack.enter_async_context(ServiceGroup(env))
        limits = httpx.Limits(max_connections=args.concurrent + 10)
        base = f"http://127.0.0.1:{env['PORT']}/api/v1"
        api = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=base,
                timeout=60,
                limits=limits,
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        model = openai.AsyncOpenAI(base_url=model_url, api_key="sk-bench", max_retries=0)
        stack.push_async_callback(model.close)
        interview_id = await setup_interview(api)

        warm = await sessions(api, interview_id, args.warmup)
        for session_id in warm:
            await gateway_ttft(api, session_id)
            await direct_ttft(model)
        direct, gateway = [], []
        for session_id in await sessions(api, interview_id, args.samples):
            direct.append(await direct_ttft(model))
            gateway.append(await gateway_ttft(api, session_id))
        many = await sessions(api, interview_id, args.concurrent)
        concurrent = await asyncio.gather(*(gateway_ttft(api, s) for s in many))

    print("| time to first token (ms) | n | p50 | p90 | p99 |")
    print("|---|---|---|---|---|")
    print(line("model called directly", direct))
    print(line("gateway + Kafka + chat, one stream at a time", gateway))
    print(line(f"gateway + Kafka + chat, {args.concurrent} concurrent streams", concurrent))
    overhead = pct(gateway, 0.5) - pct(direct, 0.5)
    print()
    print(f"p50 overhead of gateway + Kafka over direct: {overhead:+.1f} ms (target <= +10 ms)")
    ratio = pct(concurrent, 0.99) / pct(gateway, 0.99)
    print(
        f"p99 with {args.concurrent} concurrent / p99 one at a time: {ratio:.2f}x (target <= 2x);"
        f" / p50 one at a time: {pct(concurrent, 0.99) / pct(gateway, 0.5):.2f}x"
    )


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="services/chat/bench/ttft.py")
    parser.add_argument("--bootstrap", default="", help="use this broker (default: start one)")
    parser.add_argument("--samples", type=int, default=200, help="sequential samples of each")
    parser.add_argument("--warmup", type=int, default=20, help="untimed samples first")
    parser.add_argument("--concurrent", type=int, default=200, help="concurrent streams")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
