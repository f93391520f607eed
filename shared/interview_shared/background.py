"""A coroutine that runs beside a block of code and ends with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def in_background(
    coro: Coroutine[Any, Any, None], *, name: str | None = None
) -> AsyncIterator[asyncio.Task[None]]:
    """Run `coro` as a task while inside; on the way out cancel it and wait until it is gone."""
    task = asyncio.create_task(coro, name=name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
