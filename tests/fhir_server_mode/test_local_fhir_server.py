"""The test FHIR server itself: what the tests, the demo and the CDS Hooks sandbox rely on it to do."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from cds_service.local_fhir_server import LocalFhirServer, LocalFhirServerError
from tests.fhir_server_mode.chart import chart, new_patient_id, transaction

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def test_metadata_answers_a_capability_statement_with_cors_headers(fhir_server):
    """The sandbox reads /metadata from the browser: it needs a CapabilityStatement and CORS."""
    with NO_PROXY.open(fhir_server.base_url + "/metadata", timeout=5) as response:
        body = json.load(response)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"


def test_it_listens_on_loopback_only(fhir_server):
    assert fhir_server.base_url.startswith("http://127.0.0.1:")


def test_a_transaction_is_stored_and_searchable_by_patient_and_code(fhir_server):
    pid = new_patient_id()
    response = fhir_server.load(transaction(chart(pid)))
    assert response["type"] == "transaction-response"
    found = fhir_server.request("GET", f"Observation?patient={pid}&code=http://loinc.org|2160-0")
    assert [e["resource"]["id"] for e in found["entry"]] == [f"{pid}-cr"]
    assert fhir_server.request("GET", f"Patient/{pid}")["gender"] == "female"


def test_searches_are_paged_with_next_links_back_to_the_server(fhir_server):
    """With a page size set, a search longer than one page links to the next page on the same server."""
    pid = new_patient_id()
    fhir_server.load(transaction(chart(pid, old_creatinines=3)))
    seen, url = [], f"Observation?patient={pid}"
    while url:
        page = fhir_server.request("GET", url)
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        assert all(u.startswith(fhir_server.base_url + "/Observation?") for u in nxt)
        url = nxt[0].removeprefix(fhir_server.base_url + "/") if nxt else ""
    assert len(seen) == len(set(seen)) == 7


def test_a_preload_directory_is_loaded_before_the_first_request(tmp_path):
    pid = new_patient_id()
    (tmp_path / "01-patient.json").write_text(json.dumps(transaction(chart(pid))))
    with LocalFhirServer(preload_dir=tmp_path) as base_url:
        with NO_PROXY.open(f"{base_url}/Condition?patient={pid}", timeout=5) as response:
            assert len(json.load(response)["entry"]) == 2


def test_a_bad_preload_file_stops_start_up_with_the_reason(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(LocalFhirServerError, match="broken.json|JSON"):
        LocalFhirServer(preload_dir=tmp_path, startup_timeout=20).start()


def test_missing_npm_packages_name_make_install(tmp_path: Path):
    with pytest.raises(LocalFhirServerError, match="make install"):
        LocalFhirServer(server_dir=tmp_path).start()


def test_stop_is_idempotent_and_base_url_is_gone_after_it():
    server = LocalFhirServer()
    server.start()
    server.stop()
    server.stop()
    with pytest.raises(LocalFhirServerError, match="not running"):
        _ = server.base_url
