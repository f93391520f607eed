"""R7: the model endpoint fails every way a provider does, under a stream of judged answers.

The evaluator judges through the stand-in (`model.ModelStandIn`) with a short timeout, three
attempts per call and a breaker that opens after five failures for two seconds. The stand-in
goes through half its replies malformed, 429s, 503s, replies slower than the timeout and
requests it never answers, then recovers. Required: no acknowledged answer lost (none
dead-lettered), at most the configured attempts per model call (the evaluator's
`interview_judge_call_attempts` histogram), and consumption paused while the breaker is open:
in each outage phase, once the breaker has opened, only its half-open probes reach the model.
"""

from __future__ import annotations

import asyncio
import math
import re
import time

import httpx
from interview_localinfra.system import SERVICES

from interview_faults.model import Mode, ModelStandIn
from interview_faults.poison import dead_letters
from interview_faults.result import Result
from interview_faults.scenarios import Load, under_load
from interview_faults.system import System

ATTEMPTS, FAILURES, RESET_S, TIMEOUT_S = 3, 5, 2.0, 1.5
R7_ENV = {
    "JUDGE_MAX_ATTEMPTS": str(ATTEMPTS),
    "JUDGE_BREAKER_FAILURES": str(FAILURES),
    "JUDGE_BREAKER_RESET_S": str(RESET_S),
    "JUDGE_TIMEOUT_S": str(TIMEOUT_S),
}
PHASES: tuple[tuple[Mode, float], ...] = (
    ("malformed", 4.0),  # first, while the breaker is closed and answers flow
    ("429", 4.0),
    ("503", 5.0),
    ("slow", 5.0),
    ("hang", 5.0),
)
OUTAGES = {"429", "503", "slow", "hang"}
"""Phases in which every request fails: the breaker must open and hold calls back."""


async def attempts_per_call(system: System) -> tuple[int, int]:
    """(model calls made, calls that made more than `ATTEMPTS` requests), from /metrics."""
    service = next(s for s in SERVICES if s.name == "evaluator")
    url = f"http://127.0.0.1:{service.port(system.group.env)}/metrics"
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(url)).text
    total = within = 0
    for line in text.splitlines():
        if line.startswith("interview_judge_call_attempts_count"):
            total += int(float(line.rsplit(" ", 1)[1]))
        bucket = re.match(r'interview_judge_call_attempts_bucket\{le="([^"]+)"', line)
        if bucket and float(bucket.group(1)) == ATTEMPTS:
            within += int(float(line.rsplit(" ", 1)[1]))
    return total, total - within


def probes_while_open(model: ModelStandIn, start: float, end: float) -> tuple[int, int]:
    """(requests in an outage phase beyond those that opened the breaker, the probes allowed).

    The breaker opens after FAILURES failed calls; up to EVALUATOR_CONCURRENCY (8) calls were
    already on their way then. Every request after those is a half-open probe: at most one per
    RESET_S, plus one for the phase's edges.
    """
    hits = model.between(start, end)
    beyond = max(0, len(hits) - (FAILURES + 8))
    return beyond, math.ceil((end - start) / RESET_S) + 1


async def r7_model_faults(system: System) -> Result:
    """R7: the model endpoint returns 429, 5xx, timeouts, malformed JSON and hangs."""
    model = system.model
    if model is None:
        raise RuntimeError("R7 needs the model stand-in (plan entry with model=True)")
    windows: list[tuple[Mode, float, float]] = []

    async def fault(_: System) -> None:
        for mode, seconds in PHASES:
            began = time.monotonic()
            model.mode = mode
            await asyncio.sleep(seconds)
            windows.append((mode, began, time.monotonic()))
        model.mode = "ok"

    ledger, tally, drained = await under_load(system, fault, Load(rate_per_s=10, after_s=3))
    result = Result.of("R7 model endpoint faults", system.backend, ledger, tally, drained)
    result.require("drained within 120 s", drained is not None)
    prefix = system.group.env["CONSUMER_GROUP_PREFIX"]
    interviews = {str(i) for i in ledger.interviews()}  # an answer's key is its interview
    letters = [
        x
        for x in await dead_letters(system.infra.bootstrap, group=f"{prefix}-evaluator")
        if x.get("key") in interviews
    ]
    result.require("nothing dead-lettered by the evaluator", not letters)
    calls, over = await attempts_per_call(system)
    result.require(f"at most {ATTEMPTS} attempts per model call", calls > 0 and over == 0)
    paused = True
    counts = []
    for mode, start, end in windows:
        hits = len(model.between(start, end))
        if mode in OUTAGES:
            beyond, allowed = probes_while_open(model, start, end)
            paused = paused and beyond <= allowed
            counts.append(f"{mode} {hits} ({beyond} after opening, ≤{allowed})")
        else:
            counts.append(f"{mode} {hits}")
    result.require("consumption paused while the breaker is open", paused)
    result.notes.append(
        f"{calls} model calls, {over} over {ATTEMPTS} attempts; dead letters {len(letters)}; "
        f"requests per phase: {', '.join(counts)}; {len(model.hits)} requests in all"
    )
    return result
