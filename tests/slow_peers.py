"""Real HTTP peers on 127.0.0.1 that misbehave slowly, for the deadline tests (FHIR servers, JWK Sets).

`TricklingServer` answers every request one byte at a time (every 50 ms) for `seconds`, in the status line
and headers (`stage="headers"`) or in the body (`stage="body"`): per-socket timeouts never fire, only a
deadline on the whole exchange can end it. It records when each client gave up (its write failed), so a
test can tell a fetch that was cut off from one merely abandoned by its caller while its thread reads on.
Leaving the `with` block stops every trickle, so no test leaves a thread behind.

`ChartServer` is a healthy FHIR server for one chart: reads and type-level searches, each searchset with a
`self` link echoing the request (as HAPI and Epic do). `CollapsingProxy` sits in front of a real FHIR
server and rewrites URLs the way the SMART launcher's proxy does.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

TRICKLE_INTERVAL = 0.05


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class _Peer:
    handler: type[BaseHTTPRequestHandler]

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.requests = 0
        self.lock = threading.Lock()
        handler = type("Handler", (self.handler,), {"peer": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self) -> None:
        with self.lock:
            self.requests += 1

    def __enter__(self) -> _Peer:
        self.thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class _TrickleHandler(BaseHTTPRequestHandler):
    peer: TricklingServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        peer = self.peer
        peer.count()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if peer.answer is not None and not peer.trickling:
            self.served = getattr(self, "served", 0) + 1
            if peer.drop_reused and self.served > 1:
                self.close_connection = True  # closed unanswered: the keep-alive race, every time
                return
            time.sleep(peer.delay)
            length = f"Content-Length: {len(peer.answer)}\r\n\r\n".encode()
            self.wfile.write(head + length + peer.answer)
            return
        try:
            if peer.stage == "headers":
                self._trickle(head + b"X-Padding: ", peer)
            else:
                self.wfile.write(head + b"\r\n")
                self._trickle(b'{"resourceType": "Bundle", "keys": [', peer)
        except OSError:
            peer.gave_up(time.monotonic())
            return
        self.close_connection = True

    def _trickle(self, start: bytes, peer: TricklingServer) -> None:
        self.wfile.write(start)
        self.wfile.flush()
        ends = time.monotonic() + peer.seconds
        while time.monotonic() < ends and not peer.stop.wait(TRICKLE_INTERVAL):
            self.wfile.write(b"a" if peer.stage == "headers" else b" ")
            self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        return


class TricklingServer(_Peer):
    handler = _TrickleHandler

    def __init__(
        self,
        stage: str = "headers",
        seconds: float = 60.0,
        *,
        answer: bytes | None = None,
        delay: float = 0.0,
    ) -> None:
        """With `answer`, the server answers it (after `delay` seconds) while `trickling` is False."""
        assert stage in ("headers", "body")
        self.stage, self.seconds = stage, seconds
        self.answer, self.delay, self.trickling = answer, delay, answer is None
        self.drop_reused = False
        self.gave_up_at: list[float] = []
        self.all_gave_up = threading.Event()
        super().__init__()

    def gave_up(self, when: float) -> None:
        with self.lock:
            self.gave_up_at.append(when)
            if len(self.gave_up_at) >= self.requests:
                self.all_gave_up.set()


class _ChartHandler(BaseHTTPRequestHandler):
    peer: ChartServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.peer.count()
        status, body = self.peer.answer(self.peer.origin + self.path)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return


class ChartServer(_Peer):
    """Serves `resources` under `/fhir`: `Type/id` reads and `Type?...` searches (every resource of the
    type: the tests' charts hold one patient and only codes the searches ask for)."""

    handler = _ChartHandler

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources = resources
        super().__init__()

    @property
    def base_url(self) -> str:
        return self.origin + "/fhir"

    def answer(self, url: str) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(url)
        segments = parts.path.removeprefix("/fhir/").split("/")
        matches = [r for r in self.resources if r["resourceType"] == segments[0]]
        if len(segments) == 2:
            found = [r for r in matches if r.get("id") == segments[1]]
            return (200, found[0]) if found else (404, {"resourceType": "OperationOutcome"})
        return 200, {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "self", "url": url}],
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in matches],
        }


class _ProxyHandler(BaseHTTPRequestHandler):
    peer: CollapsingProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.peer.count()
        target = unquote(self.path) if self.peer.decode else self.path
        target = re.sub(r"/{2,}", "/", target)
        upstream = http.client.HTTPConnection(self.peer.upstream_host, self.peer.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            headers["Host"] = self.headers.get("Host", "")
            upstream.request("GET", target, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type") or "application/fhir+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return


class CollapsingProxy(_Peer):
    """A reverse proxy that collapses every `//` in the request target before passing it on, as the SMART
    launcher's FHIR proxy does (issue 11: `code=http://loinc.org|...` reached the server as
    `http:/loinc.org|...`). With `decode`, it first percent-decodes the target, the way a careless
    intermediary might, so even encoded values are altered. The Host header is passed on, so the
    server's links point back at the proxy."""

    handler = _ProxyHandler

    def __init__(self, upstream_base: str, *, decode: bool = False) -> None:
        parts = urlsplit(upstream_base)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.upstream_path = parts.path
        self.decode = decode
        super().__init__()

    @property
    def base_url(self) -> str:
        return self.origin + self.upstream_path
