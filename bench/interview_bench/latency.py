"""P5: answers POSTed at a steady rate (open loop: a slow answer does not delay the next send);
for each, the time from its acceptance to its score being visible through the API.

- accepted: its `answer.submitted` event is on the log (read by the harness, matched by the
  correlation id it sent), the moment the system has taken it, whatever the HTTP answer's delay;
- visible: its `answer.evaluated` frame arrives on the interview's SSE stream (the gateway sends
  it only once the store has applied it), or the POST's response, if that already carries the
  score.

The client's view, from sending the POST to the score being visible, is reported beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from dataclasses import dataclass, field

import httpx

from interview_bench.system import BenchSystem, Seeded
from interview_bench.tally import Tally


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
    sent_p50_ms: float
    sent_p99_ms: float
    post_p50_ms: float
    post_p99_ms: float


@dataclass
class _Sent:
    """Per answer id: its correlation id, when it was sent and when its response came."""

    correlation: dict[str, bytes] = field(default_factory=dict)
    sent: dict[str, float] = field(default_factory=dict)
    post_ms: list[float] = field(default_factory=list)
    failures: int = 0


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
    async with (
        Tally(system.bootstrap, "p5-") as tally,
        httpx.AsyncClient(
            base_url=system.gateway, timeout=30, limits=limits, headers=system.headers
        ) as client,
    ):
        stream = _Stream(client, f"/interviews/{seeded.interview_id}/events")
        reader = asyncio.create_task(stream.read())
        try:
            await asyncio.wait_for(stream.opened.wait(), 10)
            sent = await _send(client, seeded, rate, seconds, stream)
            deadline = time.monotonic() + settle_s
            while sent.sent.keys() - stream.seen.keys():
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader
        accepted = {a: tally.submitted.get(c) for a, c in sent.correlation.items()}
    seen = [a for a in sent.sent if a in stream.seen]
    visible = [
        max(0.0, stream.seen[a] - at) * 1000 for a in seen if (at := accepted[a]) is not None
    ]
    from_send = [(stream.seen[a] - sent.sent[a]) * 1000 for a in seen]
    return P5Result(
        rate=rate,
        sent=round(rate * seconds),
        accepted=len(sent.sent),
        non_2xx=sent.failures,
        missing=len(sent.sent) - len(seen),
        p50_ms=_quantile(visible, 50),
        p99_ms=_quantile(visible, 99),
        max_ms=max(visible, default=float("nan")),
        sent_p50_ms=_quantile(from_send, 50),
        sent_p99_ms=_quantile(from_send, 99),
        post_p50_ms=_quantile(sent.post_ms, 50),
        post_p99_ms=_quantile(sent.post_ms, 99),
    )


async def _send(
    client: httpx.AsyncClient, seeded: Seeded, rate: float, seconds: float, stream: _Stream
) -> _Sent:
    path = f"/interviews/{seeded.interview_id}/answers"
    out = _Sent()

    async def one(i: int) -> None:
        correlation = f"p5-{i}"
        began = time.perf_counter()
        try:
            response = await client.post(
                path, json=seeded.answer_body, headers={"X-Correlation-Id": correlation}
            )
        except httpx.HTTPError:
            out.failures += 1
            return
        done = time.perf_counter()
        if response.status_code // 100 != 2:
            out.failures += 1
            return
        body = response.json()
        answer_id = body["id"]
        out.correlation[answer_id] = correlation.encode()
        out.sent[answer_id] = began
        out.post_ms.append((done - began) * 1000)
        if body.get("evaluation"):  # the response already carries the score
            stream.seen.setdefault(answer_id, done)

    started = time.perf_counter()
    tasks = []
    for i in range(round(rate * seconds)):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return out
