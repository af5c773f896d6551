"""The CDS Hooks 2.0 HTTP contract, status code by status code, through the Flask app."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cds_service.persistence import CardRecord
from tests.http.requests_factory import hook_request, patient_bundle_prefetch

SERVICES = {
    "bonemet-patient-view": "patient-view",
    "bonemet-order-select": "order-select",
    "bonemet-order-sign": "order-sign",
}


def test_discovery_lists_the_three_services_with_prefetch(client):
    """An EHR reading discovery finds each service with its hook and prefetch templates."""
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.get_json()["services"]}
    assert {k: v["hook"] for k, v in services.items()} == SERVICES
    prefetch = services["bonemet-patient-view"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert "17861-6" in prefetch["observations"] and "2160-0" in prefetch["observations"]
    for key in ("conditions", "medications", "imaging", "procedures", "serviceRequests"):
        assert "patient={{context.patientId}}" in prefetch[key]


@pytest.mark.parametrize("service_id,hook", sorted(SERVICES.items()))
def test_each_service_answers_200_with_cards(client, service_id, hook):
    response = client.post(f"/cds-services/{service_id}", json=hook_request(hook))
    assert response.status_code == 200
    assert isinstance(response.get_json()["cards"], list)


def test_lung_cancer_patient_gets_cards_and_they_are_recorded(client, app):
    """A patient with lung cancer and no staging bone scan gets at least BASELINE-BONE-SCAN."""
    response = client.post("/cds-services/bonemet-patient-view", json=hook_request())
    codes = {c["source"]["topic"]["code"] for c in response.get_json()["cards"]}
    assert "BASELINE-BONE-SCAN" in codes
    store = app.extensions["bonemet"].store
    assert store.flush_cards()
    with store.engine.connect() as connection:
        recorded = {row.card_uuid: row.rule_id for row in connection.execute(select(CardRecord))}
    assert recorded == {c["uuid"]: c["source"]["topic"]["code"] for c in response.get_json()["cards"]}


def test_patient_without_lung_cancer_gets_no_cards(client):
    body = hook_request(prefetch=patient_bundle_prefetch(with_lung_cancer=False))
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 200 and response.get_json() == {"cards": []}


def test_unknown_service_is_404(client):
    response = client.post("/cds-services/no-such-service", json=hook_request())
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown-service"


def test_wrong_content_type_is_415(client):
    response = client.post(
        "/cds-services/bonemet-patient-view",
        data="hook=patient-view",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415


def test_body_over_the_limit_is_413(app_factory):
    client = app_factory(max_body_bytes=2048).test_client()
    body = hook_request()
    body["prefetch"]["patient"]["text"] = {"status": "generated", "div": "x" * 5000}
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload-too-large"


def test_malformed_json_is_400(client):
    response = client.post(
        "/cds-services/bonemet-patient-view", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid-request"


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda b: b.pop("hookInstance"), "/hookInstance"),
        (lambda b: b["context"].pop("patientId"), "/context/patientId"),
        (lambda b: b.update(hookInstance="not-a-uuid"), "/hookInstance"),
        (
            lambda b: b.update(
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 60,
                    "scope": "patient/*.read",
                    "subject": "x",
                }
            ),
            "/fhirServer",
        ),
    ],
)
def test_invalid_request_names_the_failing_field(client, mutate, field):
    body = hook_request()
    mutate(body)
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_missing_prefetch_without_fhir_server_is_412(client):
    """No conditions in prefetch and no FHIR server to read them from: the service cannot decide."""
    body = hook_request()
    del body["prefetch"]["conditions"]
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 412
    assert "Condition" in response.get_json()["message"]


def test_fhir_server_not_on_the_allow_list_is_412_and_not_contacted(client):
    body = hook_request(fhirServer="https://evil.example.net/fhir")
    del body["prefetch"]["conditions"]
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 412


def test_jwt_required_by_default_is_401_without_token(app_factory, tmp_path):
    import json

    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    key = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**key, "kid": "k1", "alg": "ES384", "use": "sig"}]}))
    issuers = f'[{{"iss": "https://ehr.test", "jwks_file": "{jwks}"}}]'
    client = app_factory(auth_mode="jwt", trusted_issuers=issuers).test_client()
    response = client.post("/cds-services/bonemet-patient-view", json=hook_request())
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert "cards" not in response.get_json()


def test_internal_error_is_500_never_an_empty_card_list(client, monkeypatch):
    import hooks.runner

    def broken(*args, **kwargs):
        raise KeyError("Jane Doe")

    monkeypatch.setattr("cds_service.pipeline.run_rules", broken)
    response = client.post("/cds-services/bonemet-patient-view", json=hook_request())
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "internal-error" and "cards" not in body
    assert "Jane" not in response.get_data(as_text=True)
    assert hooks.runner.run_rules is not broken


def test_cors_preflight_allows_the_sandbox_headers(client):
    response = client.options(
        "/cds-services/bonemet-patient-view",
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")


def test_feedback_is_persisted_and_joined_to_the_card(client, app):
    cards = client.post("/cds-services/bonemet-patient-view", json=hook_request()).get_json()["cards"]
    card = cards[0]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "system": "https://bonemet-cds.org/fhir/CodeSystem/override-reason",
                        "code": "patient-declined",
                    },
                    "userComment": "Jane Doe said no",
                },
                "outcomeTimestamp": "2026-11-23T10:00:00Z",
            }
        ]
    }
    response = client.post("/cds-services/bonemet-patient-view/feedback", json=feedback)
    assert response.status_code == 200 and response.get_json() == {"recorded": 1}
    rows = app.extensions["bonemet"].store.override_summary()
    overridden = [r for r in rows if r.outcome == "overridden"]
    assert overridden[0].rule_id == card["source"]["topic"]["code"]
    assert overridden[0].reason_code == "patient-declined"
    assert overridden[0].reason_display == "Patient declined"  # the sandbox sends no display: the card's


def test_invalid_feedback_is_400(client):
    bad = {
        "feedback": [
            {"card": str(uuid.uuid4()), "outcome": "maybe", "outcomeTimestamp": "2026-11-23T10:00:00Z"}
        ]
    }
    response = client.post("/cds-services/bonemet-patient-view/feedback", json=bad)
    assert response.status_code == 400
    assert response.get_json()["field"].endswith("/outcome")


def test_health(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
