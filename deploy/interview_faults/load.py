"""A steady stream of answers to the gateway, recorded in a ledger.

Requests are started on a fixed schedule, each in its own task, so one slow or hanging request
(the gateway waiting on a dead broker) does not slow the stream: the stream is what a crowd of
candidates would send, not what one polite client would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from interview_faults.ledger import Ledger

ANSWER_TEXT = (
    "A mutex gives mutual exclusion: one thread at a time holds the lock and enters the "
    "critical section; others block until it is released. Answer {n}."
)


async def _created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    created: dict[str, Any] = response.json()
    return created


async def interviews_in_progress(api: httpx.AsyncClient, count: int) -> list[tuple[str, str]]:
    """`count` interviews IN_PROGRESS about one question: [(interview id, question id)]."""
    email = f"faults-{uuid.uuid4().hex}@example.com"
    candidate = await _created(api, "/candidates", {"name": "Fault Suite", "email": email})
    question = await _created(
        api,
        "/questions",
        {
            "text": "What is a mutex?",
            "type": "technical",
            "difficulty": "easy",
            "skills": ["concurrency"],
            "reference_answer": "A lock that lets one thread at a time into a critical section.",
            "key_points": ["mutual exclusion", "one thread at a time"],
        },
    )
    pairs = []
    for i in range(count):
        interview = await _created(
            api,
            "/interviews",
            {
                "candidate_id": candidate["id"],
                "title": f"Faults {i}",
                "question_ids": [question["id"]],
            },
        )
        for status in ("READY", "IN_PROGRESS"):
            moved = await api.patch(f"/interviews/{interview['id']}", json={"status": status})
            if moved.status_code != 200:
                raise RuntimeError(f"PATCH interview: {moved.status_code} {moved.text}")
        pairs.append((interview["id"], question["id"]))
    return pairs


class AnswerStream:
    """Posts answers at `rate_per_s` across `targets` until stopped; fills `ledger`."""

    def __init__(
        self,
        api: httpx.AsyncClient,
        targets: list[tuple[str, str]],
        *,
        rate_per_s: float,
        ledger: Ledger | None = None,
        max_in_flight: int = 48,
    ) -> None:
        self.api = api
        self.targets = targets
        self.rate_per_s = rate_per_s
        self.ledger = ledger or Ledger()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sent = 0

    async def post_one(self) -> None:
        """One answer, recorded in the ledger whatever happens to it."""
        interview_id, question_id = self.targets[self._sent % len(self.targets)]
        self._sent += 1
        body = {"question_id": question_id, "text": ANSWER_TEXT.format(n=self._sent)}
        async with self._slots:
            sent_at = time.time()
            try:
                response = await self.api.post(f"/interviews/{interview_id}/answers", json=body)
            except httpx.HTTPError as exc:
                self.ledger.failed(exc)
                return
        self.ledger.answered(response.status_code, retry_after=response.headers.get("retry-after"))
        if response.status_code in (201, 202):
            answer_id = uuid.UUID(response.json()["id"])
            self.ledger.acknowledge(answer_id, uuid.UUID(interview_id), sent_at=sent_at)

    async def run(self, stop: asyncio.Event) -> Ledger:
        """Send until `stop` is set, then wait for the requests still in flight."""
        loop = asyncio.get_running_loop()
        interval = 1 / self.rate_per_s
        next_at = loop.time()
        while not stop.is_set():
            task = asyncio.create_task(self.post_one())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            next_at += interval
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - loop.time()))
            except TimeoutError:
                pass
        if self._tasks:
            await asyncio.gather(*self._tasks)
        return self.ledger

    async def send(self, count: int) -> Ledger:
        """Send exactly `count` answers at the stream's rate (a fault-free phase)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(count / self.rate_per_s, stop.set)
        return await self.run(stop)
