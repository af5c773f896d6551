"""An authorization code flow with PKCE, driven by hand against the test EHR, so tests can bend each
step (a wrong verifier, a missing challenge) and see the server refuse it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

MAX_REDIRECTS = 10


@dataclass
class Redirect:
    """Where the authorization server sent the browser back to the app, with its query parameters."""

    url: str
    params: dict[str, str]


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def session() -> requests.Session:
    """A cookie-keeping client that ignores proxy variables (the servers are on loopback)."""
    client = requests.Session()
    client.trust_env = False
    return client


def smart_configuration(client: requests.Session, iss: str) -> dict[str, Any]:
    response = client.get(f"{iss}/.well-known/smart-configuration", timeout=30)
    response.raise_for_status()
    config: dict[str, Any] = response.json()
    return config


def authorize(client: requests.Session, iss: str, params: dict[str, str], redirect_uri: str) -> Redirect:
    """Send the authorization request and follow the server's redirects (login and consent complete by
    themselves) until it sends the browser to `redirect_uri`."""
    endpoint = smart_configuration(client, iss)["authorization_endpoint"]
    url = f"{endpoint}?{urlencode({'redirect_uri': redirect_uri, 'aud': iss, **params})}"
    for _ in range(MAX_REDIRECTS):
        if url.startswith(redirect_uri):
            query = parse_qs(urlsplit(url).query)
            return Redirect(url, {key: values[0] for key, values in query.items()})
        response = client.get(url, allow_redirects=False, timeout=30)
        if response.status_code not in (302, 303):
            raise AssertionError(f"authorization stopped with {response.status_code}: {response.text[:300]}")
        url = urljoin(url, response.headers["Location"])
    raise AssertionError("too many redirects")


def code_request(client_id: str, scope: str, verifier: str, state: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "scope": scope,
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **extra,
    }


def exchange(
    client: requests.Session,
    iss: str,
    code: str,
    redirect_uri: str,
    verifier: str,
    client_id: str,
    secret: str | None = None,
) -> requests.Response:
    """The token request: a public client names itself, a confidential one authenticates (HTTP Basic)."""
    token_endpoint = smart_configuration(client, iss)["token_endpoint"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if secret is None:
        data["client_id"] = client_id
        return client.post(token_endpoint, data=data, timeout=30)
    return client.post(token_endpoint, data=data, auth=(client_id, secret), timeout=30)
