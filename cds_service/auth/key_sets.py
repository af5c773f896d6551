"""Where the public keys of trusted issuers come from, and which key may verify which token.

A key source is either a JWK Set file (read once at start-up) or a URL (fetched through one
`jwt.PyJWKClient` per URL, no redirects, the whole exchange within one deadline,
BONEMET_JWKS_DEADLINE_SECONDS, 3 s). Fetches are single-flight per URL and nobody waits past their own
deadline for one, so an endpoint that trickles costs its own callers at most the deadline and other
issuers nothing. URL key sets are cached for `lifespan` seconds; a token naming an unknown `kid` triggers
at most one re-fetch per URL per `cooldown` seconds, so a stream of junk `kid`s cannot turn the service
into a fetch amplifier against the issuer, nor tie up workers in timeouts. Failed fetches count toward the
cooldown too, and a last good key set keeps being served for `stale_grace` seconds past its lifespan when
the issuer's endpoint is down.

Which algorithm a key may verify is decided from the key, never from the JWK Set's default alone: a JWK
with `alg` verifies only that algorithm; without `alg`, an RSA key verifies RS*/PS* and an EC key the ES*
of its curve. (PyJWT assumes RS256 for an RSA JWK without `alg`, which would refuse RS384 tokens.)
Only the public members of a JWK are read, so a JWK Set that wrongly carries private parts is harmless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError, PyJWTError
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.auth.issuers import TrustedIssuer
from cds_service.errors import AuthError, ConfigurationError
from cds_service.http_deadline import deadline_session, exchange_until, is_stale_connection_failure

log = logging.getLogger(__name__)

EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
ALLOWED_ALGORITHMS = frozenset(EC_ALGORITHMS.values()) | RSA_ALGORITHMS
MIN_RSA_BITS = 2048
MAX_JWKS_BYTES = 256 * 1024


class KeySetError(Exception):
    """A JWK Set could not be fetched or holds no usable signing key (the message names no key data)."""


@dataclass(frozen=True)
class VerificationKey:
    """A public key and the header algorithms it may verify."""

    kid: str | None
    algorithms: frozenset[str]
    public_key: Any


class KeySource(Protocol):
    def keys(self) -> Sequence[VerificationKey]: ...

    def refresh(self) -> bool:
        """Re-read the key set if allowed now; True if fresh keys were loaded."""
        ...


def parse_jwks(data: Any) -> tuple[VerificationKey, ...]:
    """The usable signing keys of a JWK Set; unusable members (enc keys, oct, weak RSA) are skipped."""
    members = data.get("keys") if isinstance(data, Mapping) else None
    if not isinstance(members, list):
        raise KeySetError("not a JWK Set (no keys list)")
    keys = tuple(k for k in (_verification_key(m) for m in members) if k is not None)
    if not keys:
        raise KeySetError("JWK Set holds no usable EC or RSA signing key")
    return keys


def _verification_key(jwk: Any) -> VerificationKey | None:
    if not isinstance(jwk, Mapping) or jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    kid = jwk.get("kid")
    algorithms = _algorithms_for(jwk)
    if not algorithms or not (kid is None or isinstance(kid, str)):
        return None
    try:
        public_key = _public_key(jwk)
    except (PyJWTError, ValueError, TypeError, KeyError):
        return None
    if jwk["kty"] == "RSA" and public_key.key_size < MIN_RSA_BITS:
        log.warning("skipping RSA key %r: %d bits is below %d", kid, public_key.key_size, MIN_RSA_BITS)
        return None
    return VerificationKey(kid, algorithms, public_key)


def _algorithms_for(jwk: Mapping[str, Any]) -> frozenset[str]:
    """What the key type allows, narrowed to the JWK's own `alg` when it declares one."""
    kty = jwk.get("kty")
    if kty == "RSA":
        by_type = RSA_ALGORITHMS
    elif kty == "EC" and jwk.get("crv") in EC_ALGORITHMS:
        by_type = frozenset({EC_ALGORITHMS[jwk["crv"]]})
    else:
        return frozenset()
    declared = jwk.get("alg")
    if declared is None:
        return by_type
    return by_type & {declared}


def _public_key(jwk: Mapping[str, Any]) -> Any:
    if jwk["kty"] == "RSA":
        return RSAAlgorithm.from_jwk({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]})
    return ECAlgorithm.from_jwk({"kty": "EC", "crv": jwk["crv"], "x": jwk["x"], "y": jwk["y"]})


class FileKeySource:
    """A JWK Set file, read once: a bad file stops start-up instead of failing every call."""

    def __init__(self, path: Path, *, label: str = "jwks_file") -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self._keys = parse_jwks(data)
        except (OSError, ValueError, KeySetError) as exc:
            reason = _reason(exc)
            raise ConfigurationError(f"{label}: {str(path)!r} is not a usable JWK Set ({reason})") from None

    def keys(self) -> Sequence[VerificationKey]:
        return self._keys

    def refresh(self) -> bool:
        return False


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, KeySetError) else type(exc).__name__


class _RequestsJwksClient(PyJWKClient):
    """PyJWKClient fetching through `requests`: no redirects, no proxy variables, a size cap, one deadline.

    PyJWKClient checks the scheme (http/https only); `fetch_data` is its documented override point.
    The whole exchange (connect, status line, headers, body) ends at `timeout` seconds after it began:
    a per-read timeout let an endpoint trickling one byte at a time hold a fetch for 30-60 s (issue 11).
    """

    def __init__(self, uri: str, *, timeout: float) -> None:
        super().__init__(uri, cache_keys=False, cache_jwk_set=False, timeout=timeout, cooldown_duration=0)
        self._session = deadline_session(pool_maxsize=2)

    def fetch_data(self) -> Any:
        deadline = time.monotonic() + self.timeout
        body = self._fetch(deadline, fresh_connection=False)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise PyJWKClientError("response is not JSON") from None

    def _fetch(self, deadline: float, *, fresh_connection: bool) -> bytes:
        """The body, sent once more on a new connection if a kept-alive one was closed under it."""
        with exchange_until(deadline, fresh_connection=fresh_connection) as exchange:
            try:
                return self._get(deadline)
            except (requests.RequestException, OSError, ValueError) as exc:
                if exchange.aborted:
                    raise PyJWKClientConnectionError("deadline exceeded") from None
                if fresh_connection or not is_stale_connection_failure(exc, exchange):
                    raise PyJWKClientConnectionError(type(exc).__name__) from None
        return self._fetch(deadline, fresh_connection=True)

    def _get(self, deadline: float) -> bytes:
        with self._session.get(
            self.uri,
            timeout=self.timeout,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/jwk-set+json, application/json"},
        ) as r:
            if r.status_code != 200:
                raise PyJWKClientConnectionError(f"HTTP status {r.status_code}")
            body = _read_capped(r.iter_content(8192), deadline)
        if time.monotonic() > deadline:
            raise PyJWKClientConnectionError("deadline exceeded")  # cut off: the body may be short
        return body


def _read_capped(chunks: Iterable[bytes], deadline: float) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > MAX_JWKS_BYTES:
            raise PyJWKClientConnectionError(f"JWK Set larger than {MAX_JWKS_BYTES} bytes")
        if time.monotonic() > deadline:
            raise PyJWKClientConnectionError("deadline exceeded")
    return bytes(body)


class UrlKeySource:
    """A JWK Set URL with a lifespan cache, a per-URL refresh cooldown and a bounded stale fallback.

    Fetches are single-flight per URL: one caller fetches while the others wait for it, but no longer
    than their own deadline (`timeout` from when they asked), and while a set within its stale grace is
    at hand they do not wait at all. The lock guards only the state, never a fetch, so a slow endpoint
    costs its own callers at most `timeout` and other issuers nothing.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 3.0,
        lifespan: float = 300.0,
        cooldown: float = 15.0,
        stale_grace: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = _RequestsJwksClient(url, timeout=timeout)
        self._timeout = timeout
        self._lifespan, self._cooldown, self._stale_grace = lifespan, cooldown, stale_grace
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight: threading.Event | None = None
        self._keys: tuple[VerificationKey, ...] = ()
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._generation = 0  # successful fetches so far: tells a refresh whether new keys arrived

    def keys(self) -> Sequence[VerificationKey]:
        give_up = time.monotonic() + self._timeout
        with self._lock:
            now = self._clock()
            if self._age(now) < self._lifespan:
                return self._keys
            usable_stale = self._age(now) < self._lifespan + self._stale_grace
            flight = self._join_or_lead(now)
        if flight is not None and not (usable_stale and flight.follower):
            self._await(flight, give_up)
        with self._lock:
            if self._age(self._clock()) < self._lifespan + self._stale_grace:
                return self._keys
        raise AuthError("issuer key set unavailable")

    def refresh(self) -> bool:
        give_up = time.monotonic() + self._timeout
        with self._lock:
            before = self._generation
            flight = self._join_or_lead(self._clock())
        if flight is None:
            return False
        self._await(flight, give_up)
        with self._lock:
            return self._generation != before

    def _join_or_lead(self, now: float) -> _Flight | None:
        """Under the lock: the fetch in flight to wait for, a new one this caller leads, or None when the
        cooldown forbids fetching."""
        if self._in_flight is not None:
            return _Flight(self._in_flight, follower=True)
        if not self._may_fetch(now):
            return None
        self._attempted_at = now
        self._in_flight = threading.Event()
        return _Flight(self._in_flight, follower=False)

    def _await(self, flight: _Flight, give_up: float) -> None:
        if flight.follower:
            flight.done.wait(max(0.0, give_up - time.monotonic()))
            return
        keys: tuple[VerificationKey, ...] | None = None
        try:
            keys = self._fetch()
        finally:
            with self._lock:
                if keys is not None:
                    self._keys, self._fetched_at = keys, self._clock()
                    self._generation += 1
                self._in_flight = None
            flight.done.set()

    def _age(self, now: float) -> float:
        return float("inf") if self._fetched_at is None else now - self._fetched_at

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._cooldown

    def _fetch(self) -> tuple[VerificationKey, ...] | None:
        try:
            return parse_jwks(self._client.fetch_data())
        except (PyJWTError, KeySetError) as exc:
            log.warning("JWK Set fetch from %s failed: %s", self.url, _fetch_reason(exc))
            return None


@dataclass(frozen=True)
class _Flight:
    done: threading.Event
    follower: bool


def _fetch_reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, (PyJWKClientError, KeySetError)) else type(exc).__name__


class KeySets:
    """Every key source the configured issuers may use, built once; nothing is ever built from a token."""

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        *,
        timeout: float = 3.0,
        lifespan: float = 300.0,
        cooldown: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._by_url: dict[str, UrlKeySource] = {}
        self._default: dict[str, KeySource] = {}
        for issuer in issuers:
            for url in (*issuer.jku_allowed, *filter(None, [issuer.jwks_url])):
                if url not in self._by_url:
                    self._by_url[url] = UrlKeySource(
                        url, timeout=timeout, lifespan=lifespan, cooldown=cooldown, clock=clock
                    )
            self._default[issuer.iss] = self._default_for(issuer)

    def _default_for(self, issuer: TrustedIssuer) -> KeySource:
        if issuer.jwks_url is not None:
            return self._by_url[issuer.jwks_url]
        assert issuer.jwks_file is not None  # issuers.py guarantees exactly one of the two
        return FileKeySource(issuer.jwks_file, label=f"issuer {issuer.iss!r}: jwks_file")

    def default_source(self, iss: str) -> KeySource:
        return self._default[iss]

    def url_source(self, url: str) -> KeySource:
        """The source for a configured URL; a KeyError for any other URL (callers check jku_allowed first)."""
        return self._by_url[url]


def select_key(source: KeySource, kid: str | None, alg: str) -> VerificationKey:
    """The key that must verify this token, re-reading the set once (cooldown permitting) for a new kid."""
    key = _match(source.keys(), kid, alg)
    if key is None and kid is not None and source.refresh():
        key = _match(source.keys(), kid, alg)
    if key is None:
        raise AuthError("unknown kid")
    return key


def _match(keys: Sequence[VerificationKey], kid: str | None, alg: str) -> VerificationKey | None:
    if kid is None:
        if len(keys) != 1:
            raise AuthError("kid required")
        candidates = list(keys)
    else:
        candidates = [k for k in keys if k.kid == kid]
    if not candidates:
        return None
    for key in candidates:
        if alg in key.algorithms:
            return key
    raise AuthError("algorithm does not match key")
