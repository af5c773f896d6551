"""The benchmark's synthetic patients are the sizes issue 6 names and valid FHIR R4 (R4B models)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle

from bench.patients import SIZES, all_resources, hook_request, patient_resources
from cds_service.validation import validate_hook_request
from fhir_mappings.model_check import invalid_reason

EXPECTED = {
    "small": {"Condition": 3, "Observation": 20, "ImagingStudy": 1, "MedicationRequest": 2},
    "typical": {"Condition": 10, "Observation": 200, "ImagingStudy": 5, "MedicationRequest": 15},
    "heavy": {
        "Condition": 30,
        "Observation": 2000,
        "ImagingStudy": 40,
        "MedicationRequest": 100,
        "Procedure": 50,
    },
}


@pytest.fixture(scope="module")
def charts() -> dict[str, dict]:
    anchor = datetime(2026, 12, 1, tzinfo=UTC)
    return {size: patient_resources(size, anchor) for size in SIZES}


@pytest.mark.parametrize("size", sorted(EXPECTED))
def test_chart_has_the_sizes_of_the_issue(charts: dict[str, dict], size: str) -> None:
    counts = Counter(r["resourceType"] for r in all_resources(charts[size]))
    for resource_type, expected in EXPECTED[size].items():
        assert counts[resource_type] == expected


@pytest.mark.parametrize("size", sorted(EXPECTED))
def test_every_resource_is_valid_fhir_r4(charts: dict[str, dict], size: str) -> None:
    reasons = {f"{r['resourceType']}/{r['id']}": invalid_reason(r) for r in all_resources(charts[size])}
    assert {ref: why for ref, why in reasons.items() if why} == {}


def test_prefetch_bundles_are_valid_searchsets(charts: dict[str, dict]) -> None:
    for key, value in charts["typical"].items():
        if value["resourceType"] == "Bundle":
            assert Bundle.model_validate(value).type == "searchset", key


def test_heavy_observations_span_five_years(charts: dict[str, dict]) -> None:
    days = sorted(
        r["effectiveDateTime"][:10]
        for r in all_resources(charts["heavy"])
        if r["resourceType"] == "Observation"
    )
    span = datetime.fromisoformat(days[-1]) - datetime.fromisoformat(days[0])
    assert 4.9 * 365 <= span.days <= 5 * 365


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_hook_requests_pass_the_request_schema(charts: dict[str, dict], hook: str) -> None:
    body = hook_request(hook, charts["small"])
    validate_hook_request(body, hook)  # raises RequestError when invalid
    draft = body["context"].get(
        "draftOrders", {"entry": [{"resource": {"resourceType": "MedicationRequest"}}]}
    )
    assert draft["entry"][0]["resource"]["resourceType"] == "MedicationRequest"
