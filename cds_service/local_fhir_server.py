"""A real FHIR R4 server on 127.0.0.1, for the integration tests and the demo (`make run`).

It runs `tests/fhir_server/server.js` (Medplum's FhirRouter over an in-memory repository) under Node, so
the service's FHIR client is tested against a server that really parses searches, pages and
transactions, never against mocks or the internet. Nothing is persisted: stopping the server forgets
every resource.

    with LocalFhirServer(preload_dir=Path("demo/bundles")) as base_url:
        ...  # base_url is e.g. "http://127.0.0.1:41234/fhir/R4"

The npm packages are installed by `make install` (`npm ci` in tests/fhir_server).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

SERVER_DIR = Path(__file__).resolve().parent.parent / "tests" / "fhir_server"
_FIRST_NODE_WITH_WEBSOCKET = 22  # Medplum needs a global WebSocket; Node 20-21 only behind a flag
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalFhirServerError(RuntimeError):
    """The local FHIR server could not be started, did not become ready, or refused a request."""


class LocalFhirServer:
    """A Node process serving FHIR R4 JSON on 127.0.0.1; a context manager yielding its base URL.

    `preload_dir`: a directory of Bundle JSON files (`*.json`, loaded in name order as transactions
    before the server answers). `port`: 0 picks a free port. `page_size`: the page size of searches
    that do not ask for `_count` (None: every match on one page), so clients must follow `next` links.
    `startup_timeout`: seconds to wait for the server to print its URL and answer `/metadata`.
    """

    def __init__(
        self,
        preload_dir: Path | None = None,
        port: int = 0,
        *,
        page_size: int | None = None,
        startup_timeout: float = 30.0,
        server_dir: Path = SERVER_DIR,
    ):
        self.preload_dir = preload_dir
        self.port = port
        self.page_size = page_size
        self.startup_timeout = startup_timeout
        self.server_dir = server_dir
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._base_url: str | None = None
        self.start_seconds: float | None = None

    @property
    def base_url(self) -> str:
        """The FHIR base URL, e.g. http://127.0.0.1:41234/fhir/R4; only while the server runs."""
        if self._base_url is None:
            raise LocalFhirServerError("the local FHIR server is not running; call start() first")
        return self._base_url

    def start(self) -> str:
        """Launch the server, wait until it answers, and return its base URL."""
        if self._process is not None:
            return self.base_url
        command = self._command()
        began = time.monotonic()
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._process = subprocess.Popen(  # noqa: S603 - fixed command: node and our own server.js
            command,
            cwd=self.server_dir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        try:
            url = self._await_url(began + self.startup_timeout)
            self._await_metadata(url, began + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self._base_url = url
        self.start_seconds = time.monotonic() - began
        return url

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s); safe to call twice."""
        process, self._process, self._base_url = self._process, None, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def load(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """POST a transaction (or batch) Bundle to the base URL; returns the response Bundle."""
        return self.request("POST", "", bundle)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One FHIR interaction relative to the base URL (`Patient/p1`, `Observation?code=...`)."""
        url = self.base_url + ("/" + path.lstrip("/") if path else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(  # noqa: S310 - URL is our own loopback server
            url, data=data, method=method, headers={"Content-Type": "application/fhir+json"}
        )
        try:
            with _NO_PROXY.open(req, timeout=30) as response:
                parsed: dict[str, Any] = json.load(response)
                return parsed
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise LocalFhirServerError(f"{method} {path or '/'} answered {exc.code}: {detail}") from None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _command(self) -> list[str]:
        node = shutil.which("node")
        if node is None:
            raise LocalFhirServerError("node is not installed; the local FHIR server needs Node.js 20+")
        if not (self.server_dir / "node_modules" / "@medplum" / "fhir-router").is_dir():
            raise LocalFhirServerError(
                f"the FHIR server's npm packages are missing in {self.server_dir}/node_modules: "
                "run `make install` (it runs `npm ci` there)"
            )
        flags = ["--experimental-websocket"] if _node_major(node) < _FIRST_NODE_WITH_WEBSOCKET else []
        return [node, *flags, str(self.server_dir / "server.js")]

    def _environment(self) -> dict[str, str]:
        ours = ("FHIR_PRELOAD_DIR", "FHIR_PAGE_SIZE", "FHIR_BASE_PATH", "PORT")
        env = {key: value for key, value in os.environ.items() if key not in ours}
        env["PORT"] = str(self.port)
        if self.page_size is not None:
            env["FHIR_PAGE_SIZE"] = str(self.page_size)
        if self.preload_dir is not None:
            if not Path(self.preload_dir).is_dir():
                raise LocalFhirServerError(f"preload directory {self.preload_dir} does not exist")
            env["FHIR_PRELOAD_DIR"] = str(Path(self.preload_dir).resolve())
        return env

    def _await_url(self, deadline: float) -> str:
        """Read the one JSON line the server prints when it listens, without blocking past the deadline."""
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=_drain, args=(stdout, lines), daemon=True).start()
        line = self._next_line(lines, deadline)
        try:
            return str(json.loads(line)["url"])
        except (ValueError, KeyError, TypeError):
            raise LocalFhirServerError(self._failure(f"printed an unexpected line: {line[:200]!r}")) from None

    def _next_line(self, lines: queue.Queue[str], deadline: float) -> str:
        assert self._process is not None
        while time.monotonic() < deadline:
            try:
                return lines.get(timeout=0.05)
            except queue.Empty:
                if self._process.poll() is not None:
                    raise LocalFhirServerError(
                        self._failure(f"exited with status {self._process.returncode}")
                    ) from None
        raise LocalFhirServerError(self._failure("did not print its URL in time"))

    def _await_metadata(self, url: str, deadline: float) -> None:
        while True:
            try:
                with _NO_PROXY.open(url + "/metadata", timeout=2) as response:
                    if json.load(response).get("resourceType") == "CapabilityStatement":
                        return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise LocalFhirServerError(self._failure("did not answer /metadata in time"))
            time.sleep(0.05)

    def _failure(self, what: str) -> str:
        stderr = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            stderr = self._stderr.read()[-2000:]
        return f"the local FHIR server {what}" + (f"; its stderr:\n{stderr}" if stderr else "")


def _drain(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Hand over the first line, then keep reading so the server never blocks on a full pipe."""
    try:
        for line in stream:
            if line.strip():
                lines.put(line)
    except (OSError, ValueError):  # the pipe was closed by stop()
        return


def _node_major(node: str) -> int:
    version = subprocess.run(  # noqa: S603 - fixed command
        [node, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    return int(version.strip().lstrip("v").split(".")[0])
