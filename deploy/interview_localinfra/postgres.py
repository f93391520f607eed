"""A throwaway PostgreSQL server run from the distribution's binaries, no Docker needed.

initdb and postgres refuse to run as root, so when we are root they run as the ``postgres``
user (which the Debian package creates); the server's directory is made traversable for it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from interview_localinfra._process import (
    POLL_INTERVAL_S,
    LocalServer,
    MissingToolError,
    ServiceStartError,
    free_port,
    log_tail,
    orphan_guard,
    terminate,
)

POSTGRES_HINT: Final = (
    "PostgreSQL server binaries (initdb, postgres) are required: apt-get install -y postgresql"
)

StopMode = Literal["smart", "fast", "immediate"]

# The postmaster's documented shutdown signals; pg_ctl -m <mode> sends exactly these.
_STOP_SIGNALS: Final[dict[StopMode, signal.Signals]] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}

# Only for throwaway test clusters (fsync=False): skipping fsync loses data on an OS crash or
# power loss, never on a postgres crash, because WAL still reaches the page cache before COMMIT
# returns. synchronous_commit=off is deliberately absent: it lets COMMIT return before the WAL
# is written at all, so a stop("immediate") would lose committed rows and outage tests would lie.
_NO_FSYNC_SETTINGS: Final = ("fsync=off", "full_page_writes=off")


def find_bin_dir() -> Path:
    """Directory holding initdb and postgres.

    Order: $POSTGRES_BIN_DIR, initdb on PATH, then the newest Debian /usr/lib/postgresql/N/bin
    (Debian keeps server binaries off PATH).
    """
    override = os.environ.get("POSTGRES_BIN_DIR")
    if override:
        return Path(override)
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise MissingToolError(POSTGRES_HINT)
    return candidates[-1].parent


def quote_ident(name: str) -> str:
    """SQL identifier quoting (CREATE DATABASE takes no bind parameters)."""
    return '"' + name.replace('"', '""') + '"'


def plain_dsn(dsn: str) -> str:
    """``dsn`` without a SQLAlchemy-style ``+driver`` suffix, which asyncpg does not accept."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+", 1)[0]))


def with_database(dsn: str, database: str) -> str:
    """``dsn`` (made plain) pointing at ``database`` instead."""
    return urlunsplit(urlsplit(plain_dsn(dsn))._replace(path="/" + database))


async def create_database(server_dsn: str, database: str) -> str:
    """Create ``database`` on the server ``server_dsn`` points at (if absent); return its DSN."""
    conn = await asyncpg.connect(plain_dsn(server_dsn))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f"CREATE DATABASE {quote_ident(database)}")
    finally:
        await conn.close()
    return with_database(server_dsn, database)


async def drop_database(server_dsn: str, database: str) -> None:
    """Drop ``database``, disconnecting any sessions a test left open (PostgreSQL 13+)."""
    conn = await asyncpg.connect(plain_dsn(server_dsn))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(database)} WITH (FORCE)")
    finally:
        await conn.close()


class LocalPostgres(LocalServer):
    """One postmaster on 127.0.0.1 with trust auth, its data and unix socket in a temp directory.

    ``stop(mode)`` and ``start()`` may be repeated on the same data directory, e.g. to simulate a
    database outage: ``stop("immediate")`` is a crash (recovery replays the WAL on restart),
    ``stop("fast")`` a clean shutdown.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        database: str = "interview",
        fsync: bool = True,
        basedir: Path | None = None,
        bin_dir: Path | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 30.0,
    ) -> None:
        """Configure (but do not start) a server; the port defaults to a free one picked now."""
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port(self.host)
        self.database = database
        self.fsync = fsync
        self._owns_basedir = basedir is None
        self.basedir = basedir if basedir is not None else Path(tempfile.mkdtemp(prefix="pg-"))
        self._bin_dir = bin_dir
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        # initdb and postgres refuse root; as root, drop to the user the Debian package creates.
        self._os_user = "postgres" if os.geteuid() == 0 else None
        self._proc: subprocess.Popen[bytes] | None = None
        self.initdb_seconds: float | None = None
        self.startup_seconds: float | None = None

    @property
    def dsn(self) -> str:
        """DSN of the application database, e.g. postgresql://postgres@127.0.0.1:5432/interview."""
        return f"postgresql://postgres@{self.host}:{self.port}/{self.database}"

    @property
    def admin_dsn(self) -> str:
        """DSN of the always-present ``postgres`` maintenance database."""
        return with_database(self.dsn, "postgres")

    @property
    def data_dir(self) -> Path:
        """PGDATA; also the unix socket directory, so servers never collide in /var/run."""
        return self.basedir / "data"

    @property
    def log_path(self) -> Path:
        """The server's stderr."""
        return self.basedir / "postgres.log"

    async def start(self) -> None:
        """initdb on first start, launch the postmaster, wait for connections, create the DB."""
        if self.pid is not None:
            return
        bin_dir = self._bin_dir or find_bin_dir()
        if not (self.data_dir / "PG_VERSION").is_file():
            began = time.monotonic()
            await asyncio.to_thread(self._initdb, bin_dir)
            self.initdb_seconds = time.monotonic() - began
        began = time.monotonic()
        self._launch(bin_dir)
        try:
            await self._wait_ready()
            await create_database(self.admin_dsn, self.database)
        except BaseException:
            await self.stop("immediate")
            raise
        self.startup_seconds = time.monotonic() - began

    async def stop(self, mode: StopMode = "fast") -> None:
        """Shut the server down; escalate to SIGKILL after ``stop_timeout`` seconds."""
        proc, self._proc = self._proc, None
        if proc is not None:
            await terminate(proc, _STOP_SIGNALS[mode], self.stop_timeout)

    def cleanup(self) -> None:
        """Delete the directory if this object created it. Call after ``stop()``."""
        if self._owns_basedir:
            shutil.rmtree(self.basedir, ignore_errors=True)

    def _prepare_basedir(self) -> None:
        # mkdtemp makes 0700 root-owned dirs; the postgres user must enter and own it.
        self.basedir.mkdir(parents=True, exist_ok=True)
        if self._os_user is not None:
            self.basedir.chmod(0o755)
            shutil.chown(self.basedir, user=self._os_user, group=self._os_user)

    def _initdb(self, bin_dir: Path) -> None:
        self._prepare_basedir()
        cmd = [
            str(bin_dir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            "postgres",
            "--auth",
            "trust",  # local, test-only cluster listening on 127.0.0.1
            "--encoding",
            "UTF8",
            "--locale",
            "C",
        ]
        if not self.fsync:
            cmd.append("--no-sync")
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.basedir,
            user=self._os_user,
            group=self._os_user,
            extra_groups=[] if self._os_user else None,  # shed root's supplementary groups
        )
        if result.returncode != 0:
            raise ServiceStartError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def _postgres_command(self, bin_dir: Path) -> list[str]:
        settings = [
            f"listen_addresses={self.host}",
            f"port={self.port}",
            f"unix_socket_directories={self.data_dir}",
        ]
        if not self.fsync:
            settings.extend(_NO_FSYNC_SETTINGS)
        cmd = [str(bin_dir / "postgres"), "-D", str(self.data_dir)]
        for setting in settings:
            cmd.extend(["-c", setting])
        return cmd

    def _launch(self, bin_dir: Path) -> None:
        """Run the postmaster as our direct child, so we can signal it and see it exit.

        pg_ctl would daemonise it instead, leaving a server behind if this process crashes.
        """
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [*orphan_guard(), *self._postgres_command(bin_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.basedir,
                process_group=0,  # a terminal's Ctrl-C must not crash it under our feet
                user=self._os_user,
                group=self._os_user,
                extra_groups=[] if self._os_user else None,
            )

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise ServiceStartError(
                    f"postgres exited during start-up; log {self.log_path}:\n"
                    + log_tail(self.log_path)
                )
            if await self._accepts_connections():
                return
            await asyncio.sleep(POLL_INTERVAL_S)
        raise ServiceStartError(
            f"postgres not ready after {self.startup_timeout:.0f}s; log {self.log_path}:\n"
            + log_tail(self.log_path)
        )

    async def _accepts_connections(self) -> bool:
        try:
            conn = await asyncpg.connect(self.admin_dsn, timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True
