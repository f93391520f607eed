"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], Awaitable[bool]], *, timeout_s: float, interval_s: float = 0.2
) -> None:
    """Poll `predicate` until it holds; for effects of another process that nothing signals."""
    async with asyncio.timeout(timeout_s):
        while not await predicate():  # noqa: ASYNC110 - the condition lives in another process
            await asyncio.sleep(interval_s)
