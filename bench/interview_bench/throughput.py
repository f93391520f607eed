"""P1 (gateway POST answers vs a bare endpoint) and P4 (sustained accepted -> scored), both under
wrk at 32 connections, with each service's CPU time per answer read from /proc.

CPU per answer counts from the start of the load until the system is idle again, so work a load
leaves behind (the evaluator's and the store's backlog) is billed to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from interview_evaluator.bench_service import cpu_seconds

from interview_bench.load import WrkResult, bare_endpoint, run_wrk
from interview_bench.system import BenchSystem, Seeded
from interview_bench.tally import Tally


@dataclass(frozen=True)
class P1Result:
    """Gateway and bare endpoint under the same load, same body."""

    gateway: WrkResult
    bare: WrkResult
    cpu_ms_per_answer: dict[str, float]
    bare_cpu_ms_per_request: float

    @property
    def ratio(self) -> float:
        """Gateway req/s over the bare endpoint's req/s."""
        return self.gateway.rate / self.bare.rate


@dataclass(frozen=True)
class P4Result:
    """Answers through the gateway for `seconds`, then until every one is scored."""

    seconds: float
    load: WrkResult
    submitted: int
    scored: int
    lost: int
    duplicates: int
    drained: bool
    accepted_rate: float
    scored_rate: float
    completion_rate: float
    drain_after_s: float
    cpu_ms_per_answer: dict[str, float]
    evaluator_drain_rate: float | None

    @property
    def ratio(self) -> float | None:
        """Scored/s during the load over the evaluator's own drain rate (P2, same run)."""
        if not self.evaluator_drain_rate:
            return None
        return self.scored_rate / self.evaluator_drain_rate


def answers_url(system: BenchSystem, seeded: Seeded) -> str:
    """The gateway route P1 and P4 load."""
    return f"{system.gateway}/interviews/{seeded.interview_id}/answers"


def per_answer(before: dict[str, float], after: dict[str, float], answers: int) -> dict[str, float]:
    """CPU milliseconds per answer for each service between two `BenchSystem.cpu()` readings."""
    return {name: (after[name] - before[name]) * 1000 / max(answers, 1) for name in after}


async def p1(
    system: BenchSystem, seeded: Seeded, *, seconds: float, warmup_s: float, logs: Path
) -> P1Result:
    """The bare endpoint first (nothing else loaded), then the gateway on the same body."""
    body = seeded.answer_body
    async with bare_endpoint(logs) as (base, pid):
        url = f"{base}/api/v1/interviews/{seeded.interview_id}/answers"
        await run_wrk(url, body, seconds=warmup_s, prefix="p1w-", headers=system.headers)
        cpu_before = cpu_seconds(pid)
        bare = await run_wrk(url, body, seconds=seconds, prefix="p1b-", headers=system.headers)
        bare_cpu = (cpu_seconds(pid) - cpu_before) * 1000 / max(bare.requests, 1)
    url = answers_url(system, seeded)
    await run_wrk(url, body, seconds=warmup_s, prefix="p1w-", headers=system.headers)
    await system.quiesce()
    before = system.cpu()
    gateway = await run_wrk(url, body, seconds=seconds, prefix="p1g-", headers=system.headers)
    await system.quiesce()
    return P1Result(gateway, bare, per_answer(before, system.cpu(), gateway.ok), bare_cpu)


async def p4(
    system: BenchSystem, seeded: Seeded, *, seconds: float, evaluator_drain_rate: float | None
) -> P4Result:
    """Load the gateway for `seconds`; then wait until every submitted answer is scored.

    The sustained rate is what was scored while the load ran: if the gateway accepts faster
    than the rest can score, a backlog builds and the scored rate is the system's, not wrk's.
    The drain afterwards proves nothing was lost; it waits as long as the backlog needs at the
    evaluator's own rate (three times over, at most ten minutes).
    """
    await system.quiesce()
    async with Tally(system.bootstrap, "p4-") as tally:
        before = system.cpu()
        started = time.perf_counter()
        url = answers_url(system, seeded)
        load = await run_wrk(
            url, seeded.answer_body, seconds=seconds, prefix="p4-", headers=system.headers
        )
        load_end = time.perf_counter()
        in_window = sum(1 for t in tally.evaluated.values() if t <= load_end)
        backlog = max(0, len(tally.submitted) - in_window)
        wait_s = min(600.0, 60 + 3 * backlog / max(evaluator_drain_rate or 0, 20.0))
        drained = await tally.until_scored(at_least=load.ok, timeout_s=wait_s)
        if drained:
            await system.quiesce()
        after = system.cpu()
        submitted, scored = len(tally.submitted), len(tally.evaluated)
        last = max(tally.evaluated.values(), default=load_end)
        return P4Result(
            seconds=seconds,
            load=load,
            submitted=submitted,
            scored=scored,
            lost=tally.lost,
            duplicates=tally.duplicates,
            drained=drained,
            accepted_rate=submitted / (load_end - started),
            scored_rate=in_window / (load_end - started),
            completion_rate=scored / (last - started),
            drain_after_s=max(0.0, last - load_end),
            cpu_ms_per_answer=per_answer(before, after, submitted),
            evaluator_drain_rate=evaluator_drain_rate,
        )
