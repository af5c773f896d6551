"""Nothing a hook call carries about the patient, nor any token, reaches a log line, on any path.

Every record any logger emits (root at DEBUG, werkzeug included) is captured, formatted with its
exception text, while one app serves: accepted calls with cards, feedback with a comment naming the
patient, forged and missing JWTs, an invalid body quoting the patient, FHIR reads that fail (HTTP 500
from a real loopback server whose error page echoes the request, a 500 and a refused connection through
`responses`), and an internal error whose exception message names the patient.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses
from flask import Flask

from cds_service.log_safety import RedactSecrets
from tests.security.jwt_issuer import PUBLIC_URL, TestIssuer
from tests.security.patient_data import (
    ACCESS_TOKEN,
    BIRTH_DATE,
    COMMENT,
    FAMILY,
    FHIR_SERVER,
    PATIENT_STRINGS,
    feedback_request,
    identified_hook_request,
)

HOOK_PATH = "/cds-services/bonemet-patient-view"
FEEDBACK_PATH = HOOK_PATH + "/feedback"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler = Capture()
    root, werkzeug = logging.getLogger(), logging.getLogger("werkzeug")
    saved = root.level, werkzeug.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    werkzeug.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        werkzeug.setLevel(saved[1])


class EchoingFailure(BaseHTTPRequestHandler):
    """A FHIR server in trouble: 500, and an error page that quotes the request and a patient name."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        echoed = f"failed {self.path} for {FAMILY} born {BIRTH_DATE}; auth {self.headers['Authorization']}"
        body = json.dumps(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "exception",
                        "diagnostics": echoed,
                    }
                ],
            }
        ).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep the test server quiet
        return


@pytest.fixture
def failing_fhir_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingFailure)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    finally:
        server.shutdown()
        server.server_close()


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        del body["prefetch"][key]
    return body


def test_no_patient_data_or_token_in_any_log_line(
    app_factory: Callable[..., Flask], tmp_path, captured: Capture, failing_fhir_server: str, monkeypatch
) -> None:
    issuer = TestIssuer(tmp_path)
    loopback_origin = failing_fhir_server.rsplit("/", 1)[0]
    app = app_factory(
        auth_mode="jwt",
        trusted_issuers=issuer.trusted_issuers(),
        public_url=PUBLIC_URL,
        fhir_allowed_hosts=f"https://fhir.bonemet-test.org,{loopback_origin}",
        log_level="DEBUG",
        fhir_deadline_seconds=2.0,
    )
    logging.getLogger().setLevel(logging.DEBUG)
    client = app.test_client()
    sent_tokens: list[str] = []

    def post(path: str, body: dict[str, Any], token: str | None = None) -> Any:
        token = token if token is not None else issuer.token(path)
        sent_tokens.append(token)
        return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    statuses = []
    ok = post(HOOK_PATH, identified_hook_request())
    statuses.append(ok.status_code)
    card_uuids = [card["uuid"] for card in ok.get_json()["cards"]]
    statuses.append(post(FEEDBACK_PATH, feedback_request(card_uuids[0] if card_uuids else None)).status_code)
    statuses.append(
        post("/cds-services/bonemet-order-sign", identified_hook_request("order-sign")).status_code
    )
    # forged, expired and missing credentials
    statuses.append(
        post(HOOK_PATH, identified_hook_request(), token=issuer.token(HOOK_PATH, aud="x")).status_code
    )
    statuses.append(post(HOOK_PATH, identified_hook_request(), token="eyJhbGciOiJub25lIn0.e30.").status_code)
    statuses.append(client.post(HOOK_PATH, json=identified_hook_request()).status_code)
    # an invalid body whose bad values are patient data
    statuses.append(post(HOOK_PATH, identified_hook_request(hookInstance=FAMILY)).status_code)
    bad_feedback = feedback_request()
    bad_feedback["feedback"][0]["outcome"] = COMMENT
    statuses.append(post(FEEDBACK_PATH, bad_feedback).status_code)
    # FHIR reads that fail: a real server answering 500 with an echoing error page ...
    echo = identified_hook_request(fhirServer=failing_fhir_server)
    statuses.append(post(HOOK_PATH, _without(echo, "observations")).status_code)
    statuses.append(
        post(
            HOOK_PATH, _without(identified_hook_request(fhirServer=failing_fhir_server), "conditions")
        ).status_code
    )
    # ... and through `responses`: a 500 and a refused connection
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(
            re.compile(re.escape(FHIR_SERVER) + "/Observation.*"),
            status=500,
            json={"diagnostics": f"{FAMILY} {ACCESS_TOKEN}"},
        )
        mocked.get(
            re.compile(re.escape(FHIR_SERVER) + "/MedicationRequest.*"),
            body=requests.ConnectionError(f"refused for {FAMILY}"),
        )
        statuses.append(
            post(HOOK_PATH, _without(identified_hook_request(), "observations", "medications")).status_code
        )
        assert any(ACCESS_TOKEN in (call.request.headers.get("Authorization") or "") for call in mocked.calls)
    # an internal error whose exception message quotes the patient
    monkeypatch.setattr(
        "cds_service.pipeline.run_rules",
        lambda *a, **k: (_ for _ in ()).throw(KeyError(f"{FAMILY} {BIRTH_DATE}")),
    )
    statuses.append(post(HOOK_PATH, identified_hook_request()).status_code)

    assert statuses == [200, 200, 200, 401, 401, 401, 400, 400, 200, 412, 200, 500]
    logged = "\n".join(captured.lines)
    assert len(captured.lines) >= 10, "the calls above must have been logged, or this test proves nothing"
    leaked = [s for s in PATIENT_STRINGS if s in logged]
    leaked += [
        f"token part {part[:12]}..."
        for token in sent_tokens
        for part in token.split(".")
        if len(part) > 8 and part in logged
    ]
    assert leaked == [], logged


@pytest.mark.parametrize(
    ("message", "logged"),
    [
        ("refused unauthorized: missing bearer token", "refused unauthorized: missing bearer token"),
        (f"header was Bearer {ACCESS_TOKEN}", "header was [redacted]"),
        ("got bearer   tokenXYZ.123", "got [redacted]"),
        ("jwt eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl here", "jwt [redacted] here"),
    ],
)
def test_the_log_filter_redacts_tokens_but_not_the_reason_a_token_was_refused(message, logged) -> None:
    """The second line of defence: a token that slips into a message is cut; the words "bearer token"
    in a refusal reason are not a token (they used to be redacted, hiding why a call was refused)."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", (message,), None)
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == logged
