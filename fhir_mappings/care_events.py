"""Procedures, Encounters, ServiceRequests and EpisodesOfCare to care events (dental exams, referrals,
radiotherapy, hospice...), each with the state its status gives (RULES.md 7.1.6: done, pending, ongoing).

An event whose status records no care (cancelled, entered-in-error, revoked, not-done, unknown...) is
dropped here, so no rule can count a cancelled referral as asked or an exam that never happened as done.
An Encounter is recognised by its `type` or `serviceType` (a dental visit coded CDT D0120 on Encounter.type
is a dental exam), an EpisodeOfCare by its `type`, the others by `code`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import CareEvent, event_state
from fhir_mappings.fhir_values import (
    as_dict,
    as_list,
    codings,
    first_date,
    parse_date,
    reference_of,
    status_of,
    text,
)

DATE_KEYS = {
    "Procedure": ("performedDateTime", "performedPeriod"),
    "Encounter": ("period",),
    "ServiceRequest": ("occurrenceDateTime", "occurrencePeriod", "authoredOn"),
    "EpisodeOfCare": ("period",),
}
CARE_EVENT_TYPES = tuple(DATE_KEYS)
"""The resource types read as care events (the facts builder passes these; EpisodeOfCare for hospice)."""
PERIOD_KEYS = {"Procedure": "performedPeriod", "Encounter": "period", "EpisodeOfCare": "period"}


def build_care_events(
    resources: list[dict[str, Any]], codesets: Codesets, *, drafts: bool = False
) -> list[CareEvent]:
    events: list[CareEvent] = []
    for resource in resources:
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str) or resource_type not in DATE_KEYS:
            continue
        status = text(status_of(resource), 30)
        state = event_state(resource_type, status, is_draft=drafts)
        if state == "unknown":
            continue
        kind = codesets.care_events.find(_codes(resource, resource_type))
        if kind is None:
            continue
        when = first_date(resource, *DATE_KEYS[resource_type])
        events.append(
            CareEvent(
                kind,
                status,
                when.date() if when else None,
                reference_of(resource),
                resource_type,
                is_draft=drafts,
                state=state,
                end=_period_end(resource, resource_type),
            )
        )
    return events


def _codes(resource: dict[str, Any], resource_type: str) -> list[tuple[str, str]]:
    if resource_type == "Encounter":
        concepts = [*as_list(resource.get("type")), resource.get("serviceType")]
        return [pair for concept in concepts for pair in codings(concept)]
    if resource_type == "EpisodeOfCare":
        return [pair for concept in as_list(resource.get("type")) for pair in codings(concept)]
    return codings(resource.get("code"))


def _period_end(resource: dict[str, Any], resource_type: str) -> date | None:
    key = PERIOD_KEYS.get(resource_type)
    return parse_date(as_dict(resource.get(key)).get("end")) if key else None
