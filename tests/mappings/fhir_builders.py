"""Raw FHIR R4 resources for mapping tests, written the way EHRs send them."""

from __future__ import annotations

from typing import Any

PID = "m1"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_n = iter(range(1, 10_000))


def condition(
    code: str,
    system: str = ICD10CM,
    *,
    verification: str | None = "confirmed",
    clinical: str | None = "active",
    onset: str = "2026-06-01",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c{next(_n)}",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "onsetDateTime": onset,
    }
    if clinical:
        resource["clinicalStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}
            ]
        }
    if verification:
        resource["verificationStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}
            ]
        }
    return resource


def observation(
    loinc: str,
    value: float,
    unit: str,
    *,
    when: str = "2026-11-20",
    status: str = "final",
    low: float | None = None,
    high: float | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"o{next(_n)}",
        "status": status,
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }
    if low is not None and high is not None:
        resource["referenceRange"] = [
            {
                "low": {"value": low, "unit": unit, "system": UCUM, "code": unit},
                "high": {"value": high, "unit": unit, "system": UCUM, "code": unit},
            }
        ]
    return resource


def patient(gender: str = "female", birth: str = "1956-03-15") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PID, "gender": gender, "birthDate": birth}


def chart(*resources: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    return by_type
