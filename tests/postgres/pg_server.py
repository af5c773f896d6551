"""A real, throwaway PostgreSQL server from the Debian package, for tests and the soak benchmark.

`initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres` user (runuser); the
data directory and the Unix socket live in a fresh temporary directory, and the server listens on
127.0.0.1 only, on a free port, with `trust` authentication (nothing else can reach it). Durability
settings that only matter for power loss (fsync) are off to keep the tests fast on a shared machine;
`synchronous_commit` stays on, so a committed row is in the server before the commit returns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
START_TIMEOUT_SECONDS = 30


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed (Debian package `postgresql`)."""


def find_bin_dir() -> Path:
    for candidate in PG_BIN_DIRS:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (initdb, pg_ctl): "
        "install the Debian package `postgresql` (scripts/ensure-system-packages.sh does)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One server: `start()`, `url(database)`, `create_database()`, `stop()` (also a context manager)."""

    user = "postgres"

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bonemet-pg-"))
        self.data_dir = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        self._started = False

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c full_page_writes=off "
            "-c max_connections=100 -c shared_buffers=32MB"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        )
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "bonemet") -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.root / "server.log").read_text().splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin_dir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=self.root)
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{self.log_tail()}"
            )
