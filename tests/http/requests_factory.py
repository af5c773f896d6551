"""Minimal valid hook requests for protocol tests (the clinical content lives in tests/scenarios)."""

from __future__ import annotations

import uuid
from typing import Any

PATIENT_ID = "http-test-patient"


def patient_bundle_prefetch(*, with_lung_cancer: bool = True) -> dict[str, Any]:
    conditions = []
    if with_lung_cancer:
        conditions.append(
            {
                "resourceType": "Condition",
                "id": "lc1",
                "subject": {"reference": f"Patient/{PATIENT_ID}"},
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "verificationStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                            "code": "confirmed",
                        }
                    ]
                },
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C34.90"}]},
                "onsetDateTime": "2026-01-10",
            }
        )
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    return {
        "patient": {
            "resourceType": "Patient",
            "id": PATIENT_ID,
            "gender": "female",
            "birthDate": "1958-04-02",
        },
        "conditions": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": c} for c in conditions],
        },
        "observations": empty,
        "imaging": empty,
        "imagingReports": empty,
        "medications": empty,
        "procedures": empty,
        "serviceRequests": empty,
        "encounters": empty,
        "episodesOfCare": empty,
    }


def hook_request(hook: str = "patient-view", **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/doc1", "patientId": PATIENT_ID}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": []}
    if hook == "order-select":
        context["selections"] = ["MedicationRequest/none"]
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": patient_bundle_prefetch(),
    }
    body.update(overrides)
    return body
