"""BONEMET_TRUSTED_ISSUERS parsing: accepted forms, and errors that name the entry and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service.auth import InMemoryReplayCache, build_verifier, parse_trusted_issuers
from cds_service.auth.issuers import TrustedIssuer
from cds_service.errors import ConfigurationError

URL = "https://ehr.example.org/jwks.json"


def test_inline_json_with_default_jku_allowed():
    (issuer,) = parse_trusted_issuers(json.dumps([{"iss": "https://ehr.example.org", "jwks_url": URL}]))
    assert issuer == TrustedIssuer("https://ehr.example.org", URL, None, (URL,))


def test_explicit_jku_allowed_and_empty_list():
    value = json.dumps([{"iss": "a", "jwks_url": URL, "jku_allowed": ["https://k.example.org/1"]},
                        {"iss": "b", "jwks_url": URL, "jku_allowed": []}])
    a, b = parse_trusted_issuers(value)
    assert a.jku_allowed == ("https://k.example.org/1",) and b.jku_allowed == ()


def test_json_file_with_relative_jwks_file(tmp_path: Path):
    (tmp_path / "keys.json").write_text('{"keys": []}', encoding="utf-8")
    config = tmp_path / "issuers.json"
    entries = [{"iss": "https://ehr.example.org", "jwks_file": "keys.json"}]
    config.write_text(json.dumps(entries), encoding="utf-8")
    (issuer,) = parse_trusted_issuers(f"  {config}  ")
    assert issuer.jwks_file == tmp_path / "keys.json" and issuer.jku_allowed == ()


def test_yaml_file(tmp_path: Path):
    config = tmp_path / "issuers.yaml"
    config.write_text(f"- iss: https://sandbox.cds-hooks.org\n  jwks_url: {URL}\n", encoding="utf-8")
    assert parse_trusted_issuers(str(config))[0].iss == "https://sandbox.cds-hooks.org"


@pytest.mark.parametrize(("entries", "expected"), [
    ({"iss": "a", "jwks_url": URL}, "must be a non-empty list"),
    ([], "must be a non-empty list"),
    (["https://ehr.example.org"], "entry 1: must be an object"),
    ([{"iss": "a", "jwks_uri": URL}], "entry 1: unknown field(s) jwks_uri"),
    ([{"jwks_url": URL}], "entry 1: iss must be"),
    ([{"iss": " a", "jwks_url": URL}], "entry 1: iss must be"),
    ([{"iss": "a"}], "entry 1 (iss 'a'): give exactly one of jwks_url and jwks_file"),
    ([{"iss": "a", "jwks_url": URL, "jwks_file": "/x"}], "give exactly one of jwks_url and jwks_file"),
    ([{"iss": "a", "jwks_url": "file:///etc/passwd"}], "(iss 'a'): jwks_url must be an absolute http"),
    ([{"iss": "a", "jwks_url": "/jwks.json"}], "jwks_url must be an absolute http"),
    ([{"iss": "a", "jwks_url": "https://u:p@ehr.example.org/k"}], "jwks_url must not contain credentials"),
    ([{"iss": "a", "jwks_url": URL, "jku_allowed": URL}], "jku_allowed must be a list"),
    ([{"iss": "a", "jwks_url": URL, "jku_allowed": [URL, "ftp://x"]}], "jku_allowed[1] must be an absolute"),
    ([{"iss": "a", "jwks_file": "/no/such/file.json"}], "entry 1 (iss 'a'): jwks_file: '/no/such/file.json'"),
    ([{"iss": "a", "jwks_url": URL}, {"iss": "a", "jwks_url": URL}], "entry 2: iss 'a' is listed twice"),
])
def test_invalid_entries_name_entry_and_field(entries, expected):
    with pytest.raises(ConfigurationError) as caught:
        parse_trusted_issuers(json.dumps(entries))
    assert expected in str(caught.value)
    assert "BONEMET_TRUSTED_ISSUERS" in str(caught.value)


@pytest.mark.parametrize(("value", "expected"), [
    ("", "is empty"),
    ("[{", "inline JSON is not valid JSON"),
    ("/no/such/issuers.json", "neither JSON nor an existing file"),
])
def test_invalid_setting_values(value, expected):
    with pytest.raises(ConfigurationError, match=expected):
        parse_trusted_issuers(value)


def test_file_with_unknown_suffix_or_bad_yaml(tmp_path: Path):
    (tmp_path / "issuers.txt").write_text("[]", encoding="utf-8")
    (tmp_path / "issuers.yaml").write_text("- iss: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must end in .json, .yaml or .yml"):
        parse_trusted_issuers(str(tmp_path / "issuers.txt"))
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        parse_trusted_issuers(str(tmp_path / "issuers.yaml"))


def test_build_verifier_reads_jwks_files_at_start_up(tmp_path: Path):
    """A broken key file stops start-up, naming the issuer, instead of failing every call later."""
    (tmp_path / "keys.json").write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', encoding="utf-8")
    value = json.dumps([{"iss": "https://ehr.example.org", "jwks_file": str(tmp_path / "keys.json")}])
    with pytest.raises(ConfigurationError, match="issuer 'https://ehr.example.org': jwks_file: .* no usable"):
        build_verifier(value, InMemoryReplayCache())
