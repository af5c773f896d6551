"""Conditions to condition facts (catalog section 2: active, verification, refuted ignored)."""

from __future__ import annotations

from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import ConditionFact, UnusableResult
from fhir_mappings.fhir_values import codings, display, first_code, first_date, parse_date, reference_of
from fhir_mappings.model_check import invalid_reason

ACTIVE = frozenset({"active", "recurrence", "relapse"})
IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
SUSPECTED = frozenset({"provisional", "differential", "unconfirmed"})


def build_conditions(
    conditions: list[dict[str, Any]], codesets: Codesets
) -> tuple[list[ConditionFact], list[UnusableResult]]:
    facts: list[ConditionFact] = []
    issues: list[UnusableResult] = []
    for resource in conditions:
        pairs = codings(resource.get("code"))
        category = codesets.conditions.find(pairs)
        if category is None or not _is_active(resource):
            continue
        verification = first_code(resource.get("verificationStatus"))
        if verification in IGNORED_VERIFICATION:
            continue
        reason = invalid_reason(resource)
        if reason:
            issues.append(UnusableResult(category, reason, reference_of(resource), ""))
            continue
        onset = first_date(resource, "onsetDateTime", "onsetPeriod")
        system, code = next((p for p in pairs if codesets.conditions.find([p]) == category), pairs[0])
        facts.append(
            ConditionFact(
                category=category,
                verification="suspected" if verification in SUSPECTED else "confirmed",
                onset=onset.date() if onset else None,
                recorded=parse_date(resource.get("recordedDate")),
                reference=reference_of(resource),
                code=code,
                display=display(resource.get("code"), code),
            )
        )
    return facts, issues


def _is_active(resource: dict[str, Any]) -> bool:
    """Active, recurrent or relapsed; an absent clinicalStatus counts as active unless it has abated."""
    status = first_code(resource.get("clinicalStatus"))
    if status is None:
        return not any(key.startswith("abatement") for key in resource)
    return status in ACTIVE
