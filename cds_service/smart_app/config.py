"""What the SMART app needs beyond the service's runtime, built once in `create_app`: the cookie sealer
(its key shared by every worker, see `session`), the client settings and the page's CSP."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for

from cds_service.fhir_client import parse_allowed_origins
from cds_service.settings import Settings
from cds_service.smart_app.launch import ClientSettings
from cds_service.smart_app.session import SessionSealer


@dataclass(frozen=True)
class SmartRuntime:
    sealer: SessionSealer
    client_id: str
    client_secret: str | None
    public_url: str | None
    token_origins: frozenset[str]
    deadline_seconds: float
    content_security_policy: str

    def client(self) -> ClientSettings:
        return ClientSettings(
            self.client_id, self.client_secret, self.redirect_uri(), self.token_origins, self.deadline_seconds
        )

    def redirect_uri(self) -> str:
        """Registered with the EHR: `<BONEMET_PUBLIC_URL>/smart/callback`, else this request's host."""
        if self.public_url:
            return f"{self.public_url}/smart/callback"
        return url_for("smart.callback", _external=True, _scheme=request.scheme)


def build_smart_runtime(settings: Settings) -> SmartRuntime:
    fhir_origins = parse_allowed_origins(settings.fhir_allowed_hosts)
    token_origins = fhir_origins | parse_allowed_origins(settings.smart_token_hosts)
    return SmartRuntime(
        sealer=SessionSealer(
            settings.session_key,
            idle_seconds=settings.session_idle_minutes * 60,
            max_seconds=settings.session_max_hours * 3600,
        ),
        client_id=settings.smart_client_id,
        client_secret=settings.smart_client_secret,
        public_url=settings.public_url,
        token_origins=token_origins,
        deadline_seconds=max(settings.fhir_deadline_seconds, 5.0),
        content_security_policy=content_security_policy(settings.smart_frame_ancestors, token_origins),
    )


def content_security_policy(frame_ancestors: str | None, ehr_origins: frozenset[str]) -> str:
    """No script, no connection, styles from this service, plot images as data: URIs. Framing: by the
    configured EHR origins (BONEMET_SMART_FRAME_ANCESTORS, a CSP source list such as
    `https://ehr.example.org`), by default this service and the origins of the allowed FHIR and token
    servers (an EHR often serves its pages from the host of its FHIR endpoint); never `*` by default."""
    ancestors = frame_ancestors or " ".join(["'self'", *sorted(_csp_origin(o) for o in ehr_origins)])
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        f"frame-ancestors {ancestors}; base-uri 'none'"
    )


def _csp_origin(origin: str) -> str:
    """`https://ehr.example.org:443` -> `https://ehr.example.org` (CSP matches the default port itself)."""
    for suffix in (":443", ":80"):
        scheme_default = (origin.startswith("https://") and suffix == ":443") or (
            origin.startswith("http://") and suffix == ":80"
        )
        if scheme_default and origin.endswith(suffix):
            return origin.removesuffix(suffix)
    return origin
