"""What the SMART launcher (smart-launcher-v2) needs from the test FHIR server that `make run` starts, read
from the launcher's source: the tester path of docs/testers.md section 3 breaks without each of them."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from cds_service.local_fhir_server import LocalFhirServer
from tests.fhir_server_mode.chart import new_patient_id

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# What the launcher requests to auto-select "the most recent encounter": `new URL("/Encounter/?_count=1&
# _sort:desc=date", fhirServer)` drops the base path, then `searchParams.set("patient", id)` encodes ':'.
LAUNCH_CONTEXT_PATH = "/_services/smart/Launch"  # where the CDS Hooks sandbox asks for a SMART link's launch
LAUNCHER_ENCOUNTER_QUERY = "/Encounter/?_count=1&_sort%3Adesc=date&patient={pid}"


@pytest.fixture(scope="module")
def one_clinician_server() -> Iterator[LocalFhirServer]:
    """A server of its own: the launch context depends on how many Practitioners the server holds."""
    server = LocalFhirServer()
    server.start()
    server.request("PUT", "Practitioner/dr-one", {"resourceType": "Practitioner", "id": "dr-one"})
    yield server
    server.stop()


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with NO_PROXY.open(req, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _launch_code(launch_id: str) -> list[Any]:
    """smart-launcher-v2's launch code: base64url JSON (src/isomorphic/codec.ts)."""
    decoded: list[Any] = json.loads(base64.urlsafe_b64decode(launch_id + "=" * (-len(launch_id) % 4)))
    return decoded


def _get(url: str) -> dict[str, Any]:
    with NO_PROXY.open(url, timeout=10) as response:
        body: dict[str, Any] = json.load(response)
        return body


def _root(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _encounter(pid: str, rid: str, start: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": rid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": start, "end": start},
    }


def test_metadata_has_the_security_element_the_launcher_fills_in(fhir_server):
    """The launcher adds its OAuth endpoints to a proxied CapabilityStatement only when rest[0].security
    exists; without them the sandbox's SMART client never starts the launch (a blank page). The server
    itself has no OAuth, so it must not claim any."""
    security = _get(fhir_server.base_url + "/metadata")["rest"][0]["security"]
    assert security["cors"] is True
    assert "no authorization" in security["description"]
    assert "service" not in security and "extension" not in security


def test_the_launchers_encounter_lookup_at_the_root_gets_the_newest_encounter(fhir_server):
    pid = new_patient_id()
    starts = {f"{pid}-old": "2026-01-10", f"{pid}-new": "2026-11-20", f"{pid}-mid": "2026-06-01"}
    for rid, start in starts.items():
        fhir_server.request("PUT", f"Encounter/{rid}", _encounter(pid, rid, start))
    bundle = _get(_root(fhir_server.base_url) + LAUNCHER_ENCOUNTER_QUERY.format(pid=pid))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert [e["resource"]["id"] for e in bundle["entry"]] == [f"{pid}-new"]


def test_the_launchers_encounter_lookup_for_a_patient_without_encounters_is_an_empty_bundle(fhir_server):
    """An empty searchset is how the launcher learns there is none (it then offers to launch without)."""
    bundle = _get(_root(fhir_server.base_url) + LAUNCHER_ENCOUNTER_QUERY.format(pid=new_patient_id()))
    assert bundle["resourceType"] == "Bundle" and bundle["total"] == 0 and "entry" not in bundle


def test_the_root_serves_the_same_data_with_links_under_the_base(fhir_server):
    pid = new_patient_id()
    rid = f"{pid}-e"
    fhir_server.request("PUT", f"Encounter/{rid}", _encounter(pid, rid, "2026-11-20"))
    assert _get(f"{_root(fhir_server.base_url)}/Encounter/{rid}")["subject"]["reference"] == f"Patient/{pid}"
    found = _get(f"{_root(fhir_server.base_url)}/Encounter?patient={pid}")
    assert [link["url"].startswith(fhir_server.base_url + "/") for link in found["link"]] == [True]


def test_the_sandboxs_launch_context_is_a_launcher_ehr_launch_of_the_patient(one_clinician_server):
    """Before opening a card's SMART link the sandbox POSTs to {fhirServer}/_services/smart/Launch and
    adds `launch={launch_id}`; behind the launcher that id must be a launch code the launcher reads."""
    parameters = {"patient": "p-7", "appContext": "x"}
    request = {"launchUrl": "http://127.0.0.1:8080/smart/launch", "parameters": parameters}
    status, body = _post(one_clinician_server.base_url + LAUNCH_CONTEXT_PATH, request)
    assert status == 200
    code = _launch_code(body["launch_id"])
    launch_type, patient, provider, encounter, skip_login = code[:5]
    assert (launch_type, patient, provider, encounter, skip_login) == (0, "p-7", "dr-one", "NONE", 1)


def test_a_launch_context_without_a_sole_clinician_leaves_the_login_to_the_launcher(one_clinician_server):
    second = {"resourceType": "Practitioner", "id": "dr-two"}
    one_clinician_server.request("PUT", "Practitioner/dr-two", second)
    try:
        _, body = _post(one_clinician_server.base_url + LAUNCH_CONTEXT_PATH, {"parameters": {"patient": "p"}})
    finally:
        one_clinician_server.request("DELETE", "Practitioner/dr-two")
    assert _launch_code(body["launch_id"])[2] == ""


def test_a_launch_context_without_a_patient_is_refused(fhir_server):
    status, body = _post(fhir_server.base_url + LAUNCH_CONTEXT_PATH, {"launchUrl": "http://a/launch"})
    assert status == 400 and body["resourceType"] == "OperationOutcome"
