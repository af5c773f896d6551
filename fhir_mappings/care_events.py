"""Procedures, Encounters and ServiceRequests to care events (dental exams, referrals, radiotherapy...)."""

from __future__ import annotations

from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import CareEvent
from fhir_mappings.fhir_values import as_list, codings, first_date, reference_of, status_of, text

COUNTED_STATUS = {
    "Procedure": frozenset({"completed", "in-progress"}),
    "Encounter": frozenset({"finished", "in-progress", "arrived"}),
    "ServiceRequest": frozenset({"active", "completed", "on-hold"}),
}
DATE_KEYS = {
    "Procedure": ("performedDateTime", "performedPeriod"),
    "Encounter": ("period",),
    "ServiceRequest": ("occurrenceDateTime", "occurrencePeriod", "authoredOn"),
}


def build_care_events(
    resources: list[dict[str, Any]], codesets: Codesets, *, drafts: bool = False
) -> list[CareEvent]:
    events: list[CareEvent] = []
    for resource in resources:
        resource_type = resource.get("resourceType")
        if resource_type not in COUNTED_STATUS:
            continue
        if not drafts and status_of(resource) not in COUNTED_STATUS[resource_type]:
            continue
        kind = codesets.care_events.find(_codes(resource, resource_type))
        if kind is None:
            continue
        when = first_date(resource, *DATE_KEYS[resource_type])
        events.append(
            CareEvent(
                kind,
                text(resource.get("status"), 30),
                when.date() if when else None,
                reference_of(resource),
                resource_type,
                is_draft=drafts,
            )
        )
    return events


def _codes(resource: dict[str, Any], resource_type: str) -> list[tuple[str, str]]:
    if resource_type == "Encounter":
        return [pair for concept in as_list(resource.get("type")) for pair in codings(concept)]
    return codings(resource.get("code"))
