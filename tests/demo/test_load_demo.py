"""`bonemet-cds load-demo` against the real local FHIR server: creates, then updates (idempotent)."""

from __future__ import annotations

import json
import re

import pytest

from cds_service.cli import main
from cds_service.local_fhir_server import LocalFhirServer
from tests.demo.helpers import INDEX, PATIENT_IDS

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]


@pytest.fixture(scope="module")
def fhir_server():
    server = LocalFhirServer()
    server.start()
    yield server
    server.stop()


def _counts(out: str) -> dict[str, tuple[int, int]]:
    found = re.findall(r"\] (\S+): (\d+) created, (\d+) updated", out)
    return {pid: (int(created), int(updated)) for pid, created, updated in found}


def test_load_twice_creates_then_updates_the_same_resources(fhir_server, capsys):
    assert main(["load-demo", "--fhir-server", fhir_server.base_url]) == 0
    first = _counts(capsys.readouterr().out)
    assert list(first) == PATIENT_IDS
    assert all(created > 0 and updated == 0 for created, updated in first.values())
    assert main(["load-demo", "--fhir-server", fhir_server.base_url, "--token", "not-printed-123"]) == 0
    out = capsys.readouterr().out
    second = _counts(out)
    assert {pid: (0, created) for pid, (created, _) in first.items()} == second
    assert "not-printed-123" not in out


def test_loaded_patients_are_searchable(fhir_server, capsys):
    main(["load-demo", "--fhir-server", fhir_server.base_url])
    capsys.readouterr()
    patient = INDEX.patient("demo-02-za-kidney")
    found = fhir_server.request("GET", f"MedicationRequest?patient={patient.id}")
    expected = {
        e["resource"]["id"]
        for e in json.loads(patient.path.read_text())["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    }
    assert {e["resource"]["id"] for e in found.get("entry", [])} == expected


def test_the_demo_clinician_is_loaded_for_the_launchers_provider_login(fhir_server, capsys):
    """The query the SMART launcher's login page sends: with no Practitioner it loops."""
    main(["load-demo", "--fhir-server", fhir_server.base_url])
    assert "shared resources (00-demo-clinician.json)" in capsys.readouterr().out
    found = fhir_server.request("GET", "Practitioner?_count=10&_summary=true&_sort=given")
    assert [e["resource"]["id"] for e in found["entry"]] == ["demo-clinician"]


def test_unreachable_server_is_a_clear_error(capsys):
    assert main(["load-demo", "--fhir-server", "http://127.0.0.1:9/fhir"]) == 1
    assert "could not reach the FHIR server" in capsys.readouterr().err


def test_a_non_http_url_is_refused(capsys):
    assert main(["load-demo", "--fhir-server", "file:///etc/passwd"]) == 1
    assert "http(s) URL" in capsys.readouterr().err
