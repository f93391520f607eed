"""`kill -USR1 <pid>` logs where every asyncio task of a service is waiting, and what each of
its Kafka consumers believes (`consumer_dump`).

A consumer that stops without an error (a rebalance that never completes, an acknowledgement
that never comes) leaves nothing in its log; a thread dump shows only the event loop's
`select`. The awaiting coroutines' frames are what locate such a stall, in production as in
the fault suite (which asks for them when a scenario loses answers).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from interview_shared.consumer_dump import consumer_states
from interview_shared.logging import get_logger

log = get_logger(__name__)

DUMP_SIGNAL = signal.SIGUSR1


def await_chain(coro: object) -> str:
    """The frames a suspended coroutine waits in, outermost first, down to what it awaits.

    `Task.print_stack` shows only a task's own coroutine frame: where a consumer's fetch waits
    inside the client (a lock, a connection) is in the coroutines it awaits."""
    lines = []
    current: Any = coro
    for _ in range(64):  # a chain is a few dozen frames deep at most
        frame = _first_of(current, _FRAME_ATTRS)
        if frame is None:
            lines.append(f"  awaiting {repr(current)[:300]}")
            break
        code = frame.f_code
        lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}")
        current = _first_of(current, _AWAITED_ATTRS)
        if current is None:
            break
    return "\n".join(lines)


# A coroutine, a generator-based coroutine and an async generator name them differently.
_FRAME_ATTRS = ("cr_frame", "gi_frame", "ag_frame")
_AWAITED_ATTRS = ("cr_await", "gi_yieldfrom", "ag_await")


def _first_of(obj: object, names: tuple[str, ...]) -> Any:
    return next((v for v in (getattr(obj, n, None) for n in names) if v is not None), None)


def task_stacks() -> list[dict[str, str]]:
    """Every pending task of the running loop: its name, coroutine and awaiting frames."""
    stacks = []
    for task in sorted(asyncio.all_tasks(), key=lambda t: t.get_name()):
        coro = task.get_coro()
        stacks.append(
            {
                "task": task.get_name(),
                "coroutine": getattr(coro, "__qualname__", repr(coro)),
                "stack": await_chain(coro),
            }
        )
    return stacks


def _dump() -> None:
    tasks = task_stacks()
    log.warning("asyncio_tasks", count=len(tasks), tasks=tasks)
    log.warning("kafka_consumers", consumers=consumer_states())


@contextmanager
def dumping_tasks_on_signal() -> Iterator[None]:
    """While inside, `DUMP_SIGNAL` logs `task_stacks()` and `consumer_states()` (at WARNING:
    the default level)."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(DUMP_SIGNAL, _dump)
        installed = True
    except (RuntimeError, ValueError):  # not the main thread (an app under a test client)
        installed = False
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(DUMP_SIGNAL)
