"""A small FHIR server on loopback that answers every query after a fixed delay (default 100 ms).

    .venv/bin/python -m bench.fhir_delay_server --port 8790 --size typical --delay 0.1

It serves one synthetic patient (`bench.patients`): `GET /fhir/Patient/<id>` and type-level searches
(`GET /fhir/<Type>?patient=...`) answered with the whole searchset of that type (the query's code filter
is not applied: the benchmark's Observations all carry prefetch codes anyway), its `self` link echoing
the query. Threaded, so concurrent
queries wait concurrently: a service that runs its queries in parallel takes about one delay, one that
runs them in turn takes the sum. It runs in its own process so its JSON encoding does not share the
measured process's interpreter lock.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.patients import patient_resources

# FHIR search type -> prefetch key of bench.patients
TYPE_KEYS = {
    "Condition": "conditions",
    "Observation": "observations",
    "ImagingStudy": "imaging",
    "DiagnosticReport": "imagingReports",
    "MedicationRequest": "medications",
    "Procedure": "procedures",
    "ServiceRequest": "serviceRequests",
    "Encounter": "encounters",
}


def encoded_answers(size: str, patient_id: str = "bench-patient") -> dict[str, bytes]:
    """Path (without the /fhir prefix and query) -> response body, encoded once."""
    prefetch = patient_resources(size, datetime.now(UTC), patient_id)
    answers = {f"/Patient/{patient_id}": orjson.dumps(prefetch["patient"])}
    for resource_type, key in TYPE_KEYS.items():
        answers[f"/{resource_type}"] = orjson.dumps(prefetch[key])
    return answers


def make_server(port: int, size: str, delay: float) -> ThreadingHTTPServer:
    answers = encoded_answers(size)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the client's delayed ACK would add ~40 ms
        # to every answer, which is this server's artefact, not the service's.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            time.sleep(delay)
            path = urlsplit(self.path).path.removeprefix("/fhir")
            body = answers.get(path)
            if body is not None and "?" in self.path:
                body = _with_self_link(body, f"http://{self.headers.get('Host')}{self.path}")
            status = 200 if body is not None else 404
            payload = body if body is not None else orjson.dumps(_not_found())
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logs
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    return server


def _with_self_link(searchset: bytes, url: str) -> bytes:
    """The searchset with a `self` link echoing the query, which the service requires (FHIR R4: the
    parameters the server applied). Spliced in, so the heavy chart is not re-encoded per request."""
    return b'{"link":' + orjson.dumps([{"relation": "self", "url": url}]) + b"," + searchset[1:]


def _not_found() -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-found", "diagnostics": "unknown resource"}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", default="typical")
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    make_server(args.port, args.size, args.delay).serve_forever()


if __name__ == "__main__":
    main()
