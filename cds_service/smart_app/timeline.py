"""The BMA course as one chronological table: orders (with dose and interval changes), dental care,
bone imaging and skeletal-related events, as the rules read them from the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cds_service.smart_app.series import bma_orders, dose_label
from fhir_mappings.facts import ClinicalFacts, ImagingFact
from hooks.rules._course import order_end, order_start
from hooks.rules._shared import bone_imaging, skeletal_related_events

DENTAL_KINDS = {
    "dental_exam": "Dental examination",
    "stomatology_referral": "Dental (stomatology) referral",
    "invasive_dental": "Invasive dental procedure",
}


@dataclass(frozen=True)
class Entry:
    day: date | None
    kind: str
    text: str
    status: str
    reference: str


def course_timeline(facts: ClinicalFacts) -> list[Entry]:
    entries = [*_orders(facts), *_dental(facts), *_imaging(facts), *_events(facts)]
    return sorted(entries, key=lambda e: (e.day is None, e.day or date.min, e.kind))


def _orders(facts: ClinicalFacts) -> list[Entry]:
    entries, previous = [], None
    for order in bma_orders(facts):
        label = dose_label(order)
        change = "" if previous is None or previous == label else f" (changed from {previous})"
        regimen = f"; {order.regimen} regimen" if order.regimen else ""
        text = f"{label}{change}{regimen}"
        entries.append(Entry(order_start(order), "BMA order", text, order.status, order.reference))
        if not order.is_active and (end := order_end(order, facts.today)) is not None:
            entries.append(Entry(end, "BMA order ended", order.display, order.status, order.reference))
        previous = label
    return entries


def _dental(facts: ClinicalFacts) -> list[Entry]:
    return [
        Entry(e.day, "Dental", DENTAL_KINDS[e.kind], e.state or e.status, e.reference)
        for e in facts.care_events
        if e.kind in DENTAL_KINDS
    ]


def _imaging(facts: ClinicalFacts) -> list[Entry]:
    return [Entry(s.day, "Bone imaging", _study_text(s), s.state, s.reference) for s in bone_imaging(facts)]


def _study_text(study: ImagingFact) -> str:
    """`NM Whole-body bone scan`; a description that already opens with the modality is not repeated
    (`CT chest with contrast`, not `CT CT chest with contrast`)."""
    modalities = "/".join(sorted(study.modalities))
    if study.description.upper().startswith(tuple(study.modalities)):
        return study.description
    return f"{modalities} {study.description}".strip()


def _events(facts: ClinicalFacts) -> list[Entry]:
    return [
        Entry(e.evidence.when, "Skeletal-related event", e.name, e.evidence.value, e.evidence.reference or "")
        for e in skeletal_related_events(facts)
    ]
