"""Process plumbing shared by the local Kafka and Postgres runners."""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

# How often to look at a child process while waiting for it; short because start-up and
# shutdown are measured in tenths of a second for Postgres.
POLL_INTERVAL_S = 0.05


class MissingToolError(RuntimeError):
    """A program the local infrastructure needs is not installed; the message says how to fix."""


class ServiceStartError(RuntimeError):
    """A local service exited or did not become ready; the message carries its log tail."""


def require_tool(name: str, install_hint: str) -> str:
    """Return the absolute path of ``name`` on PATH, or raise with a one-line install hint."""
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(install_hint)
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free now and that this process has not handed out before.

    Not the kernel's `bind(0)`: that draws from the ephemeral range, where two calls in a row
    can return the same port (seen: the chat service and the store were given one port, the
    store failed to bind, and its readiness probe was answered by chat), and where any
    outgoing connection made before the service binds may take it. Ports below that range
    are never given to outgoing connections. Another process may still bind one first; that is
    acceptable for a test machine and simpler than reading the port back from a service's log.
    """
    low, _ = _ephemeral_range()
    # A kernel whose ephemeral range starts low leaves no such gap: then any port will do.
    top = low if low - _LOWEST_PORT >= 1000 else 65536
    for _ in range(1000):
        port = random.randrange(_LOWEST_PORT, top)
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise OSError(f"no free TCP port on {host} in {_LOWEST_PORT}-{top - 1}")


_LOWEST_PORT = 20000  # above the well-known and most registered service ports
_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux; else IANA's)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def orphan_guard() -> list[str]:
    """Command prefix that makes the kernel SIGKILL the child if this Python process dies.

    Without it a crashed or SIGKILLed test run (e.g. pytest-timeout's thread method, which calls
    os._exit) would leave a 350 MB JVM or a postmaster running. ``setpriv`` (util-linux, present
    on every Debian) sets PR_SET_PDEATHSIG and then execs the real program, so the pid we hold is
    the service's own pid. The kernel ties the signal to the *thread* that forked the child, so
    services must be started from a long-lived thread (the event loop's), never from a worker.
    """
    setpriv = shutil.which("setpriv")
    if not sys.platform.startswith("linux") or setpriv is None:
        return []
    return [setpriv, "--pdeathsig", "KILL", "--"]


def rss_bytes(pid: int) -> int | None:
    """Resident set size of ``pid`` from /proc, or None where /proc is unavailable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024  # the kernel reports kB
    return None


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, for error messages; empty if it is unreadable."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


async def wait_for_exit(proc: subprocess.Popen[bytes], within_s: float) -> bool:
    """Wait up to ``within_s`` seconds for ``proc`` to exit without blocking the event loop.

    Polling a Popen (rather than using asyncio subprocesses) keeps the process usable from any
    event loop, which matters because pytest may tear fixtures down on a different loop.
    """
    deadline = time.monotonic() + within_s
    while proc.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_INTERVAL_S)
    return True


async def terminate(
    proc: subprocess.Popen[bytes],
    first_signal: signal.Signals,
    grace_s: float,
) -> None:
    """Send ``first_signal`` for an orderly stop; SIGKILL if the process outlives ``grace_s``."""
    if proc.poll() is not None:
        return
    proc.send_signal(first_signal)
    if await wait_for_exit(proc, grace_s):
        return
    proc.kill()
    # SIGKILL cannot be ignored; the bounded wait only guards against an unkillable D-state.
    await wait_for_exit(proc, 10.0)


class LocalServer:
    """A server run as a child process (`_proc`): `async with` starts it, then stops it and
    removes its files. Subclasses implement `start`, `stop` and `cleanup`."""

    _proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server process's pid while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def exit_code(self) -> int | None:
        """The exit code if the server process has died on its own; None while it runs."""
        return self._proc.poll() if self._proc is not None else None

    def rss_bytes(self) -> int | None:
        """The server process's resident memory (not its children's), or None when stopped."""
        pid = self.pid
        return rss_bytes(pid) if pid is not None else None

    async def start(self) -> None:
        """Start the server and wait until it is ready."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop the server; its files stay until `cleanup`."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Delete what the server wrote, if this object created the directory."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        """Start the server; on failure remove what was created."""
        try:
            await self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the server and remove its data."""
        await self.stop()
        self.cleanup()
