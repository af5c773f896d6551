"""A real socket that trickles its answer: per-socket timeouts never fire, only the call deadline can
stop it (shared/LIBRARIES.md measured requests held 5 s past a 1 s timeout). No mock: a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cds_service.fhir_client import FhirClient

DEADLINE_SECONDS = 0.5


class Trickle(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.end_headers()
        try:
            self.wfile.write(b'{"resourceType": "Bundle", "entry": [')
            for _ in range(100):  # 5 s of one byte every 50 ms
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def trickling_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_trickling_server_is_cut_off_at_the_deadline(trickling_server, caplog):
    """Five seconds of one byte every 50 ms against a 0.5 s deadline: the read ends at the deadline."""
    client = FhirClient(allowed_origins=frozenset({trickling_server}), deadline_seconds=DEADLINE_SECONDS)
    started = time.monotonic()
    results = client.search_all(
        trickling_server + "/fhir", {"observations": "Observation?patient=x"}, "tok-1"
    )
    assert time.monotonic() - started < DEADLINE_SECONDS + 0.3
    assert not results["observations"].ok
    assert "deadline exceeded" in results["observations"].reason
    assert "deadline exceeded" in caplog.text and "tok-1" not in caplog.text
