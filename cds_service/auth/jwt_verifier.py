"""Verifies the JWT a CDS Client sends with every call (CDS Hooks 2.0, "Trusting CDS Clients").

Order matters: the algorithm is checked before any key lookup (so `none` and HS* never reach a key); the
unverified `iss` and `jku` only choose among key sources the operator configured; the signature is
verified before any claim is believed; the `jti` is recorded last, so a token refused for another reason
does not use up its `jti`. A token may live at most `max_lifetime_seconds` (default 5 minutes, as SMART
Backend Services allow for client assertions), both as `exp - iat` and as `exp` beyond now: a token
minted to last ten years is refused, and so the replay cache never holds a `jti` for longer than that
plus the leeway. PyJWT's own time and audience checks are switched off because they read the
system clock and compare `aud` exactly: ours use the injected clock and ignore a trailing slash.

Every refusal is an `AuthError` whose message is a short, stable reason ("token expired", "untrusted
issuer", ...). Messages never quote the token or its claim values, so they are safe to log and return.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.types import Options

from cds_service.auth.issuers import TrustedIssuer
from cds_service.auth.key_sets import ALLOWED_ALGORITHMS, KeySets, KeySource, VerificationKey, select_key
from cds_service.auth.replay import ReplayCache
from cds_service.errors import AuthError

MAX_TOKEN_CHARS = 8192
MAX_CLAIM_CHARS = 256  # jti, sub, tenant: a jti is stored, so its size is bounded
MAX_TIME_CLAIM = 253_402_300_799  # 9999-12-31T23:59:59Z: later (or negative) is not a time, it is an attack

# Signature only: claims are checked below with the injected clock.
_SIGNATURE_ONLY: Options = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "require": [],
    "enforce_minimum_key_length": True,
}
_UNVERIFIED: Options = {"verify_signature": False}


@dataclass(frozen=True)
class VerifiedClient:
    """Who called: safe to log (no patient data), useful for audit and per-tenant behaviour."""

    iss: str
    sub: str | None
    kid: str | None
    jti: str
    tenant: str | None


class JwtVerifier:
    """Checks a bearer token against the trusted issuers; one instance per process, thread-safe."""

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        replay_cache: ReplayCache,
        *,
        leeway_seconds: float = 60,
        max_lifetime_seconds: float = 300,
        clock: Callable[[], float] = time.time,
        key_sets: KeySets | None = None,
    ) -> None:
        self._issuers = {issuer.iss: issuer for issuer in issuers}
        self._key_sets = key_sets if key_sets is not None else KeySets(self._issuers.values())
        self._replay = replay_cache
        self._leeway = float(leeway_seconds)
        self._max_lifetime = float(max_lifetime_seconds)
        self._clock = clock

    def verify(self, token: str, audience: str) -> VerifiedClient:
        """The verified caller, or AuthError; `audience` is the full URL the client called."""
        header, unverified = _read_unverified(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise AuthError("unsupported algorithm")
        issuer = self._trusted_issuer(unverified)
        key = select_key(self._key_source(issuer, header), header.get("kid"), alg)
        claims = _verified_claims(token, key)
        now = self._clock()
        expires_at = _check_claims(claims, issuer.iss, audience, now, self._leeway)
        _check_lifetime(claims, expires_at, now, self._max_lifetime, self._leeway)
        client = VerifiedClient(
            iss=issuer.iss,
            sub=_string_claim(claims, "sub"),
            kid=key.kid,
            jti=_required_string(claims, "jti"),
            tenant=_string_claim(claims, "tenant"),
        )
        if self._replay.seen_before(issuer.iss, client.jti, expires_at + self._leeway):
            raise AuthError("replayed jti")
        return client

    def _trusted_issuer(self, unverified: Mapping[str, Any]) -> TrustedIssuer:
        iss = unverified.get("iss")
        if not isinstance(iss, str) or not iss:
            raise AuthError("missing iss")
        issuer = self._issuers.get(iss)
        if issuer is None:
            raise AuthError("untrusted issuer")
        return issuer

    def _key_source(self, issuer: TrustedIssuer, header: Mapping[str, Any]) -> KeySource:
        """The issuer's configured keys, or the `jku` set when that URL is on the issuer's allow-list.

        An issuer pinned to a `jwks_file` keeps its file even when a token names an allowed `jku`: the file
        is the operator's copy of that key set (an offline site, pinned keys), so nothing is fetched."""
        jku = header.get("jku")
        if jku is None:
            return self._key_sets.default_source(issuer.iss)
        if not isinstance(jku, str) or jku not in issuer.jku_allowed:
            raise AuthError("jku not allowed for issuer")
        if issuer.jwks_file is not None:
            return self._key_sets.default_source(issuer.iss)
        return self._key_sets.url_source(jku)


def _read_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload, unverified: only used to pick the algorithm, issuer and key.

    PyJWT refuses a `crit` header naming an extension it does not implement, and `b64: false`.
    """
    if not isinstance(token, str) or not token:
        raise AuthError("missing bearer token")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthError("token too large")
    try:
        decoded = jwt.decode_complete(token, options=_UNVERIFIED)
    except (jwt.PyJWTError, ValueError, TypeError):
        raise AuthError("malformed token") from None
    return decoded["header"], decoded["payload"]


def _verified_claims(token: str, key: VerificationKey) -> dict[str, Any]:
    """Verify the signature with algorithms derived from the key, never from the token alone."""
    try:
        return jwt.decode(token, key.public_key, algorithms=sorted(key.algorithms), options=_SIGNATURE_ONLY)
    except jwt.InvalidSignatureError:
        raise AuthError("invalid signature") from None
    except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError):
        raise AuthError("algorithm does not match key") from None
    except jwt.PyJWTError:
        raise AuthError("malformed token") from None


def _check_claims(claims: Mapping[str, Any], iss: str, audience: str, now: float, leeway: float) -> float:
    """Check iss, exp, iat, nbf and aud; returns exp."""
    if claims.get("iss") != iss:
        raise AuthError("untrusted issuer")
    exp = _time_claim(claims, "exp", required=True)
    iat = _time_claim(claims, "iat", required=True)
    nbf = _time_claim(claims, "nbf", required=False)
    if exp <= now - leeway:
        raise AuthError("token expired")
    if iat > now + leeway:
        raise AuthError("token issued in the future")
    if nbf is not None and nbf > now + leeway:
        raise AuthError("token not yet valid")
    if not _audience_matches(claims.get("aud"), audience):
        raise AuthError("wrong audience")
    return exp


def _check_lifetime(
    claims: Mapping[str, Any], exp: float, now: float, max_lifetime: float, leeway: float
) -> None:
    """A short-lived token only: `exp - iat` and `exp - now` at most `max_lifetime` (now with leeway)."""
    if exp - float(claims["iat"]) > max_lifetime:
        raise AuthError("token lifetime too long")
    if exp - now > max_lifetime + leeway:
        raise AuthError("token expires too far in the future")


def _time_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> Any:
    value = claims.get(name)
    if value is None:
        if required:
            raise AuthError(f"missing {name}")
        return None
    # The range check also refuses NaN and infinities, and runs before any float() of a 400-digit int.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_TIME_CLAIM:
        raise AuthError(f"invalid {name}")
    return float(value)


def _required_string(claims: Mapping[str, Any], name: str) -> str:
    value = _string_claim(claims, name)
    if value is None:
        raise AuthError(f"missing {name}")
    return value


def _string_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_CLAIM_CHARS:
        raise AuthError(f"invalid {name}")
    return value


def _audience_matches(aud: Any, audience: str) -> bool:
    """`aud` is a string or a list of strings (RFC 7519 4.1.3); a trailing slash is not significant."""
    wanted = audience.rstrip("/")
    values = aud if isinstance(aud, list) else [aud]
    return bool(wanted) and any(isinstance(v, str) and v.rstrip("/") == wanted for v in values)
