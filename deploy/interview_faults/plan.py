"""Which scenario runs on which store, and the loop that runs them one after another."""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from interview_faults import chaos, model_faults, poison, replays, scenarios
from interview_faults.model import ModelStandIn, model_stand_in
from interview_faults.result import LOST_CHECK, Result
from interview_faults.stall import group_notes
from interview_faults.system import Backend, Infra, System, infra, system


@dataclass(frozen=True)
class Entry:
    """One scenario: its run, the stores it applies to, settings it needs, and whether the
    evaluator judges through the model stand-in (else it uses the offline scorer)."""

    run: Callable[[System], Awaitable[Result]]
    stores: tuple[Backend, ...] = ("memory", "postgres")
    env: Mapping[str, str] = field(default_factory=dict)
    model: bool = False


PLAN: dict[str, Entry] = {
    "R1": Entry(scenarios.r1_sigkill),
    "R2": Entry(scenarios.r2_kafka_kill),
    "R3": Entry(scenarios.r3_postgres_crash, stores=("postgres",)),
    "R4": Entry(poison.r4_poison),
    "R5": Entry(scenarios.r5_sigterm),
    "R6": Entry(replays.r6_replay_twice),
    "R7": Entry(model_faults.r7_model_faults, env=model_faults.R7_ENV, model=True),
}


async def run_one(base: Infra, name: str, store: Backend, *, log_dir: Path | None = None) -> Result:
    """One scenario on one store, on a fresh set of services."""
    entry = PLAN[name]
    began = time.monotonic()
    logs = log_dir / f"{name}-{store}" if log_dir is not None else None
    stand_in: AbstractAsyncContextManager[ModelStandIn | None] = (
        model_stand_in() if entry.model else nullcontext(None)
    )
    try:
        async with stand_in as model:
            env = {**entry.env, **(model.env() if model else {})}
            async with system(base, store, extra_env=env, log_dir=logs) as running:
                running.model = model
                result = await _located(await entry.run(running), running)
    except Exception as exc:
        result = Result(name, store)
        result.require(f"ran ({type(exc).__name__}: {exc})", False)
        traceback.print_exc()
    result.notes.append(f"run {time.monotonic() - began:.0f} s")
    return result


async def run_plan(
    *,
    names: list[str],
    stores: list[str],
    chaos_minutes: float,
    log_dir: Path,
    say: Callable[[str], None],
) -> list[Result]:
    """Every chosen scenario on every chosen store it applies to, serially."""
    results: list[Result] = []
    async with infra(log_dir) as base:
        for name in names:
            for store in PLAN[name].stores:
                if store not in stores:
                    continue
                say(f"{name} on {store}...")
                result = await run_one(base, name, store, log_dir=log_dir)
                say(f"{name} on {store}: {'pass' if result.passed else result.failures()}")
                results.append(result)
        if chaos_minutes > 0:
            for chosen in stores:
                say(f"chaos run ({chaos_minutes:g} min) on {chosen}...")
                results.append(await run_chaos(base, chosen, chaos_minutes, log_dir=log_dir))
    return results


async def run_chaos(base: Infra, store: str, minutes: float, *, log_dir: Path) -> Result:
    """The chaos run on one store."""
    backend: Backend = "postgres" if store == "postgres" else "memory"
    async with system(base, backend, log_dir=log_dir / f"chaos-{store}") as running:
        return await _located(await chaos.chaos(running, minutes=minutes), running)


async def _located(result: Result, running: System) -> Result:
    """The result, with its consumers' state noted when it lost answers (while they run)."""
    if not result.checks.get(LOST_CHECK, True):
        result.notes += await group_notes(running)
        asked = await running.dump_tasks()
        result.notes.append(f"task stacks and consumer states logged by {', '.join(asked)}")
    return result
