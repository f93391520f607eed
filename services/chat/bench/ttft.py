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
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
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
for line in sys.stdin:  # "<tokens> <seconds between tokens>": the pace of the next phase
    tokens, delay = line.split()
    server.fallback = streamed(
        *[f"token{{i}} " for i in range(int(tokens))], chunk_delay_s=float(delay)
    )
    print("ok", flush=True)
server.stop()
"""


class StandIn:
    """The streaming OpenAI-compatible stand-in as a subprocess, at a pace the run sets."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        assert proc.stdin is not None
        self._proc = proc
        self.url = proc.stdout.readline().strip()

    def pace(self, tokens: int, delay_s: float) -> None:
        """Stream `tokens` content chunks, `delay_s` apart, from the next request on."""
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(f"{tokens} {delay_s}\n")
        self._proc.stdin.flush()
        assert self._proc.stdout.readline().strip() == "ok"


@contextlib.contextmanager
def stand_in() -> Iterator[StandIn]:
    """Start the stand-in in its own process; yields its handle."""
    proc = subprocess.Popen(
        [sys.executable, "-c", STAND_IN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        yield StandIn(proc)
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


@dataclass
class Stream:
    """One SSE reply's timings, in milliseconds from the POST."""

    accepted: float
    """The gateway's `chat.message.accepted` frame: the message is on the log."""
    first_token: float
    """The first `chat.reply.delta` frame."""
    token_made: float
    """When the chat service made that delta (its `occurred_at`; one machine, one clock)."""


class Open:
    """How many streams are open at once (the most of the run in `peak`)."""

    def __init__(self) -> None:
        self.now = self.peak = 0

    @contextlib.contextmanager
    def one(self) -> Iterator[None]:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            yield
        finally:
            self.now -= 1


async def gateway_ttft(
    api: httpx.AsyncClient, session_id: str, open_: Open | None = None
) -> Stream:
    """One message through the gateway, read to its `chat.reply.completed`."""
    started, wall = time.perf_counter(), time.time()
    accepted: float | None = None
    first: float | None = None
    made = 0.0
    data = False
    with open_.one() if open_ is not None else contextlib.nullcontext():
        async with api.stream(
            "POST",
            f"/chat/sessions/{session_id}/messages",
            json={"content": "Hello, I am ready."},
            headers={"Accept": "text/event-stream"},
        ) as response:
            async for line in response.aiter_lines():
                at = (time.perf_counter() - started) * 1000
                if accepted is None and line == "event: chat.message.accepted":
                    accepted = at
                if first is None and line == "event: chat.reply.delta":
                    first, data = at, True
                elif data and line.startswith("data: "):
                    occurred = json.loads(line[6:])["occurred_at"]
                    made = (datetime.fromisoformat(occurred).timestamp() - wall) * 1000
                    data = False
                if line == "event: chat.reply.completed":
                    break
    if first is None or accepted is None:
        raise RuntimeError("no delta")
    return Stream(accepted, first, made)


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


async def services(
    stack: contextlib.AsyncExitStack, args: argparse.Namespace, model_url: str
) -> str:
    """Kafka (unless `--bootstrap`) and the four services, the interviewer on the stand-in;
    returns the gateway's base URL."""
    bootstrap: str = args.bootstrap
    if not bootstrap:
        bootstrap = (await stack.enter_async_context(LocalKafka())).bootstrap_servers
    await ensure_topics(bootstrap, topics.ALL_TOPICS)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "DATABASE_", "JWT_", "SERVICE_", "RATE_"))
    }
    # The gateway is never open: a fresh secret and an admin's token for this run; one subject
    # sends every request, so the per-user rate limit is lifted.
    env |= {
        "JWT_SECRET": args.secret,
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
    return f"http://127.0.0.1:{env['PORT']}/api/v1"


async def staggered(
    api: httpx.AsyncClient, ids: list[str], over_s: float, open_: Open
) -> list[Stream]:
    """Start one stream per session, evenly spread over `over_s` seconds."""

    async def later(n: int, session_id: str) -> Stream:
        await asyncio.sleep(n * over_s / len(ids))
        return await gateway_ttft(api, session_id, open_)

    return await asyncio.gather(*(later(n, s) for n, s in enumerate(ids)))


async def run(args: argparse.Namespace) -> None:
    args.secret = new_secret()
    token = mint_token(args.secret, sub="bench-chat", org="default", role=Role.ADMIN, ttl_s=86400)
    async with contextlib.AsyncExitStack() as stack:
        model_stand_in = stack.enter_context(stand_in())
        base = await services(stack, args, model_stand_in.url)
        limits = httpx.Limits(max_connections=args.concurrent + 10)
        api = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=base,
                timeout=60,
                limits=limits,
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        model = openai.AsyncOpenAI(base_url=model_stand_in.url, api_key="sk-bench", max_retries=0)
        stack.push_async_callback(model.close)
        interview_id = await setup_interview(api)

        # Phase 1: the stand-in answers at once (20 chunks, no delay).
        for session_id in await sessions(api, interview_id, args.warmup):
            await gateway_ttft(api, session_id)
            await direct_ttft(model)
        direct: list[float] = []
        gateway: list[float] = []
        parts: list[Stream] = []
        for session_id in await sessions(api, interview_id, args.samples):
            direct.append(await direct_ttft(model))
            one = await gateway_ttft(api, session_id)
            gateway.append(one.first_token)
            parts.append(one)
        many = await sessions(api, interview_id, args.concurrent)
        burst = await asyncio.gather(*(gateway_ttft(api, s) for s in many))

        # Phase 2: a hosted model's pace, so that the streams overlap: each reply lasts
        # `paced_tokens * paced_delay_s`, and the streams start spread over that time.
        model_stand_in.pace(args.paced_tokens, args.paced_delay_s)
        reply_s = args.paced_tokens * args.paced_delay_s
        single = []
        for session_id in await sessions(api, interview_id, args.paced_samples):
            single.append((await gateway_ttft(api, session_id)).first_token)
        open_ = Open()
        overlapping = await staggered(
            api, await sessions(api, interview_id, args.concurrent), reply_s, open_
        )

    firsts = [s.first_token for s in burst]
    print("| time to first token (ms) | n | p50 | p90 | p99 |")
    print("|---|---|---|---|---|")
    print(line("model called directly", direct))
    print(line("gateway + Kafka + chat, one stream at a time", gateway))
    print(
        line(f"{args.concurrent} posted at the same instant: accepted", [s.accepted for s in burst])
    )
    print(line(f"{args.concurrent} posted at the same instant: first token", firsts))
    paced = f"{args.paced_tokens} tokens {args.paced_delay_s * 1000:.0f} ms apart"
    print(line(f"one stream at a time, {paced}", single))
    print(
        line(
            f"{args.concurrent} streams started over {reply_s:.1f} s, {paced}"
            f" (at most {open_.peak} open at once)",
            [s.first_token for s in overlapping],
        )
    )
    overhead = pct(gateway, 0.5) - pct(direct, 0.5)
    print()
    print(
        "one stream at a time, p50 from the POST (ms): gateway accepted"
        f" {pct([s.accepted for s in parts], 0.5):.1f}; chat made the first delta"
        f" {pct([s.token_made for s in parts], 0.5):.1f}; it reached the client"
        f" {pct([s.first_token - s.token_made for s in parts], 0.5):.1f} later"
    )
    print(f"p50 overhead of gateway + Kafka over direct: {overhead:+.1f} ms (target <= +10 ms)")
    print(
        f"burst: p99 of {args.concurrent} / p99 one at a time:"
        f" {pct(firsts, 0.99) / pct(gateway, 0.99):.2f}x (target <= 2x)"
    )
    ratio = pct([s.first_token for s in overlapping], 0.99) / pct(single, 0.99)
    print(f"{open_.peak} open streams: p99 / p99 one at a time: {ratio:.2f}x (target <= 2x)")


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="services/chat/bench/ttft.py")
    parser.add_argument("--bootstrap", default="", help="use this broker (default: start one)")
    parser.add_argument("--samples", type=int, default=200, help="sequential samples of each")
    parser.add_argument("--warmup", type=int, default=20, help="untimed samples first")
    parser.add_argument("--concurrent", type=int, default=200, help="concurrent streams")
    parser.add_argument("--paced-tokens", type=int, default=60, help="tokens per paced reply")
    parser.add_argument(
        "--paced-delay-s", type=float, default=0.04, help="seconds between paced tokens"
    )
    parser.add_argument("--paced-samples", type=int, default=30, help="paced streams one by one")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
