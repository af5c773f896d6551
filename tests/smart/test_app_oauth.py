"""The bone health review's SMART launch at its edges, with the EHR's servers mocked (`responses`):
an `iss` off the allow-list is refused without a single request, `state` and PKCE are checked, a token
endpoint error is a clear page, a stale session asks for a relaunch, and the token never reaches a log or
a URL. The full launch against a real authorization server is in test_app_launch_browser.py."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from cryptography.fernet import Fernet

from cds_service.smart_app.session import LAUNCH_COOKIE, SESSION_COOKIE, AppSession

ISS = "https://ehr.example.org/fhir"
CONFIG_URL = f"{ISS}/.well-known/smart-configuration"
AUTHORIZE = "https://ehr.example.org/auth/authorize"
TOKEN_URL = "https://ehr.example.org/auth/token"
ACCESS_TOKEN = "eyJ-SECRET-ACCESS-TOKEN-never-logged"
SMART_CONFIGURATION = {
    "authorization_endpoint": AUTHORIZE,
    "token_endpoint": TOKEN_URL,
    "code_challenge_methods_supported": ["S256"],
    "capabilities": ["launch-ehr", "launch-standalone", "client-public", "permission-v2"],
}
TOKEN_RESPONSE = {
    "access_token": ACCESS_TOKEN,
    "token_type": "Bearer",
    "expires_in": 3600,
    "scope": "launch patient/Observation.rs",
    "patient": "demo-01-new-bm",
    "appContext": '{"rule": "ORAL-EXAM", "card": "3f0c"}',
}


@pytest.fixture
def smart_client(app_factory):
    app = app_factory(
        fhir_allowed_hosts="https://ehr.example.org", session_key=Fernet.generate_key().decode()
    )
    return app.test_client()


def _launch(client, rs, *, launch: str | None = "opaque-launch", config=None):
    rs.get(CONFIG_URL, json=config or SMART_CONFIGURATION)
    query = f"iss={ISS}" + (f"&launch={launch}" if launch else "")
    response = client.get(f"/smart/launch?{query}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response, parse_qs(urlsplit(response.headers["Location"]).query)


def test_an_iss_off_the_allow_list_is_refused_without_any_request(smart_client):
    with responses.RequestsMock() as rs:
        response = smart_client.get("/smart/launch?iss=https://attacker.example/fhir&launch=x")
        assert len(rs.calls) == 0
    assert response.status_code == 400
    assert "was not contacted" in response.get_data(as_text=True)
    assert "text/html" in response.content_type


@pytest.mark.parametrize(
    "iss", ["", "file:///etc/passwd", "https://user:pw@ehr.example.org/fhir", "http://127.0.0.1:1/"]
)
def test_malformed_or_internal_iss_values_are_refused_without_any_request(smart_client, iss):
    with responses.RequestsMock() as rs:
        response = smart_client.get("/smart/launch", query_string={"iss": iss})
        assert len(rs.calls) == 0
    assert response.status_code == 400


def test_ehr_launch_asks_for_pkce_s256_state_and_the_narrowest_v2_read_scopes(smart_client):
    with responses.RequestsMock() as rs:
        response, query = _launch(smart_client, rs)
    assert response.headers["Location"].startswith(AUTHORIZE + "?")
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert len(query["state"][0]) >= 20
    assert query["aud"] == [ISS] and query["launch"] == ["opaque-launch"]
    assert query["client_id"] == ["bonemet-bone-health-review"]
    assert query["redirect_uri"][0].endswith("/smart/callback")
    scopes = query["scope"][0].split()
    assert scopes[0] == "launch"
    assert "patient/Observation.rs" in scopes and "patient/MedicationRequest.rs" in scopes
    assert all(s == "launch" or re.fullmatch(r"patient/[A-Za-z]+\.rs", s) for s in scopes)
    assert not {"openid", "profile", "fhirUser", "offline_access"} & set(scopes)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(LAUNCH_COOKIE + "=") and "HttpOnly" in cookie
    assert query["state"][0] not in cookie  # sealed, not readable


def test_standalone_launch_asks_for_a_patient_picker_and_v1_scopes_on_a_v1_server(smart_client):
    config = {**SMART_CONFIGURATION, "capabilities": ["launch-standalone", "permission-v1"]}
    with responses.RequestsMock() as rs:
        _response, query = _launch(smart_client, rs, launch=None, config=config)
    scopes = query["scope"][0].split()
    assert scopes[0] == "launch/patient" and "launch" not in scopes
    assert "patient/Observation.read" in scopes and not any(s.endswith(".rs") for s in scopes)
    assert "launch" not in query


def test_a_server_without_smart_configuration_is_refused_clearly(smart_client):
    with responses.RequestsMock() as rs:
        rs.get(CONFIG_URL, status=404)
        response = smart_client.get(f"/smart/launch?iss={ISS}&launch=x")
    assert response.status_code == 502
    assert "publishes no SMART configuration" in response.get_data(as_text=True)


def test_a_server_without_pkce_s256_is_refused(smart_client):
    config = {**SMART_CONFIGURATION, "code_challenge_methods_supported": ["plain"]}
    with responses.RequestsMock() as rs:
        rs.get(CONFIG_URL, json=config)
        response = smart_client.get(f"/smart/launch?iss={ISS}&launch=x")
    assert response.status_code == 502
    assert "S256" in response.get_data(as_text=True)


def test_a_token_endpoint_off_the_allow_lists_is_refused_and_never_called(smart_client):
    config = {**SMART_CONFIGURATION, "token_endpoint": "https://elsewhere.example/token"}
    with responses.RequestsMock() as rs:
        rs.get(CONFIG_URL, json=config)
        response = smart_client.get(f"/smart/launch?iss={ISS}&launch=x")
        assert [c.request.url for c in rs.calls] == [CONFIG_URL]
    assert response.status_code == 400
    assert "BONEMET_SMART_TOKEN_HOSTS" in response.get_data(as_text=True)


def test_a_token_endpoint_on_its_own_allow_list_is_accepted(app_factory):
    app = app_factory(
        fhir_allowed_hosts="https://ehr.example.org", smart_token_hosts="https://login.example.org"
    )
    config = {**SMART_CONFIGURATION, "token_endpoint": "https://login.example.org/token"}
    with responses.RequestsMock() as rs:
        _launch(app.test_client(), rs, config=config)


def test_a_callback_without_the_launch_cookie_is_refused(smart_client):
    with responses.RequestsMock() as rs:
        response = smart_client.get("/smart/callback?code=abc&state=xyz")
        assert len(rs.calls) == 0
    assert response.status_code == 400
    assert "state unknown" in response.get_data(as_text=True)


@pytest.mark.parametrize("state", ["wrong-state", None])
def test_a_callback_with_a_missing_or_mismatched_state_is_refused_before_the_token_endpoint(
    smart_client, state
):
    with responses.RequestsMock() as rs:
        _launch(smart_client, rs)
        query = "code=abc" + (f"&state={state}" if state else "")
        response = smart_client.get(f"/smart/callback?{query}")
        assert [c.request.url for c in rs.calls] == [CONFIG_URL]  # the token endpoint was not called
    assert response.status_code == 400
    assert "state mismatch" in response.get_data(as_text=True)


def test_an_answer_naming_another_authorization_server_is_refused(smart_client):
    config = {**SMART_CONFIGURATION, "issuer": "https://ehr.example.org/auth"}
    with responses.RequestsMock() as rs:
        _r, query = _launch(smart_client, rs, config=config)
        state = query["state"][0]
        refused = smart_client.get(f"/smart/callback?code=c&state={state}&iss=https://other.example/auth")
        assert [c.request.url for c in rs.calls] == [CONFIG_URL]
        rs.post(TOKEN_URL, json=TOKEN_RESPONSE)
        accepted = smart_client.get(f"/smart/callback?code=c&state={state}&iss=https://ehr.example.org/auth")
    assert refused.status_code == 400 and "iss mismatch" in refused.get_data(as_text=True)
    assert accepted.status_code == 303


def test_a_redirecting_smart_configuration_is_not_followed(smart_client):
    with responses.RequestsMock() as rs:
        rs.get(CONFIG_URL, status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"})
        response = smart_client.get(f"/smart/launch?iss={ISS}&launch=x")
        assert [c.request.url for c in rs.calls] == [CONFIG_URL]
    assert response.status_code == 502


def test_an_authorization_error_is_shown_clearly(smart_client):
    response = smart_client.get("/smart/callback?error=access_denied&state=x")
    assert response.status_code == 400
    assert "did not authorize the app (access_denied)" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (400, {"error": "invalid_grant"}, "refused the code (invalid_grant)"),
        (500, {"error": "server_error"}, "failed or could not be reached"),
        (200, {"token_type": "Bearer", "patient": "p1"}, "no access token"),
        (200, {"access_token": "t", "token_type": "Bearer"}, "no patient in context"),
    ],
)
def test_token_endpoint_failures_give_a_clear_page(smart_client, status, body, shown):
    with responses.RequestsMock() as rs:
        _r, query = _launch(smart_client, rs)
        rs.post(TOKEN_URL, json=body, status=status)
        response = smart_client.get(f"/smart/callback?code=abc&state={query['state'][0]}")
    assert response.status_code == 502
    assert shown in response.get_data(as_text=True)
    assert SESSION_COOKIE + "=" not in response.headers.get("Set-Cookie", "")


def test_the_code_exchange_sends_the_pkce_verifier_and_keeps_the_token_out_of_urls_and_logs(
    smart_client, caplog
):
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock() as rs:
        _r, query = _launch(smart_client, rs)
        rs.post(TOKEN_URL, json=TOKEN_RESPONSE)
        response = smart_client.get(f"/smart/callback?code=the-code&state={query['state'][0]}")
        sent = parse_qs(rs.calls[-1].request.body)
    assert sent["grant_type"] == ["authorization_code"] and sent["code"] == ["the-code"]
    assert len(sent["code_verifier"][0]) >= 43
    assert "client_secret" not in sent  # a public client by default
    assert response.status_code == 303
    assert response.headers["Location"] == "/smart/review"
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith(SESSION_COOKIE + "=") and "HttpOnly" in c for c in cookies)
    for text in [response.headers["Location"], *cookies, caplog.text]:
        assert ACCESS_TOKEN not in text
        assert "demo-01-new-bm" not in text  # the patient id is sealed too


def test_a_confidential_client_authenticates_with_its_secret(app_factory):
    app = app_factory(
        fhir_allowed_hosts="https://ehr.example.org",
        smart_client_id="review",
        smart_client_secret="s3cret-value",
    )
    client = app.test_client()
    with responses.RequestsMock() as rs:
        _r, query = _launch(client, rs)
        rs.post(TOKEN_URL, json=TOKEN_RESPONSE)
        client.get(f"/smart/callback?code=c&state={query['state'][0]}")
        request = rs.calls[-1].request
    assert request.headers["Authorization"].startswith("Basic ")
    assert "code_verifier" in parse_qs(request.body)  # PKCE as well


def test_review_without_a_session_asks_for_a_relaunch(smart_client):
    response = smart_client.get("/smart/review")
    assert response.status_code == 401
    assert "Open the app again" in response.get_data(as_text=True)


def _sealed(app, *, started: float, sealed_at: float) -> str:
    sealer = app.extensions["bonemet_smart"].sealer
    session = AppSession(ISS, "p1", ACCESS_TOKEN, "launch", None, started, None)
    token = sealer.seal_session(session)
    data = sealer._fernet.decrypt(token.encode())
    return sealer._fernet.encrypt_at_time(data, int(sealed_at)).decode()


@pytest.mark.parametrize(
    ("started_ago", "idle_for"),
    [(60, 31 * 60), (9 * 3600, 60)],
    ids=["idle-past-30-minutes", "older-than-8-hours"],
)
def test_an_expired_session_asks_for_a_relaunch_and_reads_nothing(smart_client, started_ago, idle_for):
    now = time.time()
    cookie = _sealed(smart_client.application, started=now - started_ago, sealed_at=now - idle_for)
    smart_client.set_cookie(SESSION_COOKIE, cookie, path="/smart")
    with responses.RequestsMock() as rs:
        response = smart_client.get("/smart/review")
        assert len(rs.calls) == 0
    assert response.status_code == 401
    assert "Your session has ended" in response.get_data(as_text=True)


def test_a_cookie_sealed_by_another_key_is_not_a_session(smart_client, app_factory):
    other = app_factory(fhir_allowed_hosts="https://ehr.example.org")
    now = time.time()
    smart_client.set_cookie(SESSION_COOKIE, _sealed(other, started=now, sealed_at=now), path="/smart")
    assert smart_client.get("/smart/review").status_code == 401


def test_pages_forbid_scripts_and_allow_framing_only_by_the_ehr(smart_client, app_factory):
    csp = smart_client.get("/smart/review").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'self' https://ehr.example.org;" in csp
    configured = app_factory(
        fhir_allowed_hosts="https://ehr.example.org", smart_frame_ancestors="https://portal.example.org"
    )
    csp = configured.test_client().get("/smart/review").headers["Content-Security-Policy"]
    assert "frame-ancestors https://portal.example.org;" in csp
