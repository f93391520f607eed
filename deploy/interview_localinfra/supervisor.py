"""Keeps `make run`'s children alive: a child that dies is restarted after a back-off.

A crash loop (a service that dies again and again, e.g. on a bad setting) is not worth hiding:
after `max_crashes` crashes within `window_s` the supervisor gives up and stops everything, so
the operator sees the error instead of a system that flaps forever.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from interview_localinfra._process import ServiceStartError


@dataclass(frozen=True)
class RestartPolicy:
    """How quickly to restart a dead child, and when to stop trying."""

    max_crashes: int = 5
    window_s: float = 60.0
    first_delay_s: float = 0.5
    max_delay_s: float = 15.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> RestartPolicy:
        """The policy, with `SUPERVISOR_MAX_CRASHES` and `SUPERVISOR_CRASH_WINDOW_S` honoured."""
        return cls(
            max_crashes=int(env.get("SUPERVISOR_MAX_CRASHES", cls.max_crashes)),
            window_s=float(env.get("SUPERVISOR_CRASH_WINDOW_S", cls.window_s)),
        )


class CrashHistory:
    """The recent crashes of one child: the back-off before the next restart, or give up."""

    def __init__(self, policy: RestartPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._crashes: deque[float] = deque()

    @property
    def recent(self) -> int:
        """Crashes within the policy's window, the last one included."""
        return len(self._crashes)

    def crashed(self) -> float | None:
        """Record a crash now; return the delay before restarting, or None to give up."""
        now = self._clock()
        self._crashes.append(now)
        while self._crashes and self._crashes[0] < now - self._policy.window_s:
            self._crashes.popleft()
        if len(self._crashes) > self._policy.max_crashes:
            return None
        delay: float = self._policy.first_delay_s * 2 ** (len(self._crashes) - 1)
        return min(delay, self._policy.max_delay_s)


def describe_exit(code: int) -> str:
    """`exited with code 1`, or `was killed by SIGKILL` for a signal (Popen's negative code)."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Child(Protocol):
    """A supervised process: Kafka or one service."""

    name: str

    def exit_code(self) -> int | None:
        """The exit code once the process has died; None while it runs."""
        ...

    async def restart(self) -> None:
        """Start the process again and wait until it is ready."""
        ...


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`; True if `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def supervise(
    child: Child,
    *,
    policy: RestartPolicy,
    stop: asyncio.Event,
    say: Callable[[str], None],
    poll_s: float = 0.25,
) -> bool:
    """Restart `child` whenever it dies until `stop` is set; False if it gave up (crash loop).

    On giving up it sets `stop` itself: without that child the system does not work.
    """
    history = CrashHistory(policy)
    while not await _sleep_unless(stop, poll_s):
        code = child.exit_code()
        if code is None:
            continue
        delay = history.crashed()
        if delay is None:
            say(
                f"{child.name} {describe_exit(code)}: {history.recent} crashes within "
                f"{policy.window_s:.0f}s; giving up and stopping everything"
            )
            stop.set()
            return False
        say(
            f"{child.name} {describe_exit(code)}; restarting in {delay:.1f}s "
            f"(crash {history.recent} of {policy.max_crashes} allowed "
            f"within {policy.window_s:.0f}s)"
        )
        if await _sleep_unless(stop, delay):
            return True
        try:
            await child.restart()
        except ServiceStartError as exc:
            say(f"{child.name} did not come back: {exc}")
            continue
        say(f"{child.name} restarted and ready")
    return True
