"""SIGUSR1 logs where each asyncio task waits (interview_shared.task_dump)."""

from __future__ import annotations

import asyncio
import os

import structlog
from interview_shared.task_dump import DUMP_SIGNAL, dumping_tasks_on_signal


async def _inner_wait(never: asyncio.Event) -> None:
    await never.wait()


async def _waits_for_a_rebalance_that_never_ends(never: asyncio.Event) -> None:
    await _inner_wait(never)


async def test_the_signal_logs_the_frames_a_stuck_task_waits_in() -> None:
    never = asyncio.Event()
    stuck = asyncio.create_task(_waits_for_a_rebalance_that_never_ends(never), name="stuck")
    await asyncio.sleep(0)
    try:
        with structlog.testing.capture_logs() as logs, dumping_tasks_on_signal():
            os.kill(os.getpid(), DUMP_SIGNAL)
            for _ in range(100):  # the handler runs on the loop's next turns
                if logs:
                    break
                await asyncio.sleep(0.01)
    finally:
        stuck.cancel()

    [dump] = [entry for entry in logs if entry["event"] == "asyncio_tasks"]
    assert dump["log_level"] == "warning"
    [task] = [t for t in dump["tasks"] if t["task"] == "stuck"]
    assert task["coroutine"] == "_waits_for_a_rebalance_that_never_ends"
    # Every frame down the await chain, not only the task's own: the wait is two calls deep.
    frames = [line.rsplit(" in ", 1)[-1] for line in task["stack"].splitlines()]
    assert frames[:3] == ["_waits_for_a_rebalance_that_never_ends", "_inner_wait", "wait"]
    assert task["stack"].splitlines()[-1].startswith("  awaiting <")  # a future, at the bottom


async def test_outside_the_block_the_signal_is_not_handled_here() -> None:
    with dumping_tasks_on_signal():
        pass
    loop = asyncio.get_running_loop()
    assert not loop.remove_signal_handler(DUMP_SIGNAL)  # nothing left installed
