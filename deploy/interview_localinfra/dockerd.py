"""A Docker engine of this project's own, for the docker compose test on machines without one.

Installs Debian's ``docker.io`` (engine 20.10), ``docker-compose`` (1.29) and ``debootstrap``
when missing, then runs ``dockerd`` on a private socket, data root and exec root. The default
``/var/run/docker.sock`` stays absent, so nothing else on the machine (other test sessions'
fixtures in particular, see ``containers.use_container``) notices the engine; only a process
given ``DOCKER_HOST`` reaches it. The data root persists between runs: it is the cache of the
images ``make compose-up`` builds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Final

from interview_localinfra._process import ServiceStartError, log_tail
from interview_localinfra.containers import docker_available

PACKAGES: Final = ("docker.io", "docker-compose", "debootstrap")
_TOOLS: Final = ("dockerd", "docker-compose", "debootstrap")
_POLICY_RC: Final = Path("/usr/sbin/policy-rc.d")


def _apt_install(packages: tuple[str, ...]) -> None:
    """apt-get install, without letting the packages start their daemons.

    Debian's docker.io starts dockerd on the default socket when it installs, unless
    policy-rc.d forbids it (exit 101); a temporary one is added when the machine has none.
    """
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServiceStartError(f"Docker is missing: apt-get install -y {' '.join(packages)}")
    added_policy = not _POLICY_RC.exists()
    if added_policy:
        _POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
        _POLICY_RC.chmod(0o755)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", *packages],
        ):
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise ServiceStartError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    finally:
        if added_policy:
            _POLICY_RC.unlink()


def ensure_engine_installed() -> None:
    """Install the engine, Compose 1.29 and debootstrap from Debian if any is missing."""
    if not all(shutil.which(tool) for tool in _TOOLS):
        _apt_install(PACKAGES)


class PrivateDockerd:
    """``dockerd`` on its own socket; ``host`` is the DOCKER_HOST that reaches it."""

    def __init__(
        self,
        *,
        run_dir: Path = Path("/run/interview-dockerd"),
        data_root: Path = Path("/var/lib/interview-dockerd"),
    ) -> None:
        self.run_dir = run_dir
        self.data_root = data_root
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """The DOCKER_HOST value for clients of this engine."""
        return f"unix://{self.run_dir / 'docker.sock'}"

    @property
    def log_path(self) -> Path:
        """Where dockerd writes its log."""
        return self.run_dir / "dockerd.log"

    def start(self, timeout_s: float = 60.0) -> None:
        """Install if needed, start, and wait until the daemon answers a ping."""
        ensure_engine_installed()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_root.mkdir(parents=True, exist_ok=True)
        command = [
            "dockerd",
            f"--host={self.host}",
            f"--data-root={self.data_root}",
            f"--exec-root={self.run_dir / 'exec'}",
            f"--pidfile={self.run_dir / 'dockerd.pid'}",
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServiceStartError(f"dockerd did not start:\n{log_tail(self.log_path)}")
            time.sleep(0.5)  # each check opens an SDK client: not at the 50 ms of servers

    def _answers(self) -> bool:
        return docker_available(timeout=1.0, docker_host=self.host)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (dockerd stops its containers and containerd), SIGKILL after ``timeout_s``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
