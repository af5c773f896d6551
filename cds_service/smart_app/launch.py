"""SMART App Launch 2.0 for the bone health review: discovery, the authorization request, the token.

Why Authlib (`authlib` 1.9, `OAuth2Session` on requests): it is a well-kept, widely used OAuth 2.0 client
that generates the `state`, derives the PKCE S256 challenge from a verifier, checks the returned `state`
against the expected one and performs the code exchange with either client authentication (none for a
public client, `client_secret_basic` for a confidential one). SMART's own Python client (`fhirclient`)
reads endpoints from the CapabilityStatement of older servers, keeps its state in its own object model
and brings a FHIR model layer we do not need; the service already reads FHIR through `fhir_client` (the
allow-list, deadlines and checks the hooks use), so only the OAuth part is needed, and Authlib does that
part without us writing the protocol by hand. What stays here is SMART's own layer: endpoint discovery,
the scopes, `launch`/`aud`, and reading `patient` and `appContext` from the token response.

Contacts, in order, and what guards them:
- `iss` comes from a browser: it must be on BONEMET_FHIR_ALLOWED_HOSTS before anything is fetched (no
  SSRF through the app). Only then is `<iss>/.well-known/smart-configuration` read (no redirects, no proxy
  variables, a deadline and a size cap). A server without it is refused: no other discovery is tried.
- The authorization endpoint is only ever visited by the browser; it must be an http(s) URL.
- The token endpoint is called by this service with the code: it must be on BONEMET_FHIR_ALLOWED_HOSTS or
  on BONEMET_SMART_TOKEN_HOSTS (for an EHR whose authorization server has another origin than its FHIR
  server).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from cds_service.fhir_client import origin_of
from cds_service.prefetch import template_type
from cds_service.smart_app.session import PendingLaunch

log = logging.getLogger(__name__)
MAX_CONFIGURATION_BYTES = 256 * 1024
EXTRA_TYPES = ("Medication",)
"""Read through `_include` on the medication orders (fhir_mappings.prefetch_queries)."""


class LaunchRefused(Exception):
    """A launch the app will not carry on with; the message is shown to the user and safe to log."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SmartConfiguration:
    authorization_endpoint: str
    token_endpoint: str
    capabilities: frozenset[str]
    issuer: str | None = None


@dataclass(frozen=True)
class ClientSettings:
    client_id: str
    client_secret: str | None
    redirect_uri: str
    token_origins: frozenset[str]
    deadline_seconds: float


def scopes(prefetch_templates: dict[str, str], *, ehr_launch: bool, v2: bool) -> str:
    """The narrowest read scopes: exactly the resource types the hooks' queries read (so the app sees
    what the hooks see), read and search only; `launch` for an EHR launch, `launch/patient` standalone.
    No `openid`/`profile`: the app needs no user identity."""
    types = sorted({template_type(t) for t in prefetch_templates.values()} | set(EXTRA_TYPES))
    suffix = "rs" if v2 else "read"
    return " ".join(["launch" if ehr_launch else "launch/patient", *(f"patient/{t}.{suffix}" for t in types)])


def discover(iss: str, deadline_seconds: float) -> SmartConfiguration:
    """`<iss>/.well-known/smart-configuration`; the caller has already checked `iss` on the allow-list."""
    url = iss.rstrip("/") + "/.well-known/smart-configuration"
    with requests.Session() as http:
        http.trust_env = False
        try:
            response = http.get(
                url,
                headers={"Accept": "application/json"},
                timeout=(min(2.0, deadline_seconds), deadline_seconds),
                allow_redirects=False,
                stream=True,
            )
            with response:
                body = response.raw.read(MAX_CONFIGURATION_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise LaunchRefused(
                f"the FHIR server's SMART configuration could not be read ({type(exc).__name__})", 502
            ) from None
    if response.status_code != 200:
        raise LaunchRefused(
            f"the FHIR server publishes no SMART configuration (.well-known/smart-configuration answered "
            f"HTTP {response.status_code}); this app needs SMART App Launch 2.0",
            502,
        )
    if len(body) > MAX_CONFIGURATION_BYTES:
        raise LaunchRefused("the FHIR server's SMART configuration is too large", 502)
    return _configuration(body)


def _configuration(body: bytes) -> SmartConfiguration:
    try:
        data = json.loads(body)
    except ValueError:
        raise LaunchRefused("the FHIR server's SMART configuration is not JSON", 502) from None
    if not isinstance(data, dict):
        raise LaunchRefused("the FHIR server's SMART configuration is not a JSON object", 502)
    authorize, token = data.get("authorization_endpoint"), data.get("token_endpoint")
    if not (
        isinstance(authorize, str) and isinstance(token, str) and _is_http(authorize) and _is_http(token)
    ):
        raise LaunchRefused("the SMART configuration lacks an http(s) authorization or token endpoint", 502)
    if "S256" not in (data.get("code_challenge_methods_supported") or []):
        raise LaunchRefused("the authorization server does not offer PKCE S256 (SMART App Launch 2.0)", 502)
    capabilities = data.get("capabilities") or []
    issuer = data.get("issuer") if isinstance(data.get("issuer"), str) else None
    return SmartConfiguration(
        authorize, token, frozenset(c for c in capabilities if isinstance(c, str)), issuer
    )


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username


def authorization_request(
    iss: str, launch: str | None, config: SmartConfiguration, client: ClientSettings, scope: str
) -> tuple[str, PendingLaunch]:
    """The URL to send the browser to, and what the callback must remember (sealed in a cookie)."""
    _check_token_endpoint(config.token_endpoint, client.token_origins)
    verifier = generate_token(64)
    with _oauth(client, scope) as oauth:
        extra = {"aud": iss, **({"launch": launch} if launch else {})}
        url, state = oauth.create_authorization_url(
            config.authorization_endpoint, code_verifier=verifier, **extra
        )
    return url, PendingLaunch(iss, state, verifier, config.token_endpoint, scope, config.issuer)


def exchange_code(callback_url: str, pending: PendingLaunch, client: ClientSettings) -> dict[str, Any]:
    """The token response for the code in `callback_url`. Authlib checks `state` against the launch's
    and sends the PKCE verifier; any failure becomes a `LaunchRefused` that names no token or code."""
    _check_token_endpoint(pending.token_endpoint, client.token_origins)
    _check_issuer(callback_url, pending.issuer)
    with _oauth(client, pending.scope) as oauth:
        try:
            token = oauth.fetch_token(
                pending.token_endpoint,
                authorization_response=callback_url,
                state=pending.state,
                code_verifier=pending.code_verifier,
                timeout=(min(2.0, client.deadline_seconds), client.deadline_seconds),
                allow_redirects=False,
            )
        except AuthlibBaseError as exc:
            error = getattr(exc, "error", None) or type(exc).__name__
            if error == "mismatching_state":
                raise LaunchRefused(
                    "the authorization answer does not belong to this launch (state mismatch)"
                ) from None
            raise LaunchRefused(f"the EHR's token endpoint refused the code ({error[:60]})", 502) from None
        except requests.RequestException as exc:
            raise LaunchRefused(
                f"the EHR's token endpoint failed or could not be reached ({type(exc).__name__})", 502
            ) from None
        except ValueError:
            raise LaunchRefused(
                "the EHR's token endpoint did not answer with a token (not JSON)", 502
            ) from None
    return dict(token)


def _check_issuer(callback_url: str, expected: str | None) -> None:
    """RFC 9207: an authorization server that names itself in the answer (`iss`, as oidc-provider does)
    must be the one the launch discovered; another one means a mix-up, and its code is not sent anywhere."""
    returned = parse_qs(urlsplit(callback_url).query).get("iss")
    if returned and expected and returned[0].rstrip("/") != expected.rstrip("/"):
        raise LaunchRefused("the authorization answer comes from another authorization server (iss mismatch)")


def _check_token_endpoint(url: str, allowed: frozenset[str]) -> None:
    try:
        origin = origin_of(url)
    except ValueError:
        raise LaunchRefused("the token endpoint is not an http(s) URL", 502) from None
    if origin not in allowed:
        raise LaunchRefused(
            "the token endpoint is on neither BONEMET_FHIR_ALLOWED_HOSTS nor BONEMET_SMART_TOKEN_HOSTS; "
            "it was not contacted"
        )


def _oauth(client: ClientSettings, scope: str) -> OAuth2Session:
    oauth = OAuth2Session(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method="client_secret_basic" if client.client_secret else "none",
        scope=scope,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
    )
    oauth.trust_env = False  # proxy variables must not route the code exchange around the allow-list
    return oauth
