"""Keys, key sets and token minting for the auth tests; every key is generated here, none is checked in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.auth import InMemoryReplayCache, JwtVerifier, KeySets, TrustedIssuer
from cds_service.errors import AuthError

NOW = 1_800_000_000.0
AUDIENCE = "https://cds.example.org/cds-services/bone-mets"
FILE_ISS = "https://ehr-file.example.org"
URL_ISS = "https://ehr-url.example.org"
JWKS_URL = "https://ehr-url.example.org/.well-known/jwks.json"
ALT_JKU = "https://keys.ehr-url.example.org/jwks.json"
EVIL_JKU = "https://attacker.example.net/jwks.json"
DROP = object()


class FakeClock:
    """One clock for the verifier (wall time) and the key sets (monotonic): tests move it by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def other_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key: Any, kid: str | None, alg: str | None = None) -> dict[str, Any]:
    """The public JWK of a key; `alg` is left out unless given, like many real EHR key sets."""
    public = private_key.public_key()
    algorithm = ECAlgorithm if isinstance(public, ec.EllipticCurvePublicKey) else RSAAlgorithm
    jwk: dict[str, Any] = algorithm.to_jwk(public, as_dict=True)
    jwk["use"] = "sig"
    if kid is not None:
        jwk["kid"] = kid
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


def mint(private_key: Any, alg: str, *, iss: str = FILE_ISS, kid: str | None = "ec-1",
         header: dict[str, Any] | None = None, now: float = NOW, **claims: Any) -> str:
    """A signed token with CDS Hooks claims; pass a claim as DROP to leave it out."""
    payload: dict[str, Any] = {"iss": iss, "sub": "ehr-client", "aud": AUDIENCE, "exp": int(now) + 300,
                               "iat": int(now), "jti": str(uuid.uuid4())}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not DROP}
    headers = {"typ": "JWT", **({"kid": kid} if kid is not None else {}), **(header or {})}
    return jwt.encode(payload, private_key, algorithm=alg, headers=headers)


def refused(verifier: JwtVerifier, token: str, reason: str, audience: str = AUDIENCE) -> None:
    """Assert the exact stable reason, and that nothing of the token leaks into the message."""
    with pytest.raises(AuthError) as caught:
        verifier.verify(token, audience)
    message = caught.value.message
    assert message == reason
    assert all(part not in message for part in token.split(".") if len(part) > 8)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """Every HTTP call made by the test is recorded; an unregistered URL fails the call."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def file_jwks(tmp_path: Path, ec_key: Any) -> Path:
    path = tmp_path / "ehr-jwks.json"
    path.write_text(json.dumps(jwks(public_jwk(ec_key, "ec-1", "ES384"))), encoding="utf-8")
    return path


@pytest.fixture
def issuers(file_jwks: Path) -> tuple[TrustedIssuer, ...]:
    return (
        TrustedIssuer(FILE_ISS, None, file_jwks, ()),
        TrustedIssuer(URL_ISS, JWKS_URL, None, (JWKS_URL, ALT_JKU)),
    )


@pytest.fixture
def replay_cache(clock: FakeClock) -> InMemoryReplayCache:
    return InMemoryReplayCache(clock=clock)


@pytest.fixture
def verifier(issuers: tuple[TrustedIssuer, ...], replay_cache: InMemoryReplayCache,
             clock: FakeClock) -> JwtVerifier:
    return JwtVerifier(issuers, replay_cache, leeway_seconds=60, clock=clock,
                       key_sets=KeySets(issuers, clock=clock))
