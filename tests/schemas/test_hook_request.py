"""The hook request schema: valid calls of each hook pass, each broken field is named in the 400."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from cds_service.errors import RequestError
from cds_service.validation import MAX_MESSAGE_CHARS, validate_hook_request
from tests.schemas.examples import hook_body

HOOKS = ("patient-view", "order-select", "order-sign")


def refusal(body: dict[str, Any], hook: str) -> RequestError:
    with pytest.raises(RequestError) as caught:
        validate_hook_request(body, hook)
    return caught.value


@pytest.mark.parametrize("hook", HOOKS)
def test_a_valid_call_of_each_hook_passes(hook: str) -> None:
    validate_hook_request(hook_body(hook), hook)


def test_a_null_prefetch_value_means_no_data_and_is_valid() -> None:
    body = hook_body("patient-view")
    body["prefetch"] = {"patient": None, "conditions": None}
    validate_hook_request(body, "patient-view")


def test_unknown_extension_fields_are_allowed() -> None:
    body = hook_body("patient-view")
    body["extension"] = {"com.example.ehr.tenant": "north"}
    validate_hook_request(body, "patient-view")


def _drop(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        node = body
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _set(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        node: Any = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


INVALID = [
    ("missing hook", "patient-view", _drop("hook"), "/hook"),
    ("hookInstance not a uuid", "patient-view", _set("call-17", "hookInstance"), "/hookInstance"),
    (
        "hookInstance with urn prefix",
        "patient-view",
        _set("urn:uuid:d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "hookInstance"),
        "/hookInstance",
    ),
    ("fhirAuthorization without fhirServer", "patient-view", _drop("fhirServer"), "/fhirServer"),
    ("fhirServer not a URL", "order-sign", _set("ehr.example.org/fhir", "fhirServer"), "/fhirServer"),
    (
        "token_type not Bearer",
        "patient-view",
        _set("MAC", "fhirAuthorization", "token_type"),
        "/fhirAuthorization/token_type",
    ),
    (
        "expires_in negative",
        "patient-view",
        _set(-5, "fhirAuthorization", "expires_in"),
        "/fhirAuthorization/expires_in",
    ),
    ("context missing patientId", "patient-view", _drop("context", "patientId"), "/context/patientId"),
    ("context missing userId", "order-sign", _drop("context", "userId"), "/context/userId"),
    ("userId not Type/id", "patient-view", _set("dr-house", "context", "userId"), "/context/userId"),
    (
        "patientId with a slash",
        "patient-view",
        _set("Patient/1", "context", "patientId"),
        "/context/patientId",
    ),
    ("context not an object", "patient-view", _set(["1288992"], "context"), "/context"),
    (
        "draftOrders not a Bundle",
        "order-sign",
        _set({"resourceType": "MedicationRequest", "id": "m"}, "context", "draftOrders"),
        "/context/draftOrders/resourceType",
    ),
    ("draftOrders a list", "order-select", _set([], "context", "draftOrders"), "/context/draftOrders"),
    ("draftOrders missing", "order-sign", _drop("context", "draftOrders"), "/context/draftOrders"),
    (
        "draft order without id",
        "order-select",
        _drop("context", "draftOrders", "entry", 0, "resource", "id"),
        "/context/draftOrders/entry/0/resource/id",
    ),
    ("selections missing", "order-select", _drop("context", "selections"), "/context/selections"),
    ("selections empty", "order-select", _set([], "context", "selections"), "/context/selections"),
    (
        "selection not a reference",
        "order-select",
        _set([7], "context", "selections"),
        "/context/selections/0",
    ),
    ("prefetch value a list", "patient-view", _set([], "prefetch", "patient"), "/prefetch/patient"),
    (
        "prefetch resource without resourceType",
        "patient-view",
        _set({"id": "1"}, "prefetch", "patient"),
        "/prefetch/patient/resourceType",
    ),
    ("hook of another service", "patient-view", _set("order-sign", "hook"), "/hook"),
]


@pytest.mark.parametrize(("case", "hook", "mutate", "field"), INVALID, ids=[case[0] for case in INVALID])
def test_each_invalid_field_is_named(
    case: str, hook: str, mutate: Callable[[dict[str, Any]], None], field: str
) -> None:
    body = hook_body(hook)
    mutate(body)
    error = refusal(body, hook)
    assert error.field == field
    assert field in error.message
    assert error.status == 400


def test_the_fhir_authorization_error_says_why_fhir_server_is_required() -> None:
    body = hook_body("patient-view")
    del body["fhirServer"]
    assert "fhirAuthorization" in refusal(body, "patient-view").message


def test_a_call_for_another_hook_is_refused_even_when_its_context_is_valid() -> None:
    error = refusal(hook_body("order-sign"), "patient-view")
    assert (error.field, error.message) == ("/hook", "/hook must be 'patient-view' for this service")


def test_messages_do_not_echo_request_values() -> None:
    body = hook_body("patient-view")
    body["context"]["patientId"] = "ZHANG-WEI-19640312/secret"
    body["prefetch"]["patient"] = "ZHANG-WEI-19640312"
    for hook_call in (body, {**body, "prefetch": {}}):
        assert "ZHANG" not in refusal(hook_call, "patient-view").message


def test_an_oversized_garbage_body_gets_one_short_message() -> None:
    """5 MB of junk in the context: one short message naming /context (its speed is bench's business)."""
    body = hook_body("patient-view")
    body["context"] = [{"note": "x" * 200, "n": i} for i in range(20_000)]
    assert len(orjson.dumps(body)) > 4_000_000
    error = refusal(body, "patient-view")
    assert error.field == "/context"
    assert len(error.message) <= MAX_MESSAGE_CHARS


def test_a_large_body_missing_a_top_level_field_is_reported_by_that_field() -> None:
    body = hook_body("patient-view")
    del body["hook"]
    body["prefetch"]["observations"] = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Observation", "id": str(i), "note": "y" * 200}}
            for i in range(20_000)
        ],
    }
    error = refusal(body, "patient-view")
    assert (error.field, len(error.message) <= MAX_MESSAGE_CHARS) == ("/hook", True)


@pytest.mark.parametrize("where", ["context", "prefetch-value"])
def test_deeply_nested_garbage_is_refused_with_the_field_not_a_crash(where: str) -> None:
    """jsonschema-rs cannot copy more than ~250 levels into an error; orjson parses up to 1024."""
    deep = orjson.loads("[" * 1000 + "]" * 1000)
    body = hook_body("patient-view")
    if where == "context":
        body["context"] = deep
        expected = "/context"
    else:
        body["prefetch"]["patient"] = deep
        expected = "/prefetch/patient"
    error = refusal(body, "patient-view")
    assert error.field == expected
    assert len(error.message) <= MAX_MESSAGE_CHARS


def test_a_huge_key_is_shortened_in_the_pointer() -> None:
    body = hook_body("patient-view")
    body["prefetch"] = {"k" * 5000: 1}
    error = refusal(body, "patient-view")
    assert error.field is not None and error.field.startswith("/prefetch/kkk")
    assert len(error.field) < 200 and len(error.message) <= MAX_MESSAGE_CHARS


def test_too_many_prefetch_keys_are_refused() -> None:
    body = hook_body("patient-view")
    body["prefetch"] = {f"key{i}": None for i in range(1000)}
    assert refusal(body, "patient-view").field == "/prefetch"
