"""Applies the configured client authentication to a request.

The audience a JWT must carry is the URL the EHR called: BONEMET_PUBLIC_URL plus the path when the service
sits behind a proxy, else the URL Flask saw. With BONEMET_AUTH=off every call logs a warning, so a
forgotten test setting cannot hide in production.
"""

from __future__ import annotations

import logging

from flask import Request

from cds_service.errors import AuthError
from cds_service.runtime import Runtime

log = logging.getLogger(__name__)


def authenticate(rt: Runtime, request: Request) -> None:
    if rt.verifier is None:
        log.warning("BONEMET_AUTH=off: accepting an unauthenticated call to %s", request.path)
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token")
    rt.verifier.verify(token.strip(), audience_for(rt, request))


def audience_for(rt: Runtime, request: Request) -> str:
    base = rt.settings.public_url or request.host_url.rstrip("/")
    return f"{base}{request.path}"
