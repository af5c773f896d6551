"""One hook call's FHIR resources to the `ClinicalFacts` the rules read, built once per call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir_mappings.calcium import assess_calcium
from fhir_mappings.care_events import CARE_EVENT_TYPES, build_care_events
from fhir_mappings.codesets import Codesets
from fhir_mappings.conditions import build_conditions
from fhir_mappings.creatinine_clearance import creatinine_clearance
from fhir_mappings.facts import ClinicalFacts, UnusableResult
from fhir_mappings.fhir_values import as_dict, as_list, reference_of, subject_reference
from fhir_mappings.imaging import build_imaging
from fhir_mappings.medications import build_medications
from fhir_mappings.observations import build_observations
from fhir_mappings.patient import build_patient
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.unmapped import unmapped_entries

ResourcesByType = dict[str, list[dict[str, Any]]]
FOREIGN = "patient-mismatch"
"""`UnusableResult.analyte` of a resource dropped because it belongs to another patient (RULES.md 7.4.29)."""


def build_facts(
    patient_id: str,
    resources: ResourcesByType,
    *,
    hook: str,
    now: datetime,
    draft_orders: dict[str, Any] | None,
    codesets: Codesets,
    thresholds: Thresholds,
) -> ClinicalFacts:
    own, issues = _own_resources(patient_id, resources)
    patient = build_patient(patient_id, next(iter(own.get("Patient", [])), None), now.date())
    conditions, condition_issues = build_conditions(own.get("Condition", []), codesets)
    labs, coded, lab_issues = build_observations(own.get("Observation", []), codesets, now)
    bundled_meds = {reference_of(m): m for m in own.get("Medication", [])}
    medications, med_issues = build_medications(
        own.get("MedicationRequest", []), codesets, bundled_meds, thresholds=thresholds
    )
    events = build_care_events(
        [r for resource_type in CARE_EVENT_TYPES for r in own.get(resource_type, [])], codesets
    )
    draft_resources = _own_drafts(patient_id, draft_orders, issues)
    drafts, _ = build_medications(draft_resources, codesets, bundled_meds, drafts=True, thresholds=thresholds)
    return ClinicalFacts(
        hook=hook,
        now=now,
        patient=patient,
        conditions=tuple(conditions),
        labs=labs,
        coded_results=coded,
        medications=tuple(medications),
        imaging=tuple(build_imaging(own.get("ImagingStudy", []), own.get("DiagnosticReport", []), codesets)),
        care_events=tuple(events),
        calcium=assess_calcium(labs, thresholds),
        crcl=creatinine_clearance(patient, labs, now, thresholds),
        drafts=tuple(drafts),
        draft_events=tuple(build_care_events(draft_resources, codesets, drafts=True)),
        data_issues=tuple([*issues, *condition_issues, *lab_issues, *med_issues]),
        unmapped=unmapped_entries(
            own.get("Condition", []),
            own.get("MedicationRequest", []),
            {
                **bundled_meds,
                **{reference_of(r): r for r in draft_resources if r.get("resourceType") == "Medication"},
            },
            codesets,
            drafts=draft_resources,
        ),
    )


def _own_drafts(
    patient_id: str, draft_orders: dict[str, Any] | None, issues: list[UnusableResult]
) -> list[dict[str, Any]]:
    """The draft orders of this patient: a draft naming another patient is dropped and reported like any
    other resource of another patient (RULES.md 7.4.29), never checked as if it were this patient's."""
    kept = []
    for entry in as_list(as_dict(draft_orders).get("entry")):
        resource = as_dict(as_dict(entry).get("resource"))
        subject = subject_reference(resource)
        if subject is not None and not is_own(subject, patient_id):
            issues.append(_foreign(resource))
        else:
            kept.append(resource)
    return kept


def is_own(subject: str, patient_id: str) -> bool:
    """`Patient/<id>`, relative or absolute (with or without a version), or the `urn:uuid:<id>` a
    Synthea-style Bundle uses when the patient's id is that uuid."""
    reference = subject.split("/_history/", 1)[0]
    relative = f"Patient/{patient_id}"
    return reference in (relative, f"urn:uuid:{patient_id}") or reference.endswith("/" + relative)


def _foreign(resource: dict[str, Any]) -> UnusableResult:
    return UnusableResult(FOREIGN, "belongs to another patient", reference_of(resource), "")


def _own_resources(
    patient_id: str, resources: ResourcesByType
) -> tuple[ResourcesByType, list[UnusableResult]]:
    """Drop resources that belong to another patient (a FHIR server or EHR bug) and say so."""
    own: ResourcesByType = {}
    issues: list[UnusableResult] = []
    for resource_type, items in resources.items():
        if resource_type == "Patient":
            kept = _context_patient(patient_id, items, issues)
        elif resource_type == "Medication":  # referenced by orders, no subject of its own
            kept = [resource for resource in items if isinstance(resource, dict)]
        else:
            kept = []
            for resource in items:
                if not isinstance(resource, dict):
                    continue
                subject = subject_reference(resource)
                if subject is None or is_own(subject, patient_id):
                    kept.append(resource)
                else:
                    issues.append(_foreign(resource))
        if kept:
            own[resource_type] = kept
    return own, issues


def _context_patient(
    patient_id: str, items: list[dict[str, Any]], issues: list[UnusableResult]
) -> list[dict[str, Any]]:
    kept = []
    for resource in items:
        if not isinstance(resource, dict):
            continue
        if resource.get("id") == patient_id:
            kept.append(resource)
        else:
            issues.append(
                UnusableResult(
                    FOREIGN, "Patient resource is not the context patient", reference_of(resource), ""
                )
            )
    return kept
