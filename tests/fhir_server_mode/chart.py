"""One patient's chart as raw FHIR R4, served three ways: as prefetch, as a transaction for the real FHIR
server, and as search answers for fault injection. The same resources feed every mode, so a test can
say "the cards are the same as with prefetch" and mean it.

The patient: a 68-year-old woman with lung cancer and confirmed bone metastasis, on zoledronic acid
4 mg, creatinine 1.6 mg/dL and 60 kg (Cockcroft-Gault about 32 mL/min, so ZA-RENAL-DOSING fires), and
total calcium 12.0 mg/dL with albumin 4.0 g/dL (HYPERCALCEMIA fires). Dates are relative to today,
because the service evaluates at the time of the call.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cds_service.runtime import Runtime

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ACCESS_TOKEN = "test-access-token-7f3a9c1e"  # noqa: S105 - a test value that logs must never contain


def new_patient_id() -> str:
    """A fresh id per test: the server is shared by the whole session."""
    return f"fs-{uuid.uuid4().hex[:12]}"


def _day(days_ago: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()


def _status(system_tail: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system_tail}", "code": code}]}


def condition(pid: str, rid: str, code: str, days_ago: int) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": ICD10CM, "code": code}]},
        "clinicalStatus": _status("condition-clinical", "active"),
        "verificationStatus": _status("condition-ver-status", "confirmed"),
        "onsetDateTime": _day(days_ago),
    }


def observation(pid: str, rid: str, loinc: str, value: float, unit: str, days_ago: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "effectiveDateTime": _day(days_ago),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def zoledronic_acid(pid: str, rid: str) -> dict[str, Any]:
    dose = {"value": 4, "unit": "mg", "system": UCUM, "code": "mg"}
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "77655"}],
            "text": "zoledronic acid 4 mg IV every 4 weeks",
        },
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": _day(90),
        "dosageInstruction": [
            {
                "text": "4 mg IV over 15 minutes every 4 weeks",
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}},
                "doseAndRate": [{"doseQuantity": dose}],
            }
        ],
    }


def chart(pid: str, *, old_creatinines: int = 0) -> list[dict[str, Any]]:
    """The patient's resources. `old_creatinines` adds that many older creatinine results (one a week
    before the current one), to make searches span several pages."""
    birth = date(datetime.now(UTC).year - 68, 1, 15).isoformat()
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": birth},
        condition(pid, f"{pid}-lung", "C34.90", 300),
        condition(pid, f"{pid}-bone", "C79.51", 120),
        zoledronic_acid(pid, f"{pid}-za"),
        observation(pid, f"{pid}-cr", "2160-0", 1.6, "mg/dL", 3),
        observation(pid, f"{pid}-wt", "29463-7", 60, "kg", 3),
        observation(pid, f"{pid}-ca", "17861-6", 12.0, "mg/dL", 3),
        observation(pid, f"{pid}-alb", "1751-7", 4.0, "g/dL", 3),
    ]
    for week in range(old_creatinines):
        resources.append(observation(pid, f"{pid}-cr-old{week}", "2160-0", 1.0, "mg/dL", 30 + 7 * week))
    return resources


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A transaction Bundle that PUTs each resource under its own id."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def searchset(
    resources: list[dict[str, Any]], next_url: str | None = None, self_url: str | None = None
) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }
    links = [("self", self_url), ("next", next_url)]
    if any(url is not None for _, url in links):
        bundle["link"] = [{"relation": rel, "url": url} for rel, url in links if url is not None]
    return bundle


def of_type(resources: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == resource_type]


def prefetch_for(runtime: Runtime, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """What a complete EHR would prefetch: the Patient, and per search template a searchset of the
    resources of the template's type."""
    prefetch: dict[str, Any] = {}
    for key, template in runtime.prefetch_templates.items():
        resource_type = template.split("/", 1)[0].split("?", 1)[0]
        if "?" not in template:
            prefetch[key] = of_type(resources, resource_type)[0]
        else:
            prefetch[key] = searchset(of_type(resources, resource_type))
    return prefetch


def hook_body(pid: str, *, server: str | None, prefetch: dict[str, Any] | None = None) -> dict[str, Any]:
    """A patient-view request; with `server`, also fhirServer and a fhirAuthorization token."""
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/doc1", "patientId": pid},
    }
    if server is not None:
        body["fhirServer"] = server
        body["fhirAuthorization"] = {
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "bonemet-cds",
        }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def _app_context(raw: str) -> dict[str, Any]:
    context = json.loads(raw)
    context.pop("card", None)
    return context


def rule_ids(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def comparable(value: Any) -> Any:
    """Cards without their per-call `uuid`s (cards and suggestions get new ones on every call, and a
    SMART link's appContext names its card's)."""
    if isinstance(value, dict):
        return {
            k: _app_context(v) if k == "appContext" else comparable(v)
            for k, v in value.items()
            if k != "uuid"
        }
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value
