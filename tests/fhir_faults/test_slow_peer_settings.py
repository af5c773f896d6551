"""The settings of issue 11 (slow and wrong peers): read from the environment, checked, and wired in."""

from __future__ import annotations

import pytest

from cds_service.errors import ConfigurationError
from cds_service.settings import Settings

BASE = {"BONEMET_AUTH": "off"}


def test_defaults_are_strict():
    settings = Settings.from_env(BASE)
    assert settings.fhir_require_self_link is True
    assert settings.fhir_max_per_origin == 10 and settings.jwks_deadline_seconds == 3.0


def test_values_are_read():
    settings = Settings.from_env(
        {
            **BASE,
            "BONEMET_FHIR_REQUIRE_SELF_LINK": "false",
            "BONEMET_FHIR_MAX_CONNECTIONS_PER_ORIGIN": "4",
            "BONEMET_JWKS_DEADLINE_SECONDS": "1.5",
        }
    )
    assert settings.fhir_require_self_link is False
    assert settings.fhir_max_per_origin == 4 and settings.jwks_deadline_seconds == 1.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BONEMET_FHIR_REQUIRE_SELF_LINK", "maybe"),
        ("BONEMET_FHIR_MAX_CONNECTIONS_PER_ORIGIN", "0"),
        ("BONEMET_JWKS_DEADLINE_SECONDS", "0"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**BASE, name: value})


def test_the_fhir_client_gets_them(fault_app):
    client = fault_app(fhir_max_per_origin=3, fhir_require_self_link=False).extensions["bonemet"].fhir_client
    assert client.max_per_origin == 3 and client.require_self_link is False
