"""The restart policy of `make run`'s supervisor, with a fake clock and fake children."""

from __future__ import annotations

import asyncio

from interview_localinfra.supervisor import CrashHistory, RestartPolicy, describe_exit, supervise

POLICY = RestartPolicy(max_crashes=3, window_s=60, first_delay_s=0.001, max_delay_s=0.004)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_back_off_doubles_up_to_the_cap_and_gives_up_after_max_crashes() -> None:
    history = CrashHistory(POLICY, Clock())
    assert [history.crashed() for _ in range(4)] == [0.001, 0.002, 0.004, None]


def test_crashes_outside_the_window_are_forgotten() -> None:
    clock = Clock()
    history = CrashHistory(POLICY, clock)
    for _ in range(3):
        assert history.crashed() is not None
        clock.now += 30.1  # each crash 30 s after the last: at most two within 60 s
    assert history.crashed() == 0.002
    assert history.recent == 2


def test_exit_codes_are_told_apart_from_signals() -> None:
    assert describe_exit(-9) == "was killed by SIGKILL"
    assert describe_exit(1) == "exited with code 1"


class FlakyChild:
    """Dies `deaths` times (once right after each restart), then runs."""

    def __init__(self, deaths: int) -> None:
        self.name = "evaluator"
        self.deaths = deaths
        self.restarts = 0
        self.running = asyncio.Event()

    def exit_code(self) -> int | None:
        if self.restarts < self.deaths:
            return -9
        self.running.set()
        return None

    async def restart(self) -> None:
        self.restarts += 1


async def test_a_child_that_dies_is_restarted_and_the_system_keeps_running() -> None:
    child, stop, said = FlakyChild(deaths=2), asyncio.Event(), list[str]()
    task = asyncio.create_task(
        supervise(child, policy=POLICY, stop=stop, say=said.append, poll_s=0.001)
    )
    await asyncio.wait_for(child.running.wait(), 5)
    stop.set()
    assert await task is True
    assert child.restarts == 2
    assert said[0] == (
        "evaluator was killed by SIGKILL; restarting in 0.0s (crash 1 of 3 allowed within 60s)"
    )


async def test_a_crash_loop_gives_up_and_stops_everything() -> None:
    child, stop, said = FlakyChild(deaths=100), asyncio.Event(), list[str]()
    gave_up = not await asyncio.wait_for(
        supervise(child, policy=POLICY, stop=stop, say=said.append, poll_s=0.001), 5
    )
    assert gave_up
    assert stop.is_set()
    assert child.restarts == 3
    assert "4 crashes within 60s; giving up" in said[-1]
