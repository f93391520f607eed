"""P5: answers POSTed at a steady rate (open loop: a slow answer does not delay the next send);
for each, the time from its accepted response to its score being visible through the API, i.e.
its `answer.evaluated` frame on the interview's SSE stream (which the gateway sends only once
the store has applied it), or the accepted response itself when it already carries the score.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from dataclasses import dataclass

import httpx

from interview_bench.system import BenchSystem, Seeded


@dataclass(frozen=True)
class P5Result:
    """Latencies in milliseconds."""

    rate: float
    sent: int
    accepted: int
    non_2xx: int
    missing: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    accept_p50_ms: float
    accept_p99_ms: float


def _quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class _Stream:
    """The interview's SSE stream: when each answer's `answer.evaluated` frame arrived."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client, self._url = client, url
        self.seen: dict[str, float] = {}
        self.opened = asyncio.Event()

    async def read(self) -> None:
        async with self._client.stream("GET", self._url, timeout=None) as response:
            response.raise_for_status()
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                    self.opened.set()
                elif line.startswith("data:") and kind == "answer.evaluated":
                    answer_id = json.loads(line[5:])["answer_id"]
                    self.seen.setdefault(answer_id, time.perf_counter())


async def p5(
    system: BenchSystem, seeded: Seeded, *, rate: float, seconds: float, settle_s: float = 30
) -> P5Result:
    """POST `rate` answers a second for `seconds`; measure accept -> score visible."""
    await system.quiesce()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=system.gateway, timeout=30, limits=limits) as client:
        stream = _Stream(client, f"/interviews/{seeded.interview_id}/events")
        reader = asyncio.create_task(stream.read())
        try:
            await asyncio.wait_for(stream.opened.wait(), 10)
            accepted, accept_ms, failures = await _send(client, seeded, rate, seconds, stream)
            deadline = time.monotonic() + settle_s
            while accepted.keys() - stream.seen.keys():
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader
    visible = [max(0.0, stream.seen[a] - t) * 1000 for a, t in accepted.items() if a in stream.seen]
    return P5Result(
        rate=rate,
        sent=round(rate * seconds),
        accepted=len(accepted),
        non_2xx=failures,
        missing=len(accepted) - len(visible),
        p50_ms=_quantile(visible, 50),
        p99_ms=_quantile(visible, 99),
        max_ms=max(visible, default=float("nan")),
        accept_p50_ms=_quantile(accept_ms, 50),
        accept_p99_ms=_quantile(accept_ms, 99),
    )


async def _send(
    client: httpx.AsyncClient, seeded: Seeded, rate: float, seconds: float, stream: _Stream
) -> tuple[dict[str, float], list[float], int]:
    path = f"/interviews/{seeded.interview_id}/answers"
    accepted: dict[str, float] = {}
    accept_ms: list[float] = []
    failures = 0

    async def one(i: int) -> None:
        nonlocal failures
        sent = time.perf_counter()
        headers = {"X-Correlation-Id": f"p5-{i}"}
        try:
            response = await client.post(path, json=seeded.answer_body, headers=headers)
        except httpx.HTTPError:
            failures += 1
            return
        done = time.perf_counter()
        if response.status_code // 100 != 2:
            failures += 1
            return
        body = response.json()
        accepted[body["id"]] = done
        accept_ms.append((done - sent) * 1000)
        if body.get("evaluation"):  # the 202 already carries the score
            stream.seen.setdefault(body["id"], done)

    started = time.perf_counter()
    tasks = []
    for i in range(round(rate * seconds)):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return accepted, accept_ms, failures
