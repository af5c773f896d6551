"""Remembered validation verdicts (fhir_mappings/model_check.py) give the same answer as validating."""

from __future__ import annotations

import copy

from fhir_mappings import model_check
from fhir_mappings.model_check import forget_verdicts, invalid_reason

VALID = {
    "resourceType": "Observation",
    "id": "ca1",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2026-11-01",
    "valueQuantity": {"value": 9.1, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"},
}


def test_a_valid_resource_stays_valid_when_asked_again() -> None:
    forget_verdicts()
    assert invalid_reason(VALID) is None
    assert invalid_reason(copy.deepcopy(VALID)) is None


def test_a_changed_resource_is_validated_again_not_taken_from_memory() -> None:
    forget_verdicts()
    assert invalid_reason(VALID) is None
    broken = copy.deepcopy(VALID)
    broken["valueQuantity"]["value"] = "nine"
    reason = invalid_reason(broken)
    assert reason is not None and "valueQuantity" in reason
    assert invalid_reason(broken) == reason  # remembered verdicts keep the reason


def test_memory_is_bounded(monkeypatch) -> None:
    forget_verdicts()
    monkeypatch.setattr(model_check, "MAX_VERDICTS", 3)
    for index in range(6):
        resource = copy.deepcopy(VALID)
        resource["id"] = f"ca{index}"
        invalid_reason(resource)
    assert len(model_check._verdicts) == 3
    forget_verdicts()
    assert len(model_check._verdicts) == 0
