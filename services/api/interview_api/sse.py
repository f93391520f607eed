"""Server-Sent Events framing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from interview_shared.events import Event

from interview_api.resume import sse_id


def frame(*, event: str, data: Any, event_id: str | None = None) -> str:
    """One SSE message: `event:` carries the event type, `data:` its JSON."""
    lines = [f"event: {event}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'), default=str)}")
    return "\n".join(lines) + "\n\n"


def event_frame(event: Event) -> str:
    """An SSE message carrying a domain event; its id lets a client resume (see resume.py)."""
    return frame(event=event.type, data=event.model_dump(mode="json"), event_id=sse_id(event))


RETRY_MS = 3000
RETRY = f"retry: {RETRY_MS}\n\n"
"""Tells the browser's EventSource how long to wait before reconnecting."""


async def with_heartbeats(
    queue: asyncio.Queue[Event | None], *, heartbeat_s: float
) -> AsyncIterator[Event | None]:
    """Yield events from `queue`, and None each `heartbeat_s` of silence (send a comment then)."""
    while True:
        try:
            event = await asyncio.wait_for(queue.get(), heartbeat_s)
        except TimeoutError:
            yield None
            continue
        if event is None:
            return
        yield event


HEARTBEAT = ": keep-alive\n\n"
