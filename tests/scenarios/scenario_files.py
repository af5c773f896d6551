"""Clinical scenario files: loading, rebasing their dates onto today, and turning them into hook calls.

Each `patients/*.json` is one synthetic patient: a FHIR R4 collection Bundle (`bundle`), the hook it is
seen at, a one-sentence clinical `description`, the exact `expected_rule_ids`, optionally
`expected_indicators`, `near_miss_rule_ids` (rules the patient was built to narrowly not trigger),
`pair` (the same patient written with another laboratory's units and codes), and for order hooks
`draftOrders` (and `selections` for order-select).

The HTTP route evaluates against the current clock, so every date in a file is written as of the
file's `now` and shifted by (today - now) days before the call: windows such as "within 30 days" or
"18 months on treatment" mean the same thing whenever the suite runs. Birth dates shift too, so ages stay.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PATIENTS_DIR = Path(__file__).parent / "patients"
SERVICE_BY_HOOK = {
    "patient-view": "bonemet-patient-view",
    "order-select": "bonemet-order-select",
    "order-sign": "bonemet-order-sign",
}
PREFETCH_KEY_BY_TYPE = {
    "Condition": "conditions",
    "Observation": "observations",
    "ImagingStudy": "imaging",
    "DiagnosticReport": "imagingReports",
    "MedicationRequest": "medications",
    "Medication": "medications",
    "Procedure": "procedures",
    "ServiceRequest": "serviceRequests",
    "Encounter": "encounters",
    "EpisodeOfCare": "episodesOfCare",
}
RULE_SYSTEM = "https://bonemet-cds.org/fhir/CodeSystem/rule"
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)?$")


@dataclass(frozen=True)
class Scenario:
    name: str
    doc: dict[str, Any]

    @property
    def hook(self) -> str:
        return str(self.doc["hook"])

    @property
    def service_id(self) -> str:
        return SERVICE_BY_HOOK[self.hook]

    @property
    def expected(self) -> set[str]:
        return set(self.doc["expected_rule_ids"])

    @property
    def near_misses(self) -> set[str]:
        return set(self.doc.get("near_miss_rule_ids", []))

    @property
    def patient(self) -> dict[str, Any]:
        return next(r for r in self.resources() if r["resourceType"] == "Patient")

    def resources(self) -> list[dict[str, Any]]:
        return [entry["resource"] for entry in self.doc["bundle"]["entry"]]


def load_scenarios() -> list[Scenario]:
    return [Scenario(p.stem, json.loads(p.read_text())) for p in sorted(PATIENTS_DIR.glob("*.json"))]


def rebase(value: Any, days: int) -> Any:
    """A copy of `value` with every FHIR date or dateTime string moved by `days` days."""
    if isinstance(value, dict):
        return {k: rebase(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [rebase(v, days) for v in value]
    if isinstance(value, str) and (match := _DATE.match(value)):
        shifted = date.fromisoformat(match.group(1)) + timedelta(days=days)
        return shifted.isoformat() + (match.group(2) or "")
    return value


def days_to_today(scenario: Scenario, today: date | None = None) -> int:
    today = today or datetime.now(UTC).date()
    return (today - date.fromisoformat(scenario.doc["now"])).days


def hook_request(scenario: Scenario, today: date | None = None) -> dict[str, Any]:
    """The CDS Hooks request an EHR would send for this patient, everything in prefetch."""
    doc = rebase(copy.deepcopy(scenario.doc), days_to_today(scenario, today))
    resources = [entry["resource"] for entry in doc["bundle"]["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": patient}
    prefetch.update({key: _searchset([]) for key in sorted(set(PREFETCH_KEY_BY_TYPE.values()))})
    for resource in resources:
        if resource["resourceType"] != "Patient":
            key = PREFETCH_KEY_BY_TYPE[resource["resourceType"]]
            prefetch[key]["entry"].append({"resource": resource})
    context: dict[str, Any] = {"userId": "Practitioner/scenario-doctor", "patientId": patient["id"]}
    if scenario.hook != "patient-view":
        context["draftOrders"] = doc["draftOrders"]
    if scenario.hook == "order-select":
        context["selections"] = doc["selections"]
    return {
        "hook": scenario.hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": prefetch,
    }


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def rule_ids(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def rule_indicators(cards: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(card["source"]["topic"]["code"], card["indicator"]) for card in cards}


def resource_references(scenario: Scenario) -> set[str]:
    found = {f"{r['resourceType']}/{r['id']}" for r in scenario.resources()}
    for entry in (scenario.doc.get("draftOrders") or {}).get("entry", []):
        found.add(f"{entry['resource']['resourceType']}/{entry['resource']['id']}")
    return found
