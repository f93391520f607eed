"""R6: the same replay twice through the API gives exactly one evaluation per answer and rubric
version: N under the old rubric, N under the new one, however often the replay is asked for.

Both requests run at once (the racing case the replay's idempotency must hold for: each judges
what it did not see judged) and then the same request a third time, which must judge nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

from interview_faults.check import drain, log_tally
from interview_faults.client import gateway_client
from interview_faults.load import AnswerStream, interviews_in_progress
from interview_faults.result import Result
from interview_faults.system import System

CRITERIA = [
    {"name": "accuracy", "description": "States mutual exclusion", "weight": 0.7},
    {"name": "clarity", "description": "Says it in a sentence", "weight": 0.3},
]
FINAL = {"completed", "capped", "failed"}


async def run_replay(api: httpx.AsyncClient, body: dict[str, Any], *, timeout_s: float) -> Any:
    """POST a replay and poll it to its end; its last state."""
    accepted = await api.post("/replays", json=body)
    if accepted.status_code != 202:
        raise RuntimeError(f"POST /replays: {accepted.status_code} {accepted.text}")
    replay_id = accepted.json()["id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = await api.get(f"/replays/{replay_id}")
        if got.status_code == 200 and got.json()["status"] in FINAL:
            return got.json()
        await asyncio.sleep(0.3)
    raise TimeoutError(f"replay {replay_id} did not finish in {timeout_s:.0f} s")


async def r6_replay_twice(system: System, *, answers: int = 100) -> Result:
    """R6: `answers` scored answers, a new rubric, the same replay twice at once, then again."""
    async with gateway_client(system.gateway_port, token=system.token) as api:
        targets = await interviews_in_progress(api, 6)
        ledger = await AnswerStream(api, targets, rate_per_s=25).send(answers)
        tally, first_drain = await drain(api, ledger, timeout_s=120)
        question_id = targets[0][1]
        changed = await api.put(f"/questions/{question_id}/rubric", json={"criteria": CRITERIA})
        if changed.status_code != 200:
            raise RuntimeError(f"PUT rubric: {changed.status_code} {changed.text}")
        new_version = changed.json()["rubric"]["version"]
        body = {"scope": {"interview_ids": sorted({t[0] for t in targets})}}
        began = time.monotonic()
        racing = await asyncio.gather(*(run_replay(api, body, timeout_s=120) for _ in range(2)))
        again = await run_replay(api, body, timeout_s=120)
        replay_s = time.monotonic() - began
        await asyncio.sleep(1.0)  # the last verdicts reach the store
        tally, _ = await drain(api, ledger, timeout_s=30)
    await log_tally(system.infra.bootstrap, ledger, tally)
    result = Result.of("R6 same replay twice", system.backend, ledger, tally, first_drain)
    per_version = Counter(version for (_, _, version) in tally.store_rows)
    n = len(ledger.acknowledged)
    result.require(f"{n} evaluations under the new rubric", per_version[new_version] == n)
    old = {v: c for v, c in per_version.items() if v != new_version}
    result.require(f"{n} under the old rubric", sum(old.values()) == n and len(old) == 1)
    states = [r["status"] for r in (*racing, again)]
    result.require("every replay completed", states == ["completed"] * 3)
    judged = sum(int(r["evaluated"]) for r in racing)
    result.require("the racing pair judged each answer once between them", judged >= n)
    result.require("the third run judged nothing", int(again["evaluated"]) == 0)
    result.notes.append(
        f"per rubric version {dict(sorted(per_version.items()))}; racing replays evaluated "
        f"{[r['evaluated'] for r in racing]}, skipped {[r['skipped'] for r in racing]}; third "
        f"evaluated {again['evaluated']}, skipped {again['skipped']}; replays {replay_s:.1f} s"
    )
    return result
