"""The SMART app's session: sealed in the browser's cookie, never kept on the server.

Why a cookie and not a server-side store: `bonemet-cds serve` runs several gunicorn workers, and a launch
(authorize, callback, page) may land on a different worker each time; a store shared by the workers would
be one more thing to run, and it would hold access tokens at rest. The cookie holds only what the next
request needs (the FHIR base, the access token, the patient id, the EHR's appContext and the clocks),
encrypted and authenticated with Fernet (AES-CBC + HMAC-SHA256, `cryptography`), so the browser carries
it but can neither read nor alter it. No patient data (labs, conditions) is ever stored: each page view
reads the chart again with the token.

Expiry has two clocks: Fernet's own timestamp is the last time the session was used (the cookie is
re-sealed on every page view), checked against the idle limit; `started` inside it is checked against the
absolute limit. Either one ends the session, and the page asks for a relaunch from the EHR.

The key: `BONEMET_SESSION_KEY` when set (needed when processes do not share a parent: several containers,
or `gunicorn cds_service.wsgi:app` without preload); otherwise one key generated when the app is built.
`bonemet-cds serve` builds the app once in the master before forking (`preload_app`), so its workers
share that key; a restart ends every session, which only means a relaunch.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "bonemet_smart"
LAUNCH_COOKIE = "bonemet_smart_launch"
LAUNCH_SECONDS = 600
"""A launch (authorize, log in, come back) must finish within 10 minutes."""
COOKIE_PATH = "/smart"


class SessionExpired(Exception):
    """No session, a session past its idle or absolute limit, or a cookie this key did not seal."""


@dataclass(frozen=True)
class PendingLaunch:
    """What the callback needs from the launch: the OAuth `state`, the PKCE verifier, the endpoints."""

    iss: str
    state: str
    code_verifier: str = field(repr=False)
    token_endpoint: str
    scope: str
    issuer: str | None = None
    """The authorization server's `issuer` from smart-configuration, when it gives one (RFC 9207 check)."""


@dataclass(frozen=True)
class AppSession:
    iss: str
    patient: str
    access_token: str = field(repr=False)
    scope: str
    app_context: str | None
    started: float
    token_expires_at: float | None = None


class SessionSealer:
    """Seals and opens the two cookies with one Fernet key and the configured limits."""

    def __init__(self, key: str | bytes | None, *, idle_seconds: int, max_seconds: int):
        self._fernet = Fernet(key or Fernet.generate_key())
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def seal_launch(self, launch: PendingLaunch) -> str:
        return self._seal({"kind": "launch", **asdict(launch)})

    def open_launch(self, cookie: str | None) -> PendingLaunch:
        data = self._open(cookie, LAUNCH_SECONDS, "launch")
        return PendingLaunch(**data)

    def seal_session(self, session: AppSession) -> str:
        return self._seal({"kind": "session", **asdict(session)})

    def open_session(self, cookie: str | None, now: float | None = None) -> AppSession:
        data = self._open(cookie, self.idle_seconds, "session")
        session = AppSession(**data)
        now = time.time() if now is None else now
        if now - session.started > self.max_seconds:
            raise SessionExpired("the session reached its absolute limit")
        if session.token_expires_at is not None and now > session.token_expires_at:
            raise SessionExpired("the access token expired")
        return session

    def _seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(orjson.dumps(data)).decode("ascii")

    def _open(self, cookie: str | None, ttl: int, kind: str) -> dict[str, Any]:
        if not cookie:
            raise SessionExpired(f"no {kind} cookie")
        try:
            data = orjson.loads(self._fernet.decrypt(cookie.encode("ascii"), ttl=ttl))
        except (InvalidToken, UnicodeEncodeError, orjson.JSONDecodeError):
            raise SessionExpired(f"{kind} cookie expired or not sealed by this service") from None
        if not isinstance(data, dict) or data.pop("kind", None) != kind:
            raise SessionExpired(f"not a {kind} cookie")
        return data
