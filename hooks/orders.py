"""Suggestion actions: a rule's `ActionSpec` turned into a CDS Hooks action with a complete FHIR R4 resource.

The catalog (`hooks/order_catalog.py`, `hooks/data/orders.yaml`) says what to order; this module writes the
MedicationRequest or ServiceRequest for the patient: status `draft`, intent `order`, coded, with dose,
route and timing, never a placeholder. An `update` rewrites the clinician's own drafted order (found by
reference in the request's `draftOrders`) and a `delete` names it; a reference that is not among the
drafts is a programming error and raises, because guessing another order to change would be unsafe.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from hooks.code_systems import UCUM
from hooks.findings import ActionSpec
from hooks.markdown import plain_text
from hooks.order_catalog import (
    MedicationOrder,
    OrderCatalog,
    OrderCatalogError,
    ServiceOrder,
    load_order_catalog,
)

__all__ = [
    "OrderCatalog",
    "OrderCatalogError",
    "UnknownDraftOrder",
    "build_action",
    "create_resource",
    "load_order_catalog",
    "medication_request",
    "service_request",
    "updated_medication_request",
]

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")
# Dosage fields that describe the old dose and would contradict the new one if kept.
_STALE_DOSAGE_FIELDS = (
    "text",
    "patientInstruction",
    "doseAndRate",
    "timing",
    "route",
    "maxDosePerPeriod",
    "maxDosePerAdministration",
    "maxDosePerLifetime",
)
DraftsByRef = Mapping[str, Mapping[str, Any]]


class UnknownDraftOrder(LookupError):
    """An update or delete names a draft order that is not in the request's draftOrders."""


def build_action(
    spec: ActionSpec, *, patient_id: str, drafts_by_ref: DraftsByRef, catalog: OrderCatalog
) -> dict[str, Any]:
    """The CDS Hooks action for one spec: `create` and `update` carry a resource, `delete` a resourceId."""
    if spec.type == "create":
        entry = catalog.entry(_required(spec.order_key, "order_key", spec))
        resource = create_resource(entry, patient_id=patient_id, reason=spec.reason)
        return {"type": "create", "description": plain_text(f"Order {entry.text}"), "resource": resource}
    target = _required(spec.target, "target", spec)
    draft = _find_draft(target, drafts_by_ref)
    if spec.type == "update":
        entry = catalog.entry(_required(spec.order_key, "order_key", spec))
        if not isinstance(entry, MedicationOrder):
            raise ValueError(f"update of {target}: '{entry.key}' is not a medication; updates change a dose")
        description = f"Change {_draft_label(draft, target)} to {entry.text}"
        return {
            "type": "update",
            "description": plain_text(description),
            "resource": updated_medication_request(draft, entry),
        }
    if spec.type == "delete":
        description = f"Remove the drafted order {_draft_label(draft, target)} ({target})"
        return {"type": "delete", "description": plain_text(description), "resourceId": target}
    raise ValueError(f"unknown action type {spec.type!r}")


def create_resource(
    entry: MedicationOrder | ServiceOrder, *, patient_id: str, reason: str = ""
) -> dict[str, Any]:
    if isinstance(entry, MedicationOrder):
        return medication_request(entry, patient_id=patient_id, reason=reason)
    return service_request(entry, patient_id=patient_id, reason=reason)


def medication_request(entry: MedicationOrder, *, patient_id: str, reason: str = "") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": _medication_concept(entry),
        "subject": _patient_reference(patient_id),
        "dosageInstruction": [_dosage(entry)],
    }
    return _with_reason(resource, reason)


def service_request(entry: ServiceOrder, *, patient_id: str, reason: str = "") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "category": [{"coding": [dict(entry.category)], "text": entry.category["display"]}],
        "code": {"coding": [dict(entry.code)], "text": entry.text},
        "subject": _patient_reference(patient_id),
    }
    if entry.priority:
        resource["priority"] = entry.priority
    return _with_reason(resource, reason)


def updated_medication_request(draft: Mapping[str, Any], entry: MedicationOrder) -> dict[str, Any]:
    """The drafted MedicationRequest in its entirety (CDS Hooks update), at the catalog entry's dose.

    Its id, subject, status and everything else stay. The first dosage keeps its non-dose fields (site,
    method, additional instructions) and takes the entry's dose, route, timing and text; the old text and
    maximum doses go, since they would contradict the new dose. When the draft is not coded with the
    entry's drug (for example Prolia 60 mg changed to the 120 mg oncology regimen), the medication is
    replaced too: a 60 mg product code beside a 120 mg dose would be a contradictory order.
    """
    if draft.get("resourceType") != "MedicationRequest":
        raise ValueError(
            f"update: draft {draft.get('resourceType')}/{draft.get('id')} is not a MedicationRequest"
        )
    resource = copy.deepcopy(dict(draft))
    dosages = resource.get("dosageInstruction")
    first = dosages[0] if isinstance(dosages, list) and dosages and isinstance(dosages[0], dict) else {}
    kept = {key: value for key, value in first.items() if key not in _STALE_DOSAGE_FIELDS}
    resource["dosageInstruction"] = [{**kept, **_dosage(entry)}]
    if not _codes_drug(resource, entry):
        resource.pop("medicationReference", None)
        resource["medicationCodeableConcept"] = _medication_concept(entry)
    return resource


def _dosage(entry: MedicationOrder) -> dict[str, Any]:
    return {
        "text": entry.instruction,
        "timing": {"repeat": dict(entry.timing)},
        "route": {"coding": [dict(entry.route)], "text": entry.route["display"]},
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": entry.dose_value,
                    "unit": entry.dose_display_unit,
                    "system": UCUM,
                    "code": entry.dose_unit,
                }
            }
        ],
    }


def _medication_concept(entry: MedicationOrder) -> dict[str, Any]:
    return {"coding": [dict(entry.code)], "text": entry.text}


def _codes_drug(resource: Mapping[str, Any], entry: MedicationOrder) -> bool:
    concept = resource.get("medicationCodeableConcept")
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return any(
        isinstance(c, dict)
        and c.get("system") == entry.code["system"]
        and c.get("code") == entry.code["code"]
        for c in codings or ()
    )


def _patient_reference(patient_id: str) -> dict[str, str]:
    if not _FHIR_ID.match(patient_id):
        raise ValueError("patient id is not a valid FHIR id")
    return {"reference": f"Patient/{patient_id}"}


def _with_reason(resource: dict[str, Any], reason: str) -> dict[str, Any]:
    """FHIR forbids empty strings, so a suggestion with no stated reason has no reasonCode."""
    text = plain_text(reason)
    if text:
        resource["reasonCode"] = [{"text": text}]
    return resource


def _find_draft(target: str, drafts_by_ref: DraftsByRef) -> Mapping[str, Any]:
    if not _REFERENCE.match(target):
        raise ValueError(
            f"action target {target!r} is not a relative reference such as MedicationRequest/abc"
        )
    draft = drafts_by_ref.get(target)
    if draft is None:
        raise UnknownDraftOrder(f"action target {target} is not among the request's draft orders")
    return draft


def _draft_label(draft: Mapping[str, Any], target: str) -> str:
    """What the clinician drafted, in their EHR's words (cleaned: this text comes from the EHR)."""
    for field in ("medicationCodeableConcept", "code"):
        concept = draft.get(field)
        if isinstance(concept, dict):
            codings = [c for c in concept.get("coding") or () if isinstance(c, dict)]
            label = concept.get("text") or next((c.get("display") for c in codings if c.get("display")), None)
            if isinstance(label, str) and label.strip():
                return plain_text(label, max_chars=80)
    return target


def _required(value: str | None, field: str, spec: ActionSpec) -> str:
    if not value:
        raise ValueError(f"{spec.type} action needs {field}: {spec}")
    return value
