"""HTTP load with `wrk` (the tool a user would reach for), and the bare endpoint it is compared to.

The Lua script POSTs one JSON body with a unique `X-Correlation-Id` per request
(`<prefix><thread>-<n>`): the gateway copies it onto the events it publishes, so a scenario can
count on the topics which of its requests became answers and which of those were scored.
`done()` prints the summary as one JSON line, so nothing depends on wrk's human output.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interview_localinfra._process import free_port, terminate
from interview_localinfra.system import Service, spawn_service, wait_healthy

MARKER = "WRK_RESULT "
CONNECTIONS = 32
THREADS = 2  # one per core of the machine the targets are set for

_SCRIPT = """\
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
%(headers)slocal counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  counter = counter + 1
  wrk.headers["X-Correlation-Id"] = "%(prefix)s" .. tid .. "-" .. counter
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"non_2xx":%%d,"connect_errors":%%d,' ..
    '"read_errors":%%d,"write_errors":%%d,"timeouts":%%d,"p50_us":%%d,"p90_us":%%d,' ..
    '"p99_us":%%d,"max_us":%%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run saw (wrk counts any status >= 400 as non-2xx)."""

    requests: int
    duration_us: int
    non_2xx: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / (self.duration_us / 1e6)

    @property
    def socket_errors(self) -> int:
        """Requests that got no HTTP answer at all."""
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def ok(self) -> int:
        """Requests answered 2xx."""
        return self.requests - self.non_2xx


def wrk_path() -> str:
    """The wrk binary; `make bench` installs Debian's package when it is missing."""
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk not found: apt-get install -y wrk (make bench does this as root)")
    return path


async def run_wrk(
    url: str,
    body: dict[str, Any],
    *,
    seconds: float,
    prefix: str,
    connections: int = CONNECTIONS,
    headers: Mapping[str, str] | None = None,
) -> WrkResult:
    """POST `body` to `url` for `seconds` with `connections` connections (and `headers`, e.g.
    the bearer token); parse the summary."""
    lines = "".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in (headers or {}).items()
    )
    script = _SCRIPT % {
        "body": json.dumps(body),
        "prefix": prefix,
        "marker": MARKER,
        "headers": lines,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as file:
        file.write(script)
        file.flush()
        command = [
            wrk_path(),
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            file.name,
            url,
        ]
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith(MARKER)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    return WrkResult(**json.loads(line[len(MARKER) :]))


@asynccontextmanager
async def bare_endpoint(log_dir: Path) -> AsyncIterator[tuple[str, int]]:
    """Run `interview_bench.bare` on a free port, as the services are run; yield (URL, pid)."""
    service = Service("bare", "interview_bench.bare", "PORT", free_port())
    env = {**os.environ, "PORT": str(service.default_port)}
    proc = spawn_service(service, env, log_dir)
    try:
        await wait_healthy(service, env, proc, timeout_s=30)
        yield f"http://127.0.0.1:{service.default_port}", proc.pid
    finally:
        await terminate(proc, signal.SIGTERM, 10.0)
