"""openapi.yaml is a valid OpenAPI 3.1 document and says what cds_service/schemas and the service say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings

# The OpenAPI 3.1 meta-schema as schemathesis ships it: checks the document offline.
from schemathesis.specs.openapi.definitions import OPENAPI_31

from cds_service import errors
from cds_service.schemas.openapi_components import components
from cds_service.validation import validate_feedback, validate_hook_request

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
REGENERATE = "run .venv/bin/python -m cds_service.schemas.openapi_components"


class _NoDuplicateKeys(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a duplicated component would hide a drift."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key_node, deep=deep) for key_node, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {sorted(duplicates)}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.load(OPENAPI_PATH.read_text(encoding="utf-8"), Loader=_NoDuplicateKeys)  # noqa: S506


def test_it_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
    assert document["openapi"].startswith("3.1.")
    assert [error.message[:200] for error in validator.iter_errors(document)] == []
    assert not validator.is_valid({**document, "info": {"title": "no version"}})  # the check can fail


def test_every_component_schema_is_a_valid_2020_12_schema(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_ref_resolves_inside_the_document(document: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for ref in refs(document):
        assert ref.startswith("#/components/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
            node = node[part]


def test_components_match_the_json_schema_files(document: dict[str, Any]) -> None:
    in_document = document["components"]["schemas"]
    for name, schema in components().items():
        assert name in in_document, f"component {name} missing from openapi.yaml: {REGENERATE}"
        assert in_document[name] == schema, f"component {name} differs from cds_service/schemas: {REGENERATE}"


def test_request_bodies_are_the_hook_request_and_feedback_schemas(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def body_ref(path: str) -> str:
        return paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert body_ref("/cds-services/{id}") == "#/components/schemas/HookRequest"
    assert body_ref("/cds-services/{id}/feedback") == "#/components/schemas/FeedbackRequest"
    ok = paths["/cds-services/{id}"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/CdsResponse"}


def test_every_documented_endpoint_and_status_is_there(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths) == {
        "/cds-services",
        "/cds-services/{id}",
        "/cds-services/{id}/feedback",
        "/healthz",
        "/metrics",
        "/admin/analytics",
        "/",
        "/preview/patient-view/{patientId}",
        "/smart/launch",
        "/smart/callback",
        "/smart/review",
    }
    assert {"400", "401", "404", "412", "413", "415", "500"} <= set(
        paths["/cds-services/{id}"]["post"]["responses"]
    )
    assert {"200", "400", "401", "404", "413", "415", "500"} <= set(
        paths["/cds-services/{id}/feedback"]["post"]["responses"]
    )
    for path in ("/cds-services", "/cds-services/{id}", "/cds-services/{id}/feedback"):
        assert "options" in paths[path], f"{path} has no CORS preflight"
    assert "text/html" in paths["/"]["get"]["responses"]["200"]["content"]


def test_the_error_schema_lists_every_error_code_of_the_service(document: dict[str, Any]) -> None:
    def subclasses(cls: type) -> list[type]:
        return [cls] + [sub for direct in cls.__subclasses__() for sub in subclasses(direct)]

    codes = {cls.code for cls in subclasses(errors.ServiceError)}
    error_schema = document["components"]["schemas"]["Error"]
    assert codes <= set(error_schema["properties"]["error"]["enum"])
    assert error_schema["required"] == ["error", "message"]


def test_bodies_generated_from_openapi_pass_the_service_validators(document: dict[str, Any]) -> None:
    """What a schemathesis run will send as valid data is valid for the service too (no silent 400s)."""
    schema = schemathesis.openapi.from_dict(document)
    hook_call = schema["/cds-services/{id}"]["POST"]
    feedback = schema["/cds-services/{id}/feedback"]["POST"]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(hook_case=hook_call.as_strategy(), feedback_case=feedback.as_strategy())
    def check(hook_case: Any, feedback_case: Any) -> None:
        validate_hook_request(hook_case.body, hook_case.body["hook"])
        validate_feedback(feedback_case.body)

    check()
