"""The CDS Clients (JWT issuers) this service trusts, and where each one's public keys come from.

CDS Hooks 2.0 ("Trusting CDS Clients") says a service SHOULD keep an allow-list of `iss` and `jku`: a token
is only as trustworthy as the key that verifies it, so the key source is configured here, by the operator,
never taken from the token. `BONEMET_TRUSTED_ISSUERS` holds either inline JSON or the path of a JSON or
YAML file with a list of entries:

    [
      {
        "iss": "https://sandbox.cds-hooks.org",
        "jwks_url": "https://sandbox.cds-hooks.org/.well-known/jwks.json",
        "jku_allowed": ["https://sandbox.cds-hooks.org/.well-known/jwks.json"]
      },
      {
        "iss": "https://ehr.hospital.org",
        "jwks_file": "/etc/bonemet/ehr-jwks.json"
      }
    ]

Fields:

- `iss` (required): the exact `iss` claim the client sends.
- `jwks_url` or `jwks_file` (exactly one): the client's JWK Set, fetched over http(s) or read once from
  a file at start-up. A relative `jwks_file` is resolved against the directory of the issuers file.
- `jku_allowed` (optional): the only URLs a token's `jku` header may name for this issuer. Defaults to
  `[jwks_url]`, or to nothing for a `jwks_file` issuer (then any token with `jku` is refused). For a
  `jwks_file` issuer, a token naming an allowed `jku` is verified with the file's keys and the `jku` is
  never fetched: the file is the site's pinned copy of that key set.

The first entry is the public CDS Hooks sandbox. Its private key is published in the sandbox's source
code, so anyone can sign a token it would accept: trust it on test deployments only, never in production.

Validation is strict (unknown fields, duplicate issuers, non-http(s) URLs, URLs with credentials all stop
start-up) because a typo such as `jwks_uri` must not silently leave an issuer without a key source.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cds_service.errors import ConfigurationError

log = logging.getLogger(__name__)

SETTING = "BONEMET_TRUSTED_ISSUERS"
_FIELDS = frozenset({"iss", "jwks_url", "jwks_file", "jku_allowed"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class TrustedIssuer:
    """One trusted CDS Client: its `iss` and the only places its keys may come from."""

    iss: str
    jwks_url: str | None
    jwks_file: Path | None
    jku_allowed: tuple[str, ...]


def parse_trusted_issuers(value: str) -> tuple[TrustedIssuer, ...]:
    """Parse the setting's value (inline JSON, or a path to a .json/.yaml/.yml file)."""
    text = value.strip()
    if not text:
        raise ConfigurationError(f"{SETTING} is empty")
    if text[0] in "[{":
        return issuers_from_data(_load_json(text, "inline JSON"), base_dir=Path.cwd())
    path = Path(text)
    return issuers_from_data(_load_file(path), base_dir=path.parent)


def issuers_from_data(data: Any, *, base_dir: Path) -> tuple[TrustedIssuer, ...]:
    """Check the decoded list; every error names the entry and field so the operator can fix it."""
    if not isinstance(data, list) or not data:
        raise ConfigurationError(f"{SETTING} must be a non-empty list of issuer entries")
    issuers = tuple(_entry(i, raw, base_dir) for i, raw in enumerate(data, start=1))
    seen: set[str] = set()
    for number, issuer in enumerate(issuers, start=1):
        if issuer.iss in seen:
            raise ConfigurationError(f"{SETTING} entry {number}: iss {issuer.iss!r} is listed twice")
        seen.add(issuer.iss)
    return issuers


def _load_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{SETTING}: {where} is not valid JSON (line {_line(exc)})") from None


def _line(exc: ValueError) -> object:
    return getattr(exc, "lineno", "?")


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise ConfigurationError(f"{SETTING} names {str(path)!r}, which is neither JSON nor an existing file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{SETTING}: cannot read {str(path)!r} ({type(exc).__name__})") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _load_json(text, str(path))
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigurationError(f"{SETTING}: {str(path)!r} is not valid YAML") from None
    raise ConfigurationError(f"{SETTING}: {str(path)!r} must end in .json, .yaml or .yml")


def _entry(number: int, raw: Any, base_dir: Path) -> TrustedIssuer:
    label = f"{SETTING} entry {number}"
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{label}: must be an object with iss and jwks_url or jwks_file")
    unknown = sorted(str(k) for k in raw if k not in _FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_FIELDS))
        raise ConfigurationError(f"{label}: unknown field(s) {', '.join(unknown)} (allowed: {allowed})")
    iss = raw.get("iss")
    if not isinstance(iss, str) or not iss or iss != iss.strip():
        raise ConfigurationError(f"{label}: iss must be a non-empty string without surrounding spaces")
    label = f"{label} (iss {iss!r})"
    if ("jwks_url" in raw) == ("jwks_file" in raw):
        raise ConfigurationError(f"{label}: give exactly one of jwks_url and jwks_file")
    jwks_url = _url(raw["jwks_url"], f"{label}: jwks_url") if "jwks_url" in raw else None
    jwks_file = _file(raw["jwks_file"], base_dir, f"{label}: jwks_file") if "jwks_file" in raw else None
    return TrustedIssuer(iss, jwks_url, jwks_file, _jku_allowed(raw, jwks_url, label))


def _jku_allowed(raw: Mapping[str, Any], jwks_url: str | None, label: str) -> tuple[str, ...]:
    if "jku_allowed" not in raw:
        return (jwks_url,) if jwks_url else ()
    urls = raw["jku_allowed"]
    if not isinstance(urls, list):
        raise ConfigurationError(f"{label}: jku_allowed must be a list of URLs")
    return tuple(_url(u, f"{label}: jku_allowed[{i}]") for i, u in enumerate(urls))


def _url(value: Any, where: str) -> str:
    """Only plain http(s) URLs: no other schemes (file:, ftp:), no credentials that would end up in logs."""
    if not isinstance(value, str) or value != value.strip():
        raise ConfigurationError(f"{where} must be a URL string without surrounding spaces")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError(f"{where} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(f"{where} must be an absolute http:// or https:// URL")
    if parts.username or parts.password or parts.fragment:
        raise ConfigurationError(f"{where} must not contain credentials or a #fragment")
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        log.warning("%s uses plain http: keys fetched from it can be swapped in transit", where)
    return value


def _file(value: Any, base_dir: Path, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where} must be a file path")
    path = Path(value)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise ConfigurationError(f"{where}: {str(path)!r} does not exist or is not a file")
    return path
