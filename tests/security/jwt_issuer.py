"""A CDS Client's signing side for tests that go through HTTP: its keys, its issuer entry, its tokens.

Two issuers, as an operator would configure them: one whose key set is a file (FILE_ISS) and one whose
key set is fetched by URL with a second allowed `jku` (URL_ISS; tests serve that URL with `responses`).
Tokens carry the real clock's time, because the app's verifier reads the real clock.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tests.auth.conftest import jwks, mint, public_jwk

FILE_ISS = "https://ehr.bonemet-test.org"
URL_ISS = "https://ehr-url.bonemet-test.org"
JWKS_URL = "https://ehr-url.bonemet-test.org/.well-known/jwks.json"
ALT_JKU = "https://keys.ehr-url.bonemet-test.org/jwks.json"
PUBLIC_URL = "https://cds.bonemet-test.org"
KID = "ehr-es384-1"


class TestIssuer:
    """One EC P-384 key, published as a JWK Set file and (for URL_ISS) as the body of JWKS_URL."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, directory: Path) -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.key_set = jwks(public_jwk(self.key, KID, "ES384"))
        self.jwks_file = directory / "ehr-jwks.json"
        self.jwks_file.write_text(json.dumps(self.key_set), encoding="utf-8")

    def trusted_issuers(self, *, with_url_issuer: bool = False) -> str:
        """The BONEMET_TRUSTED_ISSUERS value (inline JSON)."""
        entries: list[dict[str, Any]] = [{"iss": FILE_ISS, "jwks_file": str(self.jwks_file)}]
        if with_url_issuer:
            entries.append({"iss": URL_ISS, "jwks_url": JWKS_URL, "jku_allowed": [JWKS_URL, ALT_JKU]})
        return json.dumps(entries)

    def token(self, path: str, *, key: Any = None, **claims: Any) -> str:
        """A valid token for a call to `path` (audience PUBLIC_URL + path); claims override or DROP."""
        now = time.time()
        claims.setdefault("aud", PUBLIC_URL + path)
        return mint(
            key or self.key,
            "ES384",
            iss=claims.pop("iss", FILE_ISS),
            kid=claims.pop("kid", KID),
            header=claims.pop("header", None),
            now=now,
            **claims,
        )

    def headers(self, path: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(path, **claims)}"}
