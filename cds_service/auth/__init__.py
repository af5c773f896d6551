"""Authentication of CDS Clients: the JWT every hook call carries (see jwt_verifier.py for the checks).

    verifier = build_verifier(settings.trusted_issuers, replay_cache, settings.jwt_leeway_seconds)
    client = verifier.verify(token, audience="https://cds.hospital.org/cds-services/bone-mets")

`build_verifier` parses BONEMET_TRUSTED_ISSUERS (format in issuers.py) and reads any `jwks_file` at
start-up, raising ConfigurationError on a bad entry; URL key sets are fetched on first use, so an issuer
whose endpoint is briefly down does not stop the service from starting.
"""

from __future__ import annotations

from cds_service.auth.issuers import TrustedIssuer, parse_trusted_issuers
from cds_service.auth.jwt_verifier import JwtVerifier, VerifiedClient
from cds_service.auth.key_sets import KeySets
from cds_service.auth.replay import InMemoryReplayCache, ReplayCache

__all__ = [
    "InMemoryReplayCache",
    "JwtVerifier",
    "KeySets",
    "ReplayCache",
    "TrustedIssuer",
    "VerifiedClient",
    "build_verifier",
    "parse_trusted_issuers",
]


def build_verifier(
    trusted_issuers: str,
    replay_cache: ReplayCache,
    leeway_seconds: float = 60,
    max_lifetime_seconds: float = 300,
    *,
    jwks_deadline_seconds: float = 3.0,
) -> JwtVerifier:
    """The process's verifier, from the BONEMET_TRUSTED_ISSUERS value (inline JSON or a file path)."""
    issuers = parse_trusted_issuers(trusted_issuers)
    key_sets = KeySets(issuers, timeout=jwks_deadline_seconds)
    return JwtVerifier(
        issuers,
        replay_cache,
        leeway_seconds=leeway_seconds,
        max_lifetime_seconds=max_lifetime_seconds,
        key_sets=key_sets,
    )
