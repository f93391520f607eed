"""Waiting for a child's readiness probe, the way a Kubernetes startup probe does.

A process that is alive but never ready (a start-up that hangs) is worse than one that dies:
nothing restarts it. So the caller gets `ServiceNotReady`, with what the probe last said, and
stops the process; the supervisor then treats it like any other crash.
"""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx

from interview_localinfra._process import ServiceStartError

PROBE_TIMEOUT_S = 2.0
PROBE_INTERVAL_S = 0.25


class ServiceNotReady(ServiceStartError):
    """A child is running but its readiness probe did not answer 200 in time."""


async def wait_ready(
    name: str, url: str, proc: subprocess.Popen[bytes], *, timeout_s: float
) -> None:
    """Return once `url` answers 200; raise if `proc` exits or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceStartError(f"{name} exited with code {proc.returncode}")
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                # Refused while the lifespan runs (uvicorn binds after it); a timeout means a
                # blocked event loop. Either way the message says which.
                last = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code} {response.text[:300]}"
            await asyncio.sleep(PROBE_INTERVAL_S)
    raise ServiceNotReady(f"{name} not ready after {timeout_s:.0f}s ({url}); last probe: {last}")
