"""Forged, stale and replayed JWTs, through HTTP: each is a 401 with its reason, no cards, nothing stored.

tests/auth tests every check of the verifier on its own (exact reasons, key-fetch behaviour, the edge
of each leeway). This file asks the end-to-end question an attacker asks: does any of those tokens get
a clinical answer, or leave a trace, when sent to the running app? One matrix of attacks, sent to both
authenticated endpoints (a hook call and feedback), each with a body full of patient data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cds_service.persistence import CardRecord, Feedback
from tests.auth.conftest import DROP
from tests.security.jwt_issuer import ALT_JKU, FILE_ISS, JWKS_URL, KID, PUBLIC_URL, URL_ISS, TestIssuer
from tests.security.patient_data import PATIENT_STRINGS, feedback_request, identified_hook_request

HOOK_PATH = "/cds-services/bonemet-patient-view"
FEEDBACK_PATH = HOOK_PATH + "/feedback"
EVIL_JKU = "https://attacker.example.net/jwks.json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def _claims(path: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": FILE_ISS,
        "aud": PUBLIC_URL + path,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return claims


class Attack:
    """What an attacker can build, given the issuer's public material and one token seen on the wire."""

    def __init__(self, issuer: TestIssuer, client: FlaskClient, body: Callable[[], dict[str, Any]]) -> None:
        self.issuer, self.client, self.body = issuer, client, body

    def alg_none(self, path: str) -> str:
        return f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': KID})}.{_segment(_claims(path))}."

    def hs256_with_public_key(self, path: str) -> str:
        """Key confusion: HMAC keyed with the issuer's public key (PEM), which anyone can download."""
        public = self.issuer.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': KID})}.{_segment(_claims(path))}"
        signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def tampered_payload(self, path: str) -> str:
        header, payload, signature = self.issuer.token(path).split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = "another-ehr-client"
        return f"{header}.{_segment(claims)}.{signature}"

    def signed_by_another_key(self, path: str) -> str:
        return self.issuer.token(path, key=ec.generate_private_key(ec.SECP384R1()))

    def replayed(self, path: str) -> str:
        token = self.issuer.token(path)
        first = self.client.post(path, json=self.body(), headers={"Authorization": f"Bearer {token}"})
        assert first.status_code == 200, first.get_json()
        return token


def _signed(**claims: Any) -> Callable[[Attack, str], str]:
    return lambda attack, path: attack.issuer.token(path, **claims)


def _now(offset: int) -> int:
    return int(time.time()) + offset


# (attack, the reason the 401 must give)
ATTACKS: dict[str, tuple[Callable[[Attack, str], str], str]] = {
    "alg-none": (Attack.alg_none, "unsupported algorithm"),
    "hs256-signed-with-public-key": (Attack.hs256_with_public_key, "unsupported algorithm"),
    "expired": (lambda a, p: a.issuer.token(p, exp=_now(-3600), iat=_now(-3900)), "token expired"),
    "nbf-in-the-future": (lambda a, p: a.issuer.token(p, nbf=_now(3600)), "token not yet valid"),
    "iat-in-the-future": (
        lambda a, p: a.issuer.token(p, iat=_now(3600), exp=_now(3900)),
        "token issued in the future",
    ),
    "wrong-aud": (_signed(aud=PUBLIC_URL + "/cds-services/another-service"), "wrong audience"),
    "aud-of-the-other-endpoint": (
        lambda a, p: a.issuer.token(p, aud=PUBLIC_URL + (HOOK_PATH if p == FEEDBACK_PATH else FEEDBACK_PATH)),
        "wrong audience",
    ),
    "untrusted-iss": (_signed(iss="https://evil.example.net"), "untrusted issuer"),
    "jku-outside-allowed-urls": (
        _signed(iss=URL_ISS, header={"jku": EVIL_JKU}),
        "jku not allowed for issuer",
    ),
    "jku-on-issuer-with-key-file": (_signed(header={"jku": ALT_JKU}), "jku not allowed for issuer"),
    "unknown-kid": (_signed(kid="kid-nobody-published"), "unknown kid"),
    "tampered-payload": (Attack.tampered_payload, "invalid signature"),
    "signed-by-another-key": (Attack.signed_by_another_key, "invalid signature"),
    "replayed-jti": (Attack.replayed, "replayed jti"),
    "missing-iss": (_signed(iss=DROP), "missing iss"),
    "missing-aud": (_signed(aud=DROP), "wrong audience"),
    "missing-exp": (_signed(exp=DROP), "missing exp"),
    "missing-iat": (_signed(iat=DROP), "missing iat"),
    "missing-jti": (_signed(jti=DROP), "missing jti"),
}
ENDPOINTS = {"hook-call": HOOK_PATH, "feedback": FEEDBACK_PATH}


@pytest.fixture
def issuer(tmp_path) -> TestIssuer:
    return TestIssuer(tmp_path)


@pytest.fixture
def key_server(issuer: TestIssuer) -> Iterator[responses.RequestsMock]:
    """The URL issuer's key set endpoints; anything else (the attacker's jku) is an unregistered URL."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(JWKS_URL, json=issuer.key_set)
        mocked.get(ALT_JKU, json=issuer.key_set)
        yield mocked


@pytest.fixture
def jwt_app(app_factory: Callable[..., Flask], issuer: TestIssuer) -> Flask:
    return app_factory(
        auth_mode="jwt", trusted_issuers=issuer.trusted_issuers(with_url_issuer=True), public_url=PUBLIC_URL
    )


def _stored_rows(app: Flask) -> tuple[int, int]:
    assert app.extensions["bonemet"].store.flush_cards()  # card records are written behind the answer
    with app.extensions["bonemet"].store.engine.connect() as connection:
        cards = connection.execute(select(func.count()).select_from(CardRecord)).scalar_one()
        feedback = connection.execute(select(func.count()).select_from(Feedback)).scalar_one()
    return cards, feedback


def _body_for(path: str) -> Callable[[], dict[str, Any]]:
    return identified_hook_request if path == HOOK_PATH else feedback_request


def test_a_valid_token_is_accepted_on_both_endpoints(jwt_app: Flask, issuer: TestIssuer, key_server) -> None:
    """The other side of every refusal below: the same set-up lets a correctly signed token through."""
    client = jwt_app.test_client()
    for path in ENDPOINTS.values():
        response = client.post(path, json=_body_for(path)(), headers=issuer.headers(path))
        assert response.status_code == 200, response.get_json()
    via_jku = issuer.headers(HOOK_PATH, iss=URL_ISS, header={"jku": ALT_JKU})
    assert client.post(HOOK_PATH, json=identified_hook_request(), headers=via_jku).status_code == 200


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("attack_name", sorted(ATTACKS))
def test_attack_is_refused_with_its_reason_and_leaves_no_trace(
    jwt_app: Flask, issuer: TestIssuer, key_server: responses.RequestsMock, attack_name: str, endpoint: str
) -> None:
    path = ENDPOINTS[endpoint]
    client = jwt_app.test_client()
    build, reason = ATTACKS[attack_name]
    token = build(Attack(issuer, client, _body_for(path)), path)
    before = _stored_rows(jwt_app)

    response = client.post(path, json=_body_for(path)(), headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    body = response.get_json()
    assert body == {"error": "unauthorized", "message": reason}
    text = response.get_data(as_text=True)
    assert not [s for s in PATIENT_STRINGS if s in text]
    assert not [part for part in token.split(".") if len(part) > 8 and part in text]
    assert _stored_rows(jwt_app) == before, "a refused call must record no card and no feedback"
    assert all(call.request.url != EVIL_JKU for call in key_server.calls)


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer-token", "Bearer a.b.c", "Bearer " + "x" * 9000],
)
def test_missing_or_malformed_authorization_header_is_refused(jwt_app: Flask, header: str) -> None:
    response = jwt_app.test_client().post(
        HOOK_PATH, json=identified_hook_request(), headers={"Authorization": header} if header else {}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert "cards" not in response.get_json()


def test_alg_none_is_refused_even_when_built_by_pyjwt(jwt_app: Flask) -> None:
    """PyJWT's own `none` encoding (no signature segment at all), not just a hand-built one."""
    token = jwt.encode(_claims(HOOK_PATH), None, algorithm="none")
    response = jwt_app.test_client().post(
        HOOK_PATH, json=identified_hook_request(), headers={"Authorization": f"Bearer {token}"}
    )
    assert (response.status_code, response.get_json()["message"]) == (401, "unsupported algorithm")
