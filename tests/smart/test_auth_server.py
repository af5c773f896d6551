"""The SMART test EHR itself: OAuth 2.0 as SMART App Launch 2.0 asks (PKCE S256, `state`, the launch
context in the token response) and a FHIR endpoint that only answers valid tokens, inside their scopes
and their patient's compartment. The hook tests and the app's browser test rely on all of it."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from tests.smart.oauth_flow import (
    authorize,
    code_request,
    exchange,
    new_verifier,
    session,
    smart_configuration,
)

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("smart")]
REDIRECT = "http://127.0.0.1:9/callback"
DEMO_01, DEMO_02 = "demo-01-new-bm", "demo-02-za-kidney"
EHR_SCOPES = "launch openid fhirUser patient/Patient.rs patient/Observation.rs"


@pytest.fixture(scope="module")
def demo_01(smart_ehr):
    smart_ehr.load_demo(DEMO_01)
    smart_ehr.load_demo(DEMO_02)
    return DEMO_01


def public_client(smart_ehr) -> str:
    client_id = f"app-{uuid.uuid4().hex[:8]}"
    smart_ehr.register_client(client_id, REDIRECT)
    return client_id


def get(iss, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return session().get(f"{iss}/{path}", headers=headers, timeout=30)


def id_token_claims(smart_ehr, id_token):
    """The id token's claims, its signature checked against the server's published keys."""
    jwks = session().get(smart_configuration(session(), smart_ehr.iss)["jwks_uri"], timeout=30).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(id_token)["kid"]]
    return jwt.decode(id_token, key, algorithms=["RS256"], options={"verify_aud": False})


def ehr_launch(smart_ehr, patient, app_context=None, scope=EHR_SCOPES):
    """The whole EHR launch of a public client: authorize, then exchange the code with its verifier."""
    client, client_id, verifier = session(), public_client(smart_ehr), new_verifier()
    launch = smart_ehr.launch(patient, app_context)
    request = code_request(client_id, scope, verifier, "s-1", launch=launch)
    redirect = authorize(client, smart_ehr.iss, request, REDIRECT)
    return exchange(client, smart_ehr.iss, redirect.params["code"], REDIRECT, verifier, client_id)


def test_discovery_advertises_smart_app_launch_2(smart_ehr):
    config = smart_configuration(session(), smart_ehr.iss)
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric"} <= set(
        config["capabilities"]
    )
    assert {"context-ehr-patient", "permission-v2", "permission-patient"} <= set(config["capabilities"])
    assert "authorization_code" in config["grant_types_supported"]
    assert {"launch", "launch/patient", "patient/Observation.rs"} <= set(config["scopes_supported"])
    assert config["authorization_endpoint"].startswith(smart_ehr.issuer)


def test_capability_statement_names_the_oauth_endpoints(smart_ehr):
    """The CDS Hooks sandbox's SMART client reads only /metadata: without rest[0].security it never
    starts a launch (issue 12, part 3)."""
    statement = get(smart_ehr.iss, "metadata").json()
    security = statement["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["authorize"] == smart_configuration(session(), smart_ehr.iss)["authorization_endpoint"]
    assert uris["token"].endswith("/token")


def test_a_fhir_read_without_a_token_is_refused_with_401(smart_ehr, demo_01):
    response = get(smart_ehr.iss, f"Patient/{DEMO_01}")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", token="not-a-token").status_code == 401
    assert session().get(f"{smart_ehr.open_fhir_base}/Patient/{DEMO_01}", timeout=30).status_code == 200


def test_the_ehr_launch_returns_the_patient_and_app_context_with_the_token(smart_ehr, demo_01):
    response = ehr_launch(smart_ehr, DEMO_01, '{"rule": "BMA-INITIATION"}')
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["patient"] == DEMO_01
    assert body["appContext"] == '{"rule": "BMA-INITIATION"}'
    assert body["need_patient_banner"] is False
    assert set(body["scope"].split()) >= {"launch", "patient/Patient.rs", "patient/Observation.rs"}
    claims = id_token_claims(smart_ehr, body["id_token"])
    assert claims["fhirUser"].endswith("/Practitioner/test-practitioner")
    patient = get(smart_ehr.iss, f"Patient/{DEMO_01}", body["access_token"])
    assert patient.status_code == 200 and patient.json()["id"] == DEMO_01


def test_state_round_trips_and_the_code_comes_back_to_the_redirect_uri(smart_ehr):
    client, client_id, verifier = session(), public_client(smart_ehr), new_verifier()
    state = uuid.uuid4().hex
    request = code_request(client_id, EHR_SCOPES, verifier, state, launch=smart_ehr.launch(DEMO_01))
    redirect = authorize(client, smart_ehr.iss, request, REDIRECT)
    assert redirect.params["state"] == state
    assert redirect.params["code"]


def test_a_code_exchanged_with_the_wrong_verifier_is_refused(smart_ehr):
    client, client_id, verifier = session(), public_client(smart_ehr), new_verifier()
    request = code_request(client_id, EHR_SCOPES, verifier, "s", launch=smart_ehr.launch(DEMO_01))
    redirect = authorize(client, smart_ehr.iss, request, REDIRECT)
    wrong = exchange(client, smart_ehr.iss, redirect.params["code"], REDIRECT, new_verifier(), client_id)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert "access_token" not in wrong.json()


def test_an_authorization_request_without_pkce_is_refused(smart_ehr):
    client, client_id = session(), public_client(smart_ehr)
    request = code_request(client_id, EHR_SCOPES, new_verifier(), "s-2", launch=smart_ehr.launch(DEMO_01))
    del request["code_challenge"], request["code_challenge_method"]
    redirect = authorize(client, smart_ehr.iss, request, REDIRECT)
    assert redirect.params["error"] == "invalid_request"
    assert "code" not in redirect.params
    assert redirect.params["state"] == "s-2"


def test_an_unknown_launch_is_refused(smart_ehr):
    client, client_id = session(), public_client(smart_ehr)
    request = code_request(client_id, EHR_SCOPES, new_verifier(), "s-3", launch="no-such-launch")
    redirect = authorize(client, smart_ehr.iss, request, REDIRECT)
    assert redirect.params["error"] == "invalid_request"
    assert "code" not in redirect.params


def test_a_confidential_client_authenticates_at_the_token_endpoint(smart_ehr, demo_01):
    client, verifier = session(), new_verifier()
    client_id = f"conf-{uuid.uuid4().hex[:8]}"
    smart_ehr.register_client(client_id, REDIRECT, secret="s3cret")
    request = code_request(client_id, EHR_SCOPES, verifier, "s", launch=smart_ehr.launch(DEMO_01))
    code = authorize(client, smart_ehr.iss, request, REDIRECT).params["code"]
    refused = exchange(client, smart_ehr.iss, code, REDIRECT, verifier, client_id, secret="wrong")
    assert refused.status_code == 401
    code = authorize(client, smart_ehr.iss, request, REDIRECT).params["code"]
    accepted = exchange(client, smart_ehr.iss, code, REDIRECT, verifier, client_id, secret="s3cret")
    assert accepted.status_code == 200 and accepted.json()["patient"] == DEMO_01


def test_a_standalone_launch_gets_the_selected_patient_and_a_banner(smart_ehr, demo_01):
    client, client_id, verifier = session(), public_client(smart_ehr), new_verifier()
    smart_ehr.select_standalone_patient(DEMO_02)
    request = code_request(client_id, "launch/patient patient/Patient.rs", verifier, "s")
    code = authorize(client, smart_ehr.iss, request, REDIRECT).params["code"]
    body = exchange(client, smart_ehr.iss, code, REDIRECT, verifier, client_id).json()
    assert body["patient"] == DEMO_02
    assert body["need_patient_banner"] is True
    assert "appContext" not in body


def test_a_patient_token_reads_only_its_patients_compartment(smart_ehr, demo_01):
    token = smart_ehr.token_for(DEMO_01, "patient/*.rs")
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", token).status_code == 200
    assert get(smart_ehr.iss, f"Observation?patient={DEMO_01}", token).status_code == 200
    assert get(smart_ehr.iss, f"Patient/{DEMO_02}", token).status_code == 403
    assert get(smart_ehr.iss, f"Observation?patient={DEMO_02}", token).status_code == 403
    assert get(smart_ehr.iss, f"Condition?subject=Patient/{DEMO_02}", token).status_code == 403
    assert get(smart_ehr.iss, "Condition", token).status_code == 403
    search = f"{smart_ehr.iss}/Observation/_search"
    headers = {"Authorization": f"Bearer {token}"}
    assert session().post(search, data={"patient": DEMO_02}, headers=headers, timeout=30).status_code == 403
    assert session().post(search, data={"patient": DEMO_01}, headers=headers, timeout=30).status_code == 200


def test_a_read_of_another_patients_resource_by_id_is_refused(smart_ehr, demo_01):
    other = get(smart_ehr.open_fhir_base, f"Condition?patient={DEMO_02}").json()["entry"][0]["resource"]
    token = smart_ehr.token_for(DEMO_01, "patient/*.rs")
    assert get(smart_ehr.iss, f"Condition/{other['id']}", token).status_code == 403
    assert get(smart_ehr.iss, f"Condition/{other['id']}", smart_ehr.token_for(DEMO_02)).status_code == 200


def test_scopes_limit_the_resource_types(smart_ehr, demo_01):
    token = smart_ehr.token_for(DEMO_01, "patient/Patient.rs")
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", token).status_code == 200
    assert get(smart_ehr.iss, f"Observation?patient={DEMO_01}", token).status_code == 403
    v1 = smart_ehr.token_for(DEMO_01, "patient/Observation.read")
    assert get(smart_ehr.iss, f"Observation?patient={DEMO_01}", v1).status_code == 200
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", v1).status_code == 403


def test_search_links_point_back_at_the_protected_base(smart_ehr, demo_01):
    token = smart_ehr.token_for(DEMO_01, "patient/*.rs")
    bundle = get(smart_ehr.iss, f"Observation?patient={DEMO_01}&_count=2", token).json()
    urls = [link["url"] for link in bundle["link"]]
    assert urls and all(url.startswith(smart_ehr.iss + "/") for url in urls)
    next_url = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    assert session().get(next_url, timeout=30).status_code == 401
    assert session().get(next_url, headers={"Authorization": f"Bearer {token}"}, timeout=30).ok


def test_revoked_and_expired_tokens_are_refused(smart_ehr, demo_01):
    revoked, expired = smart_ehr.token_for(DEMO_01), smart_ehr.token_for(DEMO_01)
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", revoked).status_code == 200
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", expired).status_code == 200
    smart_ehr.revoke(revoked)
    smart_ehr.expire(expired)
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", revoked).status_code == 401
    assert get(smart_ehr.iss, f"Patient/{DEMO_01}", expired).status_code == 401


def test_the_server_and_its_admin_api_listen_on_127_0_0_1_only(smart_ehr):
    """Bound to 127.0.0.1 (not every address), the test-only admin API is out of reach of other hosts:
    even another loopback address of this machine is refused."""
    port = urlsplit(smart_ehr.issuer).port
    with pytest.raises(requests.ConnectionError):
        session().post(
            f"http://127.0.0.2:{port}/_ehr/token", json={"patient": DEMO_01, "scope": "x"}, timeout=5
        )
