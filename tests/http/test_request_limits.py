"""The limits a hook request is held to, at their edges: JSON depth, resources per call, draft checks.

tests/security/test_malformed_peers.py attacks the production server with each malformed input; this
file pins the boundaries (one level, one resource), the settings that move them, and the counting.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cds_service.errors import ConfigurationError
from cds_service.json_limits import exceeds_depth
from cds_service.settings import Settings
from cds_service.work_bound import count_resources
from tests.http.requests_factory import PATIENT_ID, hook_request

PATIENT_VIEW = "/cds-services/bonemet-patient-view"
ORDER_SELECT = "/cds-services/bonemet-order-select"


def depth_of(node: Any) -> int:
    if isinstance(node, dict):
        return 1 + max((depth_of(v) for v in node.values()), default=0)
    if isinstance(node, list):
        return 1 + max((depth_of(v) for v in node), default=0)
    return 0


def nested_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("document", [1, {}, [], {"a": [1, {"b": {}}]}, nested_list(10), [[], [[[]]], {}]])
def test_depth_is_counted_in_containers(document: Any) -> None:
    depth = depth_of(document)
    assert not exceeds_depth(document, max(depth, 1))
    if depth > 1:
        assert exceeds_depth(document, depth - 1)


def body_of_depth(depth: int) -> dict[str, Any]:
    """A valid patient-view call whose deepest point is exactly `depth` levels (an extension's value)."""
    body = hook_request("patient-view")
    base = depth_of(body["prefetch"]["patient"]) + 2  # body -> prefetch -> patient
    body["prefetch"]["patient"]["extension"] = [{"url": "https://example.org/x", "valueString": "y"}]
    body["prefetch"]["patient"]["_deep"] = nested_list(depth - base)
    assert depth_of(body) == depth
    return body


def test_the_depth_limit_is_exact_and_a_setting(app_factory) -> None:
    client = app_factory(max_json_depth=20).test_client()
    fits = client.post(PATIENT_VIEW, data=orjson.dumps(body_of_depth(20)), content_type="application/json")
    assert fits.status_code == 200, fits.get_json()
    deeper = client.post(PATIENT_VIEW, data=orjson.dumps(body_of_depth(21)), content_type="application/json")
    assert deeper.status_code == 400
    assert deeper.get_json()["message"].startswith("request body nests objects and arrays deeper than 20")


@pytest.mark.parametrize("value", ["8", "129", "1024"])
def test_a_depth_limit_outside_what_the_readers_survive_stops_start_up(value: str) -> None:
    env = {"BONEMET_AUTH": "off", "BONEMET_MAX_JSON_DEPTH": value}
    with pytest.raises(ConfigurationError, match="BONEMET_MAX_JSON_DEPTH"):
        Settings.from_env(env)


def test_limits_default_to_the_documented_values() -> None:
    settings = Settings.from_env({"BONEMET_AUTH": "off"})
    assert (settings.max_json_depth, settings.max_resources_per_call, settings.jwt_max_lifetime_seconds) == (
        64,
        10_000,
        300,
    )


def test_resources_are_counted_in_prefetch_bundles_single_resources_and_drafts() -> None:
    body = hook_request("order-select")
    # patient (1) + one lung cancer Condition + 7 empty bundles; no drafts yet
    assert count_resources(body) == 2
    body["context"]["draftOrders"]["entry"] = [{"resource": {"resourceType": "MedicationRequest", "id": "m"}}]
    body["prefetch"]["observations"] = {"resourceType": "Bundle", "entry": [{"resource": {}}] * 5}
    body["prefetch"]["nothing"] = None
    assert count_resources(body) == 8


def with_conditions(count: int) -> dict[str, Any]:
    body = hook_request("patient-view")
    condition = body["prefetch"]["conditions"]["entry"][0]["resource"]
    body["prefetch"]["conditions"]["entry"] = [
        {"resource": {**condition, "id": f"c{i}"}} for i in range(count)
    ]
    return body


def test_the_resource_cap_is_exact_and_a_setting(app_factory) -> None:
    client = app_factory(max_resources_per_call=150).test_client()
    assert client.post(PATIENT_VIEW, json=with_conditions(149)).status_code == 200  # + the Patient = 150
    refused = client.post(PATIENT_VIEW, json=with_conditions(150))
    assert refused.status_code == 413
    assert refused.get_json() == {
        "error": "payload-too-large",
        "message": "request carries 151 FHIR resources; at most 150 are read per call "
        "(BONEMET_MAX_RESOURCES_PER_CALL)",
    }


def draft_request(*drafts: dict[str, Any]) -> dict[str, Any]:
    body = hook_request("order-select")
    body["context"]["draftOrders"]["entry"] = [{"resource": d} for d in drafts]
    body["context"]["selections"] = [f"{drafts[0]['resourceType']}/{drafts[0]['id']}"]
    return body


def nutrition_order(rid: str = "n1", **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "NutritionOrder",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "dateTime": "2026-12-01",
        **fields,
    }


def test_a_draft_of_any_fhir_order_type_is_validated_with_its_model(client) -> None:
    """CDS Hooks R4 drafts include NutritionOrder, DeviceRequest, VisionPrescription: valid ones pass."""
    assert client.post(ORDER_SELECT, json=draft_request(nutrition_order())).status_code == 200
    refused = client.post(ORDER_SELECT, json=draft_request(nutrition_order(status=5)))
    assert refused.status_code == 400
    assert refused.get_json()["message"] == (
        "/context/draftOrders/entry/0/resource is not valid FHIR R4 (status: string_type)"
    )


@pytest.mark.parametrize("extension", ["NaN", "5", "[1]"])
def test_a_primitive_extension_fhir_resources_cannot_read_is_a_400(client, extension: str) -> None:
    """Found by tests/security/test_draft_fuzz.py: the models parse `_status` text as JSON and then
    read the number as an object (AttributeError inside fhir.resources): a 500 until caught."""
    response = client.post(ORDER_SELECT, json=draft_request(nutrition_order(_status=extension)))
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(
        "/context/draftOrders/entry/0/resource is not valid FHIR R4"
    )


@pytest.mark.parametrize("resource_type", ["Dosage", "Widget"])
def test_a_draft_that_is_not_a_fhir_resource_type_is_refused(client, resource_type: str) -> None:
    response = client.post(ORDER_SELECT, json=draft_request({"resourceType": resource_type, "id": "x"}))
    assert response.status_code == 400
    assert f"unexpected resource type {resource_type}" in response.get_json()["message"]


def test_drafts_of_different_types_may_share_an_id(client) -> None:
    """FHIR ids are unique per type; a suggestion finds its draft by type and id."""
    service_request = {
        "resourceType": "ServiceRequest",
        "id": "n1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"text": "bone scan"},
    }
    assert (
        client.post(ORDER_SELECT, json=draft_request(nutrition_order(), service_request)).status_code == 200
    )
