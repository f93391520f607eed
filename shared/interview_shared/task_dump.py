"""`kill -USR1 <pid>` logs where every asyncio task of a service is waiting.

A consumer that stops without an error (a rebalance that never completes, an acknowledgement
that never comes) leaves nothing in its log; a thread dump shows only the event loop's
`select`. The awaiting coroutines' frames are what locate such a stall, in production as in
the fault suite (which asks for them when a scenario loses answers).
"""

from __future__ import annotations

import asyncio
import io
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from interview_shared.logging import get_logger

log = get_logger(__name__)

DUMP_SIGNAL = signal.SIGUSR1


def task_stacks() -> list[dict[str, str]]:
    """Every pending task of the running loop: its name, coroutine and awaiting frames."""
    stacks = []
    for task in sorted(asyncio.all_tasks(), key=lambda t: t.get_name()):
        frames = io.StringIO()
        task.print_stack(file=frames)
        coro = task.get_coro()
        stacks.append(
            {
                "task": task.get_name(),
                "coroutine": getattr(coro, "__qualname__", repr(coro)),
                "stack": frames.getvalue(),
            }
        )
    return stacks


def _dump() -> None:
    tasks = task_stacks()
    log.warning("asyncio_tasks", count=len(tasks), tasks=tasks)


@contextmanager
def dumping_tasks_on_signal() -> Iterator[None]:
    """While inside, `DUMP_SIGNAL` logs `task_stacks()` (at WARNING: the default level)."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(DUMP_SIGNAL, _dump)
    except (RuntimeError, ValueError):  # not the main thread (an app under a test client)
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(DUMP_SIGNAL)
