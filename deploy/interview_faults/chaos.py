"""The chaos run: random SIGKILLs of any service for minutes under load, then the ledger check.

Outside CI (five minutes of kills is too long for it): `make faults ARGS="--chaos-minutes 5"`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from interview_faults.result import Result
from interview_faults.scenarios import Load, under_load
from interview_faults.system import SERVICE_NAMES, System


async def chaos(system: System, *, minutes: float, seed: int | None = None) -> Result:
    """SIGKILL a random service every few seconds for `minutes`; restart it at once."""
    rng = random.Random(seed)
    kills: Counter[str] = Counter()

    async def fault(s: System) -> None:
        deadline = time.monotonic() + minutes * 60
        while time.monotonic() < deadline:
            victim = rng.choice(SERVICE_NAMES)
            await s.kill(victim)
            kills[victim] += 1
            await s.respawn(victim)
            await asyncio.sleep(rng.uniform(1.0, 5.0))

    ledger, tally, drained = await under_load(system, fault, Load(drain_timeout_s=180))
    result = Result.of(
        f"chaos {minutes:g} min random SIGKILL", system.backend, ledger, tally, drained
    )
    result.require("drained within 180 s", drained is not None)
    result.notes.append("kills: " + ", ".join(f"{n} {k}x" for n, k in sorted(kills.items())))
    return result
