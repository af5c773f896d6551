"""The service of the demo (`make run`): the production server, `bonemet-cds serve`, as a child process.

The demo runs what a hospital runs, so a tester sees the same server (gunicorn with the buffering worker
and its read deadlines, `cds_service.buffering_worker`), not a development server with other limits. It
is a child process rather than gunicorn inside the demo: gunicorn forks its workers from the process that
starts it, and a fork of the demo would also hold the demo's FHIR server and its clean-up.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import TracebackType

READY_SECONDS = 60.0
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DemoServerError(RuntimeError):
    """The service did not start (port taken, bad setting): its own message is above, on stderr."""


class ServiceProcess:
    """`python -m cds_service.cli serve` on `host:port` with `env`; stopped with SIGTERM (graceful)."""

    def __init__(self, host: str, port: int, env: dict[str, str]) -> None:
        self.host, self.port = host, port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        command = [sys.executable, "-m", "cds_service.cli", "serve", "--host", self.host]
        self._process = subprocess.Popen([*command, "--port", str(self.port)], env=self._env)  # noqa: S603
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DemoServerError(f"the service exited with status {self._process.returncode}")
            if _healthy(self.url + "/healthz"):
                return self.url
            time.sleep(0.1)
        raise DemoServerError(f"the service did not answer {self.url}/healthz within {READY_SECONDS:.0f} s")

    def wait(self) -> int:
        """Until the service ends (it ends on its own only on a failure); its exit status."""
        assert self._process is not None
        return self._process.wait()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False
