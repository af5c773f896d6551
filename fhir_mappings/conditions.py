"""Conditions to condition facts (RULES.md section 2 and 7.1.1-7.1.2).

Active, recurrent and relapsed Conditions count; refuted and entered-in-error ones never do. A lung cancer
that is resolved, in remission or inactive, or a personal history of lung cancer, counts only when an
active bone metastasis is on the chart: that is how a recurrence after resection is usually coded (the
primary "resolved", the bone metastasis new), and charts coded that way used to get no cards at all.
"""

from __future__ import annotations

from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import ConditionFact, UnusableResult
from fhir_mappings.fhir_values import codings, display, first_code, first_date, parse_date, reference_of
from fhir_mappings.imaging import body_regions
from fhir_mappings.model_check import invalid_reason

ACTIVE = frozenset({"active", "recurrence", "relapse"})
RESOLVED = frozenset({"resolved", "remission", "inactive"})
IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
SUSPECTED = frozenset({"provisional", "differential", "unconfirmed"})
LUNG_CANCER = "lung_cancer"
HISTORY = "lung_cancer_history"
BONE_METASTASIS = "bone_metastasis"
HISTORY_NOTE = " (past lung cancer: counts because a bone metastasis is active)"
"""Shown wherever the Condition is evidence, so a card never presents a resolved cancer as active."""


def build_conditions(
    conditions: list[dict[str, Any]], codesets: Codesets
) -> tuple[list[ConditionFact], list[UnusableResult]]:
    facts: list[ConditionFact] = []
    history: list[ConditionFact] = []
    issues: list[UnusableResult] = []
    for resource in conditions:
        pairs = codings(resource.get("code"))
        category = codesets.conditions.find(pairs)
        if category is None:
            continue
        status = clinical_state(resource)
        counts_as_history = category == HISTORY or (category == LUNG_CANCER and status == "resolved")
        if status != "active" and not counts_as_history:
            continue
        if first_code(resource.get("verificationStatus")) in IGNORED_VERIFICATION:
            continue
        reason = invalid_reason(resource)
        if reason:
            issues.append(UnusableResult(category, reason, reference_of(resource), ""))
            continue
        fact = _fact(resource, category, pairs, codesets, history=counts_as_history)
        (history if counts_as_history else facts).append(fact)
    return facts + lung_cancer_history(facts, history), issues


def lung_cancer_history(active: list[ConditionFact], history: list[ConditionFact]) -> list[ConditionFact]:
    """Past lung cancers that count as lung cancer: only without an active one and with an active (confirmed
    or suspected) bone metastasis; a suspected one then leads to METASTASIS-CONFIRMATION, not treatment."""
    if any(c.category == LUNG_CANCER for c in active):
        return []
    if not any(c.category == BONE_METASTASIS for c in active):
        return []
    return history


def clinical_state(resource: dict[str, Any]) -> str:
    """`active` (active, recurrence, relapse, or no status and no abatement), `resolved` (resolved,
    remission, inactive, or no status with an abatement) or `other` (an unknown code)."""
    status = first_code(resource.get("clinicalStatus"))
    if status is None:
        return "resolved" if any(key.startswith("abatement") for key in resource) else "active"
    if status in ACTIVE:
        return "active"
    return "resolved" if status in RESOLVED else "other"


def _fact(
    resource: dict[str, Any],
    category: str,
    pairs: list[tuple[str, str]],
    codesets: Codesets,
    *,
    history: bool,
) -> ConditionFact:
    onset = first_date(resource, "onsetDateTime", "onsetPeriod")
    _system, code = next((p for p in pairs if codesets.conditions.find([p]) == category), pairs[0])
    return ConditionFact(
        category=LUNG_CANCER if history else category,
        verification="suspected"
        if first_code(resource.get("verificationStatus")) in SUSPECTED
        else "confirmed",
        onset=onset.date() if onset else None,
        recorded=parse_date(resource.get("recordedDate")),
        reference=reference_of(resource),
        code=code,
        display=display(resource.get("code"), code) + (HISTORY_NOTE if history else ""),
        regions=body_regions(resource.get("bodySite"), codesets),
        history=history,
    )
