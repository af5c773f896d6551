"""Hook calls whose `fhirAuthorization` token the EHR's FHIR server accepts or refuses (issue 12, "Tests
that must exist"). Prefetch is omitted, so the service reads the token-protected FHIR server itself, over
HTTP, as it does behind an EHR (or the SMART launcher's proxy) that does not prefetch.

A refused token must never look like a patient with nothing to say: the service answers 412 naming the
refusal, never 200 with an empty card list. The token never reaches the service's log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from cds_service.app import create_app
from cds_service.prefetch import template_type
from tests.browser.chromium import served
from tests.conftest import make_settings
from tests.smart.oauth_flow import session, smart_configuration

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("smart")]
SERVICE = "/cds-services/bonemet-patient-view"
DEMO_01, DEMO_02 = "demo-01-new-bm", "demo-02-za-kidney"
SCOPES = "patient/*.rs"


@pytest.fixture(scope="module")
def service_app(smart_ehr, tmp_path_factory) -> Flask:
    """The CDS service, allowed to read the test EHR's protected FHIR base only."""
    smart_ehr.load_demo(DEMO_01)
    smart_ehr.load_demo(DEMO_02)
    parts = urlsplit(smart_ehr.iss)
    settings = make_settings(
        tmp_path_factory.mktemp("smart-hooks"),
        fhir_allowed_hosts=f"{parts.scheme}://{parts.netloc}",
        fhir_deadline_seconds=10.0,
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def service(service_app) -> Iterator[str]:
    """The service on a real HTTP port, as an EHR calls it."""
    with served(service_app) as url:
        yield url


def hook_call(service: str, iss: str, patient_id: str, token: str) -> requests.Response:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": iss,
        "fhirAuthorization": {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": SCOPES,
            "subject": "bonemet-cds",
            "patient": patient_id,
        },
        "context": {"userId": "Practitioner/test-practitioner", "patientId": patient_id},
    }
    client = requests.Session()
    client.trust_env = False
    return client.post(service + SERVICE, json=body, timeout=60)


def rule_ids(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def assert_refused(response: requests.Response, status: int, wording: str) -> None:
    assert response.status_code == 412, response.text
    error = response.json()
    assert error["error"] == "prefetch-unavailable"
    assert error["message"].count(f"HTTP {status}") == 1, "one reason, said once for every key"
    assert wording in error["message"]
    assert "cards" not in error


def assert_logged_without_token(caplog, token: str, wording: str) -> None:
    """The refusal is in the service's log (so the log was captured), the token is not."""
    assert wording in caplog.text
    assert token not in caplog.text


def test_an_accepted_token_gets_the_demo_patients_cards(service, smart_ehr, caplog):
    token = smart_ehr.token_for(DEMO_01, SCOPES)
    with caplog.at_level(logging.DEBUG):
        response = hook_call(service, smart_ehr.iss, DEMO_01, token)
    assert response.status_code == 200, response.text
    expected = smart_ehr.demo_index.patient(DEMO_01).patient_view
    assert sorted(rule_ids(response.json()["cards"])) == sorted(expected)
    assert token not in caplog.text


def test_a_token_the_server_does_not_know_gets_a_412_naming_the_refusal(service, smart_ehr, caplog):
    with caplog.at_level(logging.DEBUG):
        response = hook_call(service, smart_ehr.iss, DEMO_01, "forged-token-value")
    assert_refused(response, 401, "refused the access token")
    assert_logged_without_token(caplog, "forged-token-value", "refused the access token")


@pytest.mark.parametrize("spoil", ["revoke", "expire"])
def test_a_revoked_or_expired_token_gets_a_412_not_an_empty_card_list(service, smart_ehr, caplog, spoil):
    token = smart_ehr.token_for(DEMO_01, SCOPES)
    assert hook_call(service, smart_ehr.iss, DEMO_01, token).status_code == 200
    getattr(smart_ehr, spoil)(token)
    with caplog.at_level(logging.DEBUG):
        response = hook_call(service, smart_ehr.iss, DEMO_01, token)
    assert_refused(response, 401, "refused the access token")
    assert_logged_without_token(caplog, token, "refused the access token")


def test_a_token_for_another_patient_gets_a_412_for_the_compartment(service, smart_ehr, caplog):
    token = smart_ehr.token_for(DEMO_02, SCOPES)
    with caplog.at_level(logging.DEBUG):
        response = hook_call(service, smart_ehr.iss, DEMO_01, token)
    assert_refused(response, 403, "refused access")
    assert_logged_without_token(caplog, token, "refused access")


def test_a_token_without_observation_scope_gets_a_data_unavailable_card(service, smart_ehr):
    """Patient and conditions readable, observations refused (403): the cards that need no laboratory
    value still come, and a card says which data the FHIR server refused, never silence about them."""
    token = smart_ehr.token_for(DEMO_01, "patient/Patient.rs patient/Condition.rs")
    response = hook_call(service, smart_ehr.iss, DEMO_01, token)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert "DATA-UNAVAILABLE" in rule_ids(cards)
    unavailable = next(c for c in cards if c["source"]["topic"]["code"] == "DATA-UNAVAILABLE")
    assert "Observation" in unavailable["detail"]


def test_the_narrowest_scopes_naming_each_prefetched_type_get_the_same_cards(
    service, service_app, smart_ehr, caplog
):
    """An EHR grants scopes type by type (the sandbox via the SMART launcher does): one `.rs` scope per
    type the service's prefetch reads is enough for the cards of `patient/*.rs`."""
    templates = service_app.extensions["bonemet"].prefetch_templates.values()
    types = sorted({template_type(template) for template in templates} | {"Medication"})
    narrow = " ".join(f"patient/{resource_type}.rs" for resource_type in types)
    supported = smart_configuration(session(), smart_ehr.iss)["scopes_supported"]
    assert set(narrow.split()) <= set(supported), "an app asking for these scopes is granted them"
    wide = hook_call(service, smart_ehr.iss, DEMO_01, smart_ehr.token_for(DEMO_01, SCOPES))
    with caplog.at_level(logging.WARNING):
        named = hook_call(service, smart_ehr.iss, DEMO_01, smart_ehr.token_for(DEMO_01, narrow))
    assert "FHIR read failed" not in caplog.text, "every prefetch key was read"
    assert named.status_code == wide.status_code == 200, named.text
    assert rule_ids(named.json()["cards"]) == rule_ids(wide.json()["cards"])
    assert "DATA-UNAVAILABLE" not in rule_ids(named.json()["cards"])
