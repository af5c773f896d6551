"""Settings, read from the environment once at start-up and checked there.

A bad value stops start-up with a message naming the variable: a clinical service must not come up
half-configured and fail at the bedside. Every variable is documented in the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cds_service.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///var/bonemet-cds.sqlite3"
# JSON nesting: a FHIR hook request is ~15 levels deep; the response copies a draft ~6 levels further in,
# orjson encodes at most 255 levels and jsonschema-rs copies at most ~250, so the cap stays far below both.
MIN_JSON_DEPTH = 16
MAX_JSON_DEPTH = 128


@dataclass(frozen=True)
class Settings:
    auth_mode: str = "jwt"
    trusted_issuers: str = ""
    public_url: str | None = None
    fhir_allowed_hosts: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    site_dir: Path | None = None
    max_body_bytes: int = 5 * 1024 * 1024
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    fhir_deadline_seconds: float = 3.0
    fhir_max_pages: int = 5
    fhir_max_per_origin: int = 10
    fhir_require_self_link: bool = True
    jwks_deadline_seconds: float = 3.0
    cors_origins: str = "*"
    patient_hash_key: str | None = None
    store_feedback_comments: bool = False
    card_log_delay_ms: int = 50
    jwt_leeway_seconds: int = 60
    jwt_max_lifetime_seconds: int = 300
    max_json_depth: int = 64
    max_resources_per_call: int = 10_000
    log_level: str = "INFO"
    log_format: str = "json"
    metrics_enabled: bool = True
    admin_token: str | None = None
    smart_client_id: str = "bonemet-bone-health-review"
    smart_client_secret: str | None = field(default=None, repr=False)
    smart_frame_ancestors: str | None = None
    smart_token_hosts: str = ""
    session_key: str | None = field(default=None, repr=False)
    session_idle_minutes: int = 30
    session_max_hours: int = 8
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def auth_enabled(self) -> bool:
        return self.auth_mode == "jwt"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            auth_mode=_choice(env, "BONEMET_AUTH", "jwt", ("jwt", "off")),
            trusted_issuers=env.get("BONEMET_TRUSTED_ISSUERS", "").strip(),
            public_url=(env.get("BONEMET_PUBLIC_URL") or "").rstrip("/") or None,
            fhir_allowed_hosts=env.get("BONEMET_FHIR_ALLOWED_HOSTS", "").strip(),
            database_url=env.get("BONEMET_DATABASE_URL") or DEFAULT_DATABASE_URL,
            site_dir=_directory(env, "BONEMET_SITE_DIR"),
            max_body_bytes=_number(env, "BONEMET_MAX_BODY_BYTES", 5 * 1024 * 1024, int, 1024),
            header_timeout_seconds=_number(env, "BONEMET_HEADER_TIMEOUT_SECONDS", 10.0, float, 0.5),
            body_timeout_seconds=_number(env, "BONEMET_BODY_TIMEOUT_SECONDS", 30.0, float, 0.5),
            fhir_deadline_seconds=_number(env, "BONEMET_FHIR_DEADLINE_SECONDS", 3.0, float, 0.1),
            fhir_max_pages=_number(env, "BONEMET_FHIR_MAX_PAGES", 5, int, 1),
            fhir_max_per_origin=_number(env, "BONEMET_FHIR_MAX_CONNECTIONS_PER_ORIGIN", 10, int, 1),
            fhir_require_self_link=_flag(env, "BONEMET_FHIR_REQUIRE_SELF_LINK", default=True),
            jwks_deadline_seconds=_number(env, "BONEMET_JWKS_DEADLINE_SECONDS", 3.0, float, 0.1),
            cors_origins=env.get("BONEMET_CORS_ORIGINS", "*").strip() or "*",
            patient_hash_key=env.get("BONEMET_PATIENT_HASH_KEY") or None,
            store_feedback_comments=_flag(env, "BONEMET_FEEDBACK_STORE_COMMENTS"),
            card_log_delay_ms=_number(env, "BONEMET_CARD_LOG_DELAY_MS", 50, int, 0),
            jwt_leeway_seconds=_number(env, "BONEMET_JWT_LEEWAY_SECONDS", 60, int, 0),
            jwt_max_lifetime_seconds=_number(env, "BONEMET_JWT_MAX_LIFETIME_SECONDS", 300, int, 10),
            max_json_depth=_number(env, "BONEMET_MAX_JSON_DEPTH", 64, int, MIN_JSON_DEPTH),
            max_resources_per_call=_number(env, "BONEMET_MAX_RESOURCES_PER_CALL", 10_000, int, 100),
            log_level=_choice(env, "BONEMET_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            log_format=_choice(env, "BONEMET_LOG_FORMAT", "json", ("json", "text")),
            metrics_enabled=_choice(env, "BONEMET_METRICS", "on", ("on", "off")) == "on",
            admin_token=env.get("BONEMET_ADMIN_TOKEN") or None,
            smart_client_id=(env.get("BONEMET_SMART_CLIENT_ID") or "").strip()
            or "bonemet-bone-health-review",
            smart_client_secret=env.get("BONEMET_SMART_CLIENT_SECRET") or None,
            smart_frame_ancestors=(env.get("BONEMET_SMART_FRAME_ANCESTORS") or "").strip() or None,
            smart_token_hosts=env.get("BONEMET_SMART_TOKEN_HOSTS", "").strip(),
            session_key=env.get("BONEMET_SESSION_KEY") or None,
            session_idle_minutes=_number(env, "BONEMET_SESSION_IDLE_MINUTES", 30, int, 1),
            session_max_hours=_number(env, "BONEMET_SESSION_MAX_HOURS", 8, int, 1),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.auth_enabled and not self.trusted_issuers:
            raise ConfigurationError(
                "BONEMET_AUTH=jwt needs BONEMET_TRUSTED_ISSUERS (see README: JWT issuers); "
                "set BONEMET_AUTH=off only for local testing"
            )
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ConfigurationError(
                "BONEMET_ADMIN_TOKEN must be at least 16 characters (it opens analytics)"
            )
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ConfigurationError("BONEMET_PUBLIC_URL must start with http:// or https://")
        if not MIN_JSON_DEPTH <= self.max_json_depth <= MAX_JSON_DEPTH:
            raise ConfigurationError(
                f"BONEMET_MAX_JSON_DEPTH must be between {MIN_JSON_DEPTH} and {MAX_JSON_DEPTH} "
                "(deeper JSON overflows the encoder and validators further down)"
            )
        if self.session_key is not None:
            _check_fernet_key(self.session_key)
        if not self.database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ConfigurationError("BONEMET_DATABASE_URL must be a sqlite:// or postgresql:// URL")


def _check_fernet_key(key: str) -> None:
    """The SMART app's session cookies are sealed with this key (`cds_service.smart_app.session`)."""
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except ValueError:
        raise ConfigurationError(
            "BONEMET_SESSION_KEY must be a Fernet key (32 bytes, URL-safe base64; "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        ) from None


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip()
    normalised = value.upper() if allowed[0].isupper() else value.lower()
    if normalised not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return normalised


def _number(env: Mapping[str, str], name: str, default: Any, kind: Any, minimum: Any) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number (got {raw!r})") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum} (got {raw!r})")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    raw = (env.get(name) or str(default)).strip().lower()
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigurationError(f"{name} must be true or false (got {raw!r})")
    return raw in ("true", "1", "yes")


def _directory(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise ConfigurationError(f"{name} must name an existing directory (got {raw!r})")
    return path
