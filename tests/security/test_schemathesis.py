"""openapi.yaml against the live app, in process: generated requests, no 5xx, every answer as documented.

schemathesis 4 generates requests for each operation (valid and invalid bodies, odd path parameters)
and checks each response: no server error, a documented status code and content type, a body that
matches the response schema. Bounded (30 examples per operation, derandomised) so it runs the same in
CI every time, in well under a minute.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

from cds_service.app import create_app
from tests.conftest import make_settings
from tests.security.jwt_issuer import PUBLIC_URL, TestIssuer

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
SERVICE_FOR_HOOK = {
    "patient-view": "bonemet-patient-view",
    "order-select": "bonemet-order-select",
    "order-sign": "bonemet-order-sign",
}


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, issuer: TestIssuer) -> Flask:
    """Configured as in production: JWT required, so the documented 401s are checked too."""
    settings = make_settings(
        tmp_path_factory.mktemp("schemathesis"),
        auth_mode="jwt",
        trusted_issuers=issuer.trusted_issuers(),
        public_url=PUBLIC_URL,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def api_schema(live_app: Flask) -> schemathesis.schemas.BaseSchema:
    loaded = schemathesis.openapi.from_path(OPENAPI)
    loaded.app = live_app
    # 412 is a documented answer to a well-formed call: the data the rules need was neither prefetched
    # nor readable from an allowed FHIR server, so the service cannot decide (CDS Hooks 2.0, prefetch).
    accepted = loaded.config.checks.positive_data_acceptance.expected_statuses
    loaded.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*accepted, "412"]
    )
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=30, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, issuer: TestIssuer) -> None:
    # A CORS preflight is answered for any path the route matches, before any service lookup, and carries
    # no body or credentials: an over-long service id in its path is not "invalid data" it must refuse.
    excluded = [schemathesis.checks.negative_data_rejection] if case.method == "OPTIONS" else []
    aim_at_a_real_service(case)
    headers = {}
    if case.method == "POST" and is_positive(case, ParameterLocation.HEADER):
        headers["Authorization"] = f"Bearer {issuer.token(case.formatted_path)}"  # fresh: a jti works once
    response = case.call(headers=headers)
    if refused_beyond_schema(case, response):
        excluded.append(schemathesis.checks.positive_data_acceptance)
    case.validate_response(
        response, excluded_checks=excluded, headers=headers, transport_kwargs={"headers": dict(headers)}
    )


def refused_beyond_schema(case: schemathesis.Case, response: Any) -> bool:
    """A 400 the OpenAPI schema cannot rule out for schema-valid data is the documented answer, not a
    schema-valid request wrongly refused; any other 400 still fails. Note that hypothesis seeds its
    derandomised examples from this test function's source: editing the test changes every example."""
    return (
        draft_refused_as_fhir(response)
        or hook_not_of_service(case, response)
        or smart_launch_refused(case, response)
    )


def hook_not_of_service(case: schemathesis.Case, response: Any) -> bool:
    """A valid body of one hook posted to a real service of another hook (the schema cannot tie `hook` to
    the path's service id): the service names `/hook` in its 400."""
    if case.method != "POST" or response.status_code != 400:
        return False
    try:
        return bool(response.json().get("field") == "/hook")
    except ValueError:
        return False


def draft_refused_as_fhir(response: Any) -> bool:
    """A schema-valid call may still carry a draft that is not valid FHIR R4 (the JSON Schema checks a
    draft's resourceType and id only; the service validates the rest with the R4B models): that 400 is
    the documented answer, not a schema-valid request wrongly refused. Any other 400 still fails."""
    if response.status_code != 400:
        return False
    try:
        error = response.json()
    except ValueError:
        return False
    field = str(error.get("field", ""))
    message = str(error.get("message", ""))
    return field.startswith("/context/draftOrders/entry/") and (
        "not valid FHIR R4" in message or "unexpected resource type" in message or "distinct ids" in message
    )


def smart_launch_refused(case: schemathesis.Case, response: Any) -> bool:
    """The SMART app's launch and callback refuse schema-valid values the schema cannot rule out: an
    `iss` off BONEMET_FHIR_ALLOWED_HOSTS (never contacted), a callback with no launch started in this
    browser. Their 400 is the documented answer; the page must still be the documented HTML."""
    return (
        case.path in ("/smart/launch", "/smart/callback")
        and response.status_code == 400
        and "text/html" in str(response.headers.get("content-type", ""))
    )


def aim_at_a_real_service(case: schemathesis.Case) -> None:
    """A random service id is almost always a 404, so half the POSTs whose path was generated valid go to
    the service their body's hook names: the bodies then reach validation, prefetch, rules and cards."""
    if (
        case.method != "POST"
        or not is_positive(case, ParameterLocation.PATH)
        or zlib.crc32(repr(case.body).encode()) % 2
    ):
        return
    hook = case.body.get("hook") if isinstance(case.body, dict) else None
    service = (
        SERVICE_FOR_HOOK.get(hook, "bonemet-patient-view")
        if isinstance(hook, str)
        else "bonemet-patient-view"
    )
    case.path_parameters = {**(case.path_parameters or {}), "id": service}


def is_positive(case: schemathesis.Case, location: ParameterLocation) -> bool:
    """True when this part of the case was generated valid: the invalid part of a negative case is kept."""
    if case.meta is None:
        return False
    component = case.meta.components.get(location)
    return (component.mode if component else case.meta.generation.mode) == GenerationMode.POSITIVE


def test_a_405_names_the_allowed_methods(live_app: Flask) -> None:
    """Found by the run above: the JSON 405 body used to drop the Allow header RFC 9110 requires."""
    response = live_app.test_client().delete("/cds-services")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method-not-allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "OPTIONS"}
