"""One app for the whole scenario suite (built once: the scenarios only read, so they cannot interfere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest
from flask.testing import FlaskClient

from cds_service.app import create_app
from cds_service.schemas import load_schema
from tests.conftest import make_settings
from tests.scenarios.scenario_files import Scenario, hook_request


@pytest.fixture(scope="session")
def scenario_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    app = create_app(make_settings(tmp_path_factory.mktemp("scenarios")))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="session")
def response_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(load_schema("cds_response.schema.json"), validate_formats=True)


@pytest.fixture(scope="session")
def call_scenario(scenario_client: FlaskClient) -> Callable[[Scenario], dict[str, Any]]:
    """POST the scenario's hook request to its service once and return the JSON response (200 required)."""

    responses: dict[str, dict[str, Any]] = {}

    def call(scenario: Scenario) -> dict[str, Any]:
        if scenario.name in responses:
            return responses[scenario.name]
        response = scenario_client.post(f"/cds-services/{scenario.service_id}", json=hook_request(scenario))
        assert response.status_code == 200, (scenario.name, response.get_json())
        body = response.get_json()
        assert isinstance(body, dict)
        responses[scenario.name] = body
        return body

    return call
