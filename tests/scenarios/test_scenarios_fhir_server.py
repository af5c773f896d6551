"""Every clinical scenario again, in FHIR-server mode: the chart is loaded into the real FHIR R4 test server
(Medplum, in memory) and the EHR sends no prefetch, only `fhirServer` and a token. The clinician must get
exactly the cards the scenario expects, as in prefetch mode (`test_scenarios.py`).

Scenario files reuse ids (`Patient/p1` in many of them), so each chart is loaded under ids prefixed with
its own number. Every scenario runs here: the test server stores what it is given, invalid FHIR included,
as a careless real server would, so the charts about invalid data are served too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from cds_service.app import create_app
from cds_service.local_fhir_server import LocalFhirServer
from tests.conftest import make_settings
from tests.scenarios.scenario_files import Scenario, hook_request, load_scenarios, rule_ids

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]

SCENARIOS = load_scenarios()
PAGE_SIZE = 20
"""Small enough that the larger charts are read over several pages (`next` links), as from a real server."""


@pytest.fixture(scope="module")
def scenario_server() -> Iterator[LocalFhirServer]:
    server = LocalFhirServer(page_size=PAGE_SIZE)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server_client(scenario_server: LocalFhirServer, tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    parts = urlsplit(scenario_server.base_url)
    settings = make_settings(
        tmp_path_factory.mktemp("scenarios-fhir-server"),
        fhir_allowed_hosts=f"{parts.scheme}://{parts.netloc}",
        fhir_deadline_seconds=20.0,  # about what is read, not how fast: a busy CI machine must not matter
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app.test_client()


def with_unique_ids(scenario: Scenario, prefix: str) -> Scenario:
    """The chart with every resource id (and every reference to it) prefixed, so charts cannot collide."""
    doc = copy.deepcopy(scenario.doc)
    renamed = {
        f"{r['resourceType']}/{r['id']}": f"{r['resourceType']}/{prefix}{r['id']}"[:64]
        for r in (entry["resource"] for entry in doc["bundle"]["entry"])
    }
    for entry in doc["bundle"]["entry"]:
        resource = entry["resource"]
        resource["id"] = renamed[f"{resource['resourceType']}/{resource['id']}"].split("/", 1)[1]
    return Scenario(scenario.name, _replace_references(doc, renamed))


def _replace_references(value: Any, renamed: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace_references(v, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_references(v, renamed) for v in value]
    if isinstance(value, str) and value in renamed:
        return renamed[value]
    return value


def server_request(scenario: Scenario, index: int, server: LocalFhirServer) -> dict[str, Any]:
    """Load the (date-rebased) chart into the server; return the hook request without prefetch."""
    body = hook_request(with_unique_ids(scenario, f"sc{index:03d}-"))
    prefetch = body.pop("prefetch")
    resources = [prefetch["patient"]] + [
        entry["resource"] for key, bundle in prefetch.items() if key != "patient" for entry in bundle["entry"]
    ]
    server.load(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                for r in resources
            ],
        }
    )
    body["fhirServer"] = server.base_url
    body["fhirAuthorization"] = {
        "access_token": "scenario-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "bonemet-cds",
    }
    body["context"]["patientId"] = prefetch["patient"]["id"]
    return body


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_exactly_the_expected_rules_fire_reading_the_fhir_server(scenario, scenario_server, server_client):
    body = server_request(scenario, SCENARIOS.index(scenario), scenario_server)
    response = server_client.post(f"/cds-services/{scenario.service_id}", json=body)
    assert response.status_code == 200, (scenario.name, response.get_json())
    cards = response.get_json()["cards"]
    assert set(rule_ids(cards)) == scenario.expected, scenario.doc["description"]
    wanted = scenario.doc.get("expected_indicators") or {}
    got = {c["source"]["topic"]["code"]: c["indicator"] for c in cards}
    assert {rule: got.get(rule) for rule in wanted} == wanted, scenario.doc["description"]
