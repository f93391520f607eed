"""The bounded scenarios R1-R5: processes killed, stopped and starved under a stream of answers.

Each scenario takes a fresh `System` (its own consumer groups and database on the shared broker
and PostgreSQL), streams answers while it injects its fault, stops the stream, waits for the
drain and checks the ledger. Kill cycles are as short as the services allow: a service is
started again as soon as it is gone, so the counts of the issue (5x, 3x, 10x) fit in CI.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from interview_faults.check import Tally, drain, log_tally
from interview_faults.client import gateway_client
from interview_faults.ledger import Ledger
from interview_faults.load import AnswerStream, interviews_in_progress
from interview_faults.result import Result
from interview_faults.system import SERVICE_NAMES, System

Fault = Callable[[System], Awaitable[None]]


@dataclass(frozen=True)
class Load:
    """How hard a scenario pushes: answers per second, and quiet seconds around the fault."""

    rate_per_s: float = 10.0
    before_s: float = 1.0
    after_s: float = 1.0
    drain_timeout_s: float = 120.0


async def under_load(
    system: System, fault: Fault, load: Load = Load()
) -> tuple[Ledger, Tally, float | None]:
    """Stream answers, run `fault`, stop the stream, drain: (ledger, tally, drain seconds)."""
    async with gateway_client(system.gateway_port, token=system.token) as api:
        targets = await interviews_in_progress(api, 6)
        stream = AnswerStream(api, targets, rate_per_s=load.rate_per_s)
        stop = asyncio.Event()
        running = asyncio.create_task(stream.run(stop))
        try:
            await asyncio.sleep(load.before_s)
            await fault(system)
            await asyncio.sleep(load.after_s)
        finally:
            stop.set()
            ledger = await running
        tally, drained = await drain(api, ledger, timeout_s=load.drain_timeout_s)
    await log_tally(system.infra.bootstrap, ledger, tally)
    return ledger, tally, drained


async def r1_sigkill(system: System, *, kills: int = 5) -> Result:
    """R1: the evaluator and the store SIGKILLed `kills` times each, mid-stream."""

    async def fault(s: System) -> None:
        for _ in range(kills):
            await s.kill("evaluator")
            await asyncio.sleep(0.3)  # the store dies while the evaluator's batch is in flight
            await s.kill("store")
            await asyncio.gather(s.respawn("evaluator"), s.respawn("store"))
            await asyncio.sleep(0.5)

    ledger, tally, drained = await under_load(system, fault)
    result = Result.of("R1 SIGKILL evaluator+store 5x", system.backend, ledger, tally, drained)
    result.require("drained within 120 s", drained is not None and drained <= 120)
    result.notes.append(f"{kills} kills of each")
    return result


async def r5_sigterm(system: System, *, rounds: int = 10, grace_s: float = 20.0) -> Result:
    """R5: SIGTERM to each service `rounds` times mid-run; each must exit within `grace_s`."""

    async def cycle(s: System, name: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await s.sigterm(name, grace_s=grace_s + 5)  # measured, not cut off at the limit
        await s.respawn(name)

    async def fault(s: System) -> None:
        for _ in range(rounds):
            # Every service is restarted in every round, staggered so the gateway's in-flight
            # requests meet consumers that are stopping too.
            await asyncio.gather(*(cycle(s, n, 0.2 * i) for i, n in enumerate(SERVICE_NAMES)))

    ledger, tally, drained = await under_load(system, fault)
    result = Result.of("R5 SIGTERM each service 10x", system.backend, ledger, tally, drained)
    slowest = max(max(times) for times in system.exit_seconds.values())
    codes = {c for cs in system.exit_codes.values() for c in cs}
    result.require(f"each exits within {grace_s:.0f} s", slowest <= grace_s)
    # uvicorn re-raises the SIGTERM it handled once shutdown is complete: -15 is a clean exit.
    result.require("each exits by its own shutdown", codes <= {0, -signal.SIGTERM})
    result.require("drained within 120 s", drained is not None)
    counts = ", ".join(f"{n} {len(t)}x" for n, t in system.exit_seconds.items())
    result.notes.append(f"{counts}; slowest exit {slowest:.1f} s; exit codes {sorted(codes)}")
    return result


async def r3_postgres_crash(system: System, *, crashes: int = 3, down_s: float = 1.0) -> Result:
    """R3: PostgreSQL crashed (`pg_ctl stop -m immediate`) `crashes` times; the store must be
    ready again within 10 s of PostgreSQL."""
    recoveries: list[float | None] = []

    async def fault(s: System) -> None:
        for _ in range(crashes):
            await s.infra.postgres.stop("immediate")
            await asyncio.sleep(down_s)
            await s.infra.postgres.start()
            recoveries.append(await s.wait_ready("store", timeout_s=30))
            await asyncio.sleep(0.5)

    ledger, tally, drained = await under_load(system, fault)
    result = Result.of("R3 PostgreSQL crash 3x", system.backend, ledger, tally, drained)
    worst = max((r if r is not None else float("inf")) for r in recoveries)
    result.require("store ready within 10 s of PostgreSQL", worst <= 10)
    result.notes.append(f"store recovered in {', '.join(_s(r) for r in recoveries)}")
    return result


async def r2_kafka_kill(system: System, *, kills: int = 3, down_s: float = 1.0) -> Result:
    """R2: the broker SIGKILLed and restarted `kills` times; the gateway answers 503 with
    Retry-After meanwhile, never a 500 and never a 2xx it cannot keep."""
    restarts: list[float] = []

    async def fault(s: System) -> None:
        for _ in range(kills):
            await s.infra.kill_kafka()
            await asyncio.sleep(down_s)
            restarts.append(await s.infra.start_kafka())
            await asyncio.sleep(1.0)

    ledger, tally, drained = await under_load(system, fault, Load(after_s=2.0))
    result = Result.of("R2 Kafka SIGKILL 3x", system.backend, ledger, tally, drained)
    result.require("503 while the broker is down", ledger.statuses.get(503, 0) > 0)
    result.require("no 5xx but 503", ledger.internal_errors == 0)
    result.require("every 503 has Retry-After", ledger.unavailable_without_retry_after == 0)
    result.notes.append(
        f"503s {ledger.statuses.get(503, 0)}; broker restarts "
        + ", ".join(f"{r:.1f} s" for r in restarts)
    )
    return result


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


async def timed(scenario: Callable[[], Awaitable[Result]]) -> Result:
    """Run a scenario and note its wall time."""
    began = time.monotonic()
    result = await scenario()
    result.notes.append(f"run {time.monotonic() - began:.0f} s")
    return result
