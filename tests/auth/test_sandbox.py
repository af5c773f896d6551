"""The public CDS Hooks sandbox: its key set, and tokens shaped exactly like the ones it sends.

data/cds-hooks-sandbox-jwks.json is a copy of https://sandbox.cds-hooks.org/.well-known/jwks.json. The
sandbox signs with ES384, kid 44823f3d-..., a `jku` pointing at that URL, and exp = iat + 300.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from cds_service.auth import InMemoryReplayCache, JwtVerifier, KeySets, parse_trusted_issuers
from cds_service.auth.key_sets import FileKeySource
from tests.auth.conftest import AUDIENCE, refused

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
SANDBOX_JWKS_PATH = Path(__file__).parent / "data" / "cds-hooks-sandbox-jwks.json"
SANDBOX_JWKS = json.loads(SANDBOX_JWKS_PATH.read_text(encoding="utf-8"))
SANDBOX_KID = SANDBOX_JWKS["keys"][0]["kid"]
SANDBOX_CONFIG = json.dumps([{"iss": SANDBOX_ISS, "jwks_url": SANDBOX_JKU, "jku_allowed": [SANDBOX_JKU]}])


def sandbox_token(private_key: ec.EllipticCurvePrivateKey, now: float, *, jku: bool = True) -> str:
    """Header and payload exactly as the sandbox's jwt-generator.js builds them."""
    payload = {"iss": SANDBOX_ISS, "aud": AUDIENCE, "exp": round(now) + 300, "iat": round(now),
               "jti": str(uuid.uuid4())}
    header = {"alg": "ES384", "typ": "JWT", "kid": SANDBOX_KID, **({"jku": SANDBOX_JKU} if jku else {})}
    return jwt.encode(payload, private_key, algorithm="ES384", headers=header)


def _with_our_key(private_key: ec.EllipticCurvePrivateKey) -> dict:
    """The sandbox's JWK Set with only the public point replaced by ours: same kid, use, crv, alg."""
    ours = copy.deepcopy(SANDBOX_JWKS)
    public = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    ours["keys"][0].update(x=public["x"], y=public["y"])
    assert sorted(ours["keys"][0]) == sorted(SANDBOX_JWKS["keys"][0]) and ours != SANDBOX_JWKS
    return ours


def sandbox_verifier(mocked, served_jwks) -> JwtVerifier:
    mocked.get(SANDBOX_JKU, json=served_jwks)
    issuers = parse_trusted_issuers(SANDBOX_CONFIG)
    return JwtVerifier(issuers, InMemoryReplayCache(), key_sets=KeySets(issuers))


def test_sandbox_key_set_loads_as_one_p384_es384_key():
    (key,) = FileKeySource(SANDBOX_JWKS_PATH).keys()
    assert key.kid == SANDBOX_KID
    assert key.algorithms == {"ES384"}
    assert isinstance(key.public_key, ec.EllipticCurvePublicKey)
    assert key.public_key.curve.name == "secp384r1"


def test_documented_sandbox_configuration_parses():
    (issuer,) = parse_trusted_issuers(SANDBOX_CONFIG)
    assert (issuer.iss, issuer.jwks_url, issuer.jku_allowed) == (SANDBOX_ISS, SANDBOX_JKU, (SANDBOX_JKU,))


def test_token_with_sandbox_kid_but_another_p384_key_is_refused(mocked, ec_key):
    verifier = sandbox_verifier(mocked, SANDBOX_JWKS)
    refused(verifier, sandbox_token(ec_key, time.time()), "invalid signature")
    assert [c.request.url for c in mocked.calls] == [SANDBOX_JKU]


def test_token_signed_like_the_sandbox_with_our_own_published_key_passes(mocked, ec_key):
    verifier = sandbox_verifier(mocked, _with_our_key(ec_key))
    client = verifier.verify(sandbox_token(ec_key, time.time()), AUDIENCE)
    assert (client.iss, client.kid, client.sub, client.tenant) == (SANDBOX_ISS, SANDBOX_KID, None, None)


def test_sandbox_shaped_key_set_as_a_file_without_jku(tmp_path, ec_key):
    """An operator can pin the sandbox's key set in a file: then a token without jku uses the file."""
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(_with_our_key(ec_key)), encoding="utf-8")
    issuers = parse_trusted_issuers(json.dumps([{"iss": SANDBOX_ISS, "jwks_file": str(path)}]))
    verifier = JwtVerifier(issuers, InMemoryReplayCache())
    assert verifier.verify(sandbox_token(ec_key, time.time(), jku=False), AUDIENCE + "/").kid == SANDBOX_KID
    refused(verifier, sandbox_token(ec_key, time.time()), "jku not allowed for issuer")


def test_a_pinned_key_set_file_serves_tokens_naming_an_allowed_jku_without_fetching_it(
    tmp_path, ec_key, mocked
):
    """Offline sites pin the sandbox's keys in a file and list its jku: tokens as the sandbox sends them
    (with jku) pass on the file's keys, nothing is fetched, and a jku off the list is still refused."""
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(_with_our_key(ec_key)), encoding="utf-8")
    entry = {"iss": SANDBOX_ISS, "jwks_file": str(path), "jku_allowed": [SANDBOX_JKU]}
    issuers = parse_trusted_issuers(json.dumps([entry]))
    verifier = JwtVerifier(issuers, InMemoryReplayCache(), key_sets=KeySets(issuers))
    assert verifier.verify(sandbox_token(ec_key, time.time()), AUDIENCE).kid == SANDBOX_KID
    assert len(mocked.calls) == 0  # not one request: the jku URL was never contacted
    other = {"iss": SANDBOX_ISS, "jwks_file": str(path), "jku_allowed": ["https://elsewhere.example/jwks"]}
    strict = parse_trusted_issuers(json.dumps([other]))
    token = sandbox_token(ec_key, time.time())
    refused(JwtVerifier(strict, InMemoryReplayCache()), token, "jku not allowed for issuer")
