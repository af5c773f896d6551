"""Key set parsing and the URL source's fetch rules (timeout, size cap, scheme)."""

from __future__ import annotations

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service.auth.key_sets import (
    MAX_JWKS_BYTES,
    RSA_ALGORITHMS,
    KeySetError,
    UrlKeySource,
    parse_jwks,
)
from cds_service.errors import AuthError
from tests.auth.conftest import JWKS_URL, FakeClock, jwks, public_jwk


def test_algorithms_follow_the_key_not_a_default(ec_key, rsa_key):
    keys = parse_jwks(jwks(public_jwk(ec_key, "e"), public_jwk(rsa_key, "r"),
                           public_jwk(rsa_key, "r2", "PS384")))
    assert [(k.kid, k.algorithms) for k in keys] == [
        ("e", {"ES384"}), ("r", RSA_ALGORITHMS), ("r2", {"PS384"})]


def test_unusable_members_are_skipped(ec_key, rsa_key):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    members = [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {**public_jwk(ec_key, "enc"), "use": "enc"},
        {**public_jwk(ec_key, "wrap"), "key_ops": ["wrapKey"]},
        {**public_jwk(ec_key, "mismatch"), "alg": "RS384"},
        {**public_jwk(ec_key, "off-curve"), "y": public_jwk(ec_key, None)["x"]},
        public_jwk(ec.generate_private_key(ec.SECP256K1()), "k1"),
        public_jwk(weak, "weak"),
        "not a key",
        public_jwk(ec_key, "good"),
    ]
    assert [k.kid for k in parse_jwks({"keys": members})] == ["good"]


def test_private_members_are_ignored(ec_key):
    from jwt.algorithms import ECAlgorithm

    private = ECAlgorithm.to_jwk(ec_key, as_dict=True)
    (key,) = parse_jwks({"keys": [private]})
    assert isinstance(key.public_key, ec.EllipticCurvePublicKey)


@pytest.mark.parametrize("data", [[], {}, {"keys": "x"}, {"keys": []}])
def test_not_a_key_set(data):
    with pytest.raises(KeySetError):
        parse_jwks(data)


def test_url_source_refuses_non_http_schemes():
    from jwt import PyJWKClientError

    with pytest.raises(PyJWKClientError):
        UrlKeySource("file:///etc/passwd")


def test_oversized_key_set_is_refused(mocked):
    mocked.get(JWKS_URL, body=b" " * (MAX_JWKS_BYTES + 1))
    with pytest.raises(AuthError, match="issuer key set unavailable"):
        UrlKeySource(JWKS_URL, clock=FakeClock()).keys()


def test_non_json_and_connection_errors_are_refused(mocked):
    mocked.get(JWKS_URL, body="<html>")
    with pytest.raises(AuthError, match="issuer key set unavailable"):
        UrlKeySource(JWKS_URL, clock=FakeClock()).keys()
    mocked.replace("GET", JWKS_URL, body=requests.ConnectTimeout())
    with pytest.raises(AuthError, match="issuer key set unavailable"):
        UrlKeySource(JWKS_URL, clock=FakeClock()).keys()


def test_fetch_uses_timeout_no_redirects_and_no_proxy_environment(mocked, monkeypatch, ec_key):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "k")))
    source = UrlKeySource(JWKS_URL, clock=FakeClock())
    seen: dict = {}
    original = source._client._session.get

    def spy(url, **kwargs):
        seen.update(kwargs)
        return original(url, **kwargs)

    source._client._session.get = spy  # type: ignore[method-assign]
    assert [k.kid for k in source.keys()] == ["k"]
    assert seen["timeout"] == 3.0 and seen["allow_redirects"] is False
    assert source._client._session.trust_env is False
