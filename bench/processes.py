"""Starting, probing and stopping the benchmark's server processes, and reading their memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    port: int
    ready_seconds: float

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_module(
    module: str, args: list[str], ready_path: str, log_path: Path, timeout: float = 60
) -> Started:
    """Run `python -m module args` (output to `log_path`) and wait until GET `ready_path` answers."""
    port = free_port()
    log = log_path.open("wb")
    started_at = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        },
    )
    log.close()
    deadline = started_at + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{module} exited with {process.returncode}; see {log_path}")
        if _answers(f"http://127.0.0.1:{port}{ready_path}"):
            return Started(process, port, time.perf_counter() - started_at)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{module} did not answer within {timeout} s; see {log_path}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
            return bool(response.status < 500)
    except OSError as exc:
        return getattr(exc, "code", 500) < 500


def child_pids(parent: int) -> list[int]:
    """Direct children of `parent` (the gunicorn workers of a master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
