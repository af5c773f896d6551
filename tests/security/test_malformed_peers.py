"""Malformed peers against the production server (issue 11): a 4xx with a clear reason, never a 5xx.

Every case here was a 500 (or a silent success) on `bonemet-cds serve` before: a draft whose
`periodUnit` is an object, a `dosageInstruction` that is not a list when a rule rewrites the draft, JSON
nested 123 to 1,000 levels deep, two drafts with one id, a chunked body with broken framing, a client
that goes away mid-chunk, tens of thousands of resources in one call, JWTs minted to live for years.
The server runs as in production (gunicorn, 2 gthread workers, JWT on, SQLite) with its log at INFO, so
refusals are logged and the tests can check that none was logged as an internal error, and that text
the caller chose (service ids, patient ids in the path, JSON keys) never reaches the log as sent.
"""

from __future__ import annotations

import copy
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from bench.soak import ProductionServer
from cds_service.log_safety import caller_text
from tests.http.requests_factory import hook_request as minimal_request
from tests.scenarios.scenario_files import hook_request as scenario_request
from tests.scenarios.scenario_files import load_scenarios
from tests.security.patient_data import FAMILY, GIVEN

ORDER_SIGN = "/cds-services/bonemet-order-sign"
PATIENT_VIEW = "/cds-services/bonemet-patient-view"
PROLIA = {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "993452"}
LOG_WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionServer]:
    directory = Path(tmp_path_factory.mktemp("malformed"))
    with ProductionServer(
        directory,
        database_url=f"sqlite:///{directory / 'malformed.sqlite3'}",
        workers=2,
        threads=2,
        extra_env={"BONEMET_LOG_LEVEL": "INFO"},
    ) as running:
        yield running


def post(server: ProductionServer, path: str, body: Any, **claims: Any) -> requests.Response:
    url = server.base_url + path
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {
        "Authorization": server.signer.authorization(url, **claims),
        "Content-Type": "application/json",
    }
    return requests.post(url, data=raw, headers=headers, timeout=60)


def denosumab_draft_request() -> dict[str, Any]:
    """Denosumab 60 mg drafted for a confirmed bone metastasis: DENOSUMAB-DOSE rewrites the draft."""
    scenario = next(s for s in load_scenarios() if s.name == "os_denosumab_60mg_for_bone_metastasis")
    return scenario_request(scenario)


def draft(body: dict[str, Any], index: int = 0) -> dict[str, Any]:
    resource: dict[str, Any] = body["context"]["draftOrders"]["entry"][index]["resource"]
    return resource


def with_draft(change: Any) -> dict[str, Any]:
    body = denosumab_draft_request()
    resource = draft(body)
    resource["note"] = [{"text": f"for {GIVEN} {FAMILY}"}]  # must never be echoed back
    change(resource)
    return body


def prolia_without_dose(dosage: Any) -> Any:
    """Coded as Prolia with no readable dose: before the fix, the rule's update met a non-list dosage."""

    def change(resource: dict[str, Any]) -> None:
        resource["medicationCodeableConcept"]["coding"] = [PROLIA]
        resource["dosageInstruction"] = dosage

    return change


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def deep_body(body: dict[str, Any], place: Any, depth: int) -> bytes:
    """`body` serialised with `place(body)` set to JSON `depth` levels deep (too deep for orjson.dumps)."""
    place(body, "@@deep@@")
    return orjson.dumps(body).replace(b'"@@deep@@"', nested(depth))


def test_a_valid_draft_still_gets_its_card(server: ProductionServer) -> None:
    response = post(server, ORDER_SIGN, denosumab_draft_request())
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["DENOSUMAB-DOSE"]
    assert cards[0]["suggestions"][0]["actions"][0]["type"] == "update"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["dosageInstruction"][0]["timing"]["repeat"].update(periodUnit={}), "periodUnit"),
        (prolia_without_dose("twice"), "dosageInstruction"),
        (prolia_without_dose(5), "dosageInstruction"),
        (prolia_without_dose(["twice"]), "dosageInstruction.0"),
        (prolia_without_dose([5]), "dosageInstruction.0"),
        (lambda r: r.update(subject="Patient/x"), "subject"),
        (lambda r: r.update(JohnDoeMRN123=1), "(unknown field)"),
    ],
    ids=[
        "periodUnit-object",
        "dosage-string",
        "dosage-number",
        "dosage-list-of-string",
        "dosage-list-of-number",
        "subject-string",
        "unknown-field",
    ],
)
def test_an_invalid_draft_is_a_400_naming_the_entry_and_field(
    server: ProductionServer, change: Any, field: str
) -> None:
    response = post(server, ORDER_SIGN, with_draft(change))
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["error"] == "invalid-request"
    assert error["field"] == "/context/draftOrders/entry/0/resource"
    assert "not valid FHIR R4" in error["message"] and field in error["message"]
    assert FAMILY not in response.text and "JohnDoeMRN123" not in response.text


def test_two_drafts_with_one_id_are_refused(server: ProductionServer) -> None:
    """The suggestion for one would have been built from the other's fields."""
    body = denosumab_draft_request()
    other = copy.deepcopy(draft(body))
    other["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 120
    body["context"]["draftOrders"]["entry"].append({"resource": other})
    response = post(server, ORDER_SIGN, body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "/context/draftOrders/entry/1/resource/id"
    assert "distinct ids" in response.json()["message"]


def set_draft_field(body: dict[str, Any], value: Any) -> None:
    draft(body)["extension"] = [{"url": "https://example.org/x", "valueString": "y", "deep": value}]


def set_observation_value(body: dict[str, Any], value: Any) -> None:
    body["prefetch"]["observations"]["entry"][0]["resource"]["valueQuantity"] = value


@pytest.mark.parametrize(
    ("place", "depth"),
    [(set_draft_field, 123), (set_draft_field, 400), (set_observation_value, 1000)],
    ids=["draft-123", "draft-400", "observation-1000"],
)
def test_deep_json_is_a_400_at_parsing(server: ProductionServer, place: Any, depth: int) -> None:
    response = post(server, ORDER_SIGN, deep_body(denosumab_draft_request(), place, depth))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == ""
    assert "deeper than 64 levels" in response.json()["message"]


def test_a_call_carrying_too_many_resources_is_a_413(server: ProductionServer) -> None:
    """5 MB of small Conditions used to cost ~10 s of CPU; the count is refused before any is read."""
    body = minimal_request("patient-view")
    condition = body["prefetch"]["conditions"]["entry"][0]["resource"]
    body["prefetch"]["conditions"]["entry"] = [
        {"resource": {**condition, "id": f"c{i}"}} for i in range(10_001)
    ]
    response = post(server, PATIENT_VIEW, body)
    assert response.status_code == 413, response.text[:300]
    assert response.json()["error"] == "payload-too-large"
    assert "at most 10000" in response.json()["message"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) + 10 * 365 * 86400}, "token lifetime too long"),
        ({"exp": 1e308}, "invalid exp"),
        ({"iat": 0}, "token lifetime too long"),
    ],
    ids=["ten-years", "1e308", "iat-0"],
)
def test_long_lived_and_absurd_tokens_are_refused(
    server: ProductionServer, claims: dict[str, Any], reason: str
) -> None:
    response = post(server, ORDER_SIGN, denosumab_draft_request(), **claims)
    assert response.status_code == 401, response.text
    assert response.json()["message"] == reason


def raw_request(server: ProductionServer, path: str, body_part: bytes, *, close: str) -> bytes:
    """Send a chunked POST by hand; `close` is `write` (half-close, then read the answer) or `reset`."""
    url = server.base_url + path
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: {server.signer.authorization(url)}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body_part)
        if close == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return b""
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def status_and_body(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return status, orjson.loads(body)


@pytest.mark.parametrize(
    "body_part",
    [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"],  # chunk size not hex; chunk without its CRLF
    ids=["bad-chunk-size", "missing-chunk-terminator"],
)
def test_an_unreadable_body_is_a_400_not_an_internal_error(
    server: ProductionServer, body_part: bytes
) -> None:
    """The production server's worker reads the body before any thread or the app sees it, and refuses
    broken framing there, in the service's error shape."""
    status, error = status_and_body(raw_request(server, PATIENT_VIEW, body_part, close="write"))
    assert status == 400, error
    assert error["error"] == "invalid-request" and "malformed transfer framing" in error["message"]
    assert server.internal_errors_logged() == 0, server.log_tail()


def test_a_client_that_stops_mid_chunk_is_closed_not_an_internal_error(server: ProductionServer) -> None:
    """A body that ends mid-chunk (the client shut its side): the request never reaches the app."""
    answer = raw_request(server, PATIENT_VIEW, b"100\r\n" + b'{"hook": "patient-view"', close="write")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]
    wait_for_log(server, "closed its connection before its request was complete")
    assert server.internal_errors_logged() == 0, server.log_tail()


def wait_for_log(server: ProductionServer, *needles: str) -> str:
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while True:
        text = server.log_path.read_text(errors="replace")
        if all(needle in text for needle in needles):
            return text
        assert time.monotonic() < deadline, f"not logged: {needles}\n{server.log_tail()}"
        time.sleep(0.2)


def test_a_client_that_resets_mid_chunk_is_logged_as_a_refusal(server: ProductionServer) -> None:
    raw_request(server, PATIENT_VIEW, b"400\r\n" + b'{"hook": "patient-view", "context": {', close="reset")
    text = wait_for_log(server, "closed its connection before its request was complete")
    assert server.internal_errors_logged() == 0, text[-3000:]


def test_text_the_caller_chose_is_logged_as_length_and_digest(server: ProductionServer) -> None:
    unknown_service = f"{FAMILY}-service"
    preview_patient = f"{GIVEN}-MRN-778"
    bad_key = f"{FAMILY}Key"
    assert (
        requests.post(server.base_url + f"/cds-services/{unknown_service}", json={}, timeout=30).status_code
        == 404
    )
    assert (
        requests.get(server.base_url + f"/preview/patient-view/{preview_patient}", timeout=30).status_code
        == 404
    )
    body = minimal_request("patient-view")
    body["prefetch"][bad_key] = {"resourceType": 7}
    response = post(server, PATIENT_VIEW, body)
    assert response.status_code == 400 and response.json()["field"] == f"/prefetch/{bad_key}/resourceType"
    odd_type = f"{FAMILY}Order"
    drafts = denosumab_draft_request()
    draft(drafts)["resourceType"] = odd_type
    refused = post(server, ORDER_SIGN, drafts)
    assert refused.status_code == 400 and f"unexpected resource type {odd_type}" in refused.json()["message"]
    text = wait_for_log(
        server,
        caller_text(unknown_service),
        caller_text(bad_key),
        caller_text(odd_type),
    )
    for chosen in (unknown_service, preview_patient, bad_key, odd_type, FAMILY, GIVEN):
        assert chosen not in text
