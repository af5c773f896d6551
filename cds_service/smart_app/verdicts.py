"""Every catalog rule for this patient, fired or not, with the reason: `hooks.explain.explain_rules`.

Sorted for the page: the rule the EHR's card named (appContext) first, then fired rules, then the rest in
catalog order. Until `hooks/explain.py` is merged, a fallback gives fired / not-evaluated / not-fired from
the cards and the rules' data needs, without the per-rule reason.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.rule_registry import all_rules

STATUS_ORDER = {"fired": 0, "not-evaluated": 1, "not-fired": 2}


@dataclass(frozen=True)
class Verdict:
    rule_id: str
    title: str
    consensus_section: str
    status: str
    reason: str
    finding: Any = None
    indicator: str | None = None


def rule_verdicts(
    facts: ClinicalFacts,
    thresholds: Thresholds,
    fired: Collection[str],
    unavailable_types: Collection[str],
    titles: dict[str, str],
) -> list[Any]:
    try:
        from hooks.explain import explain_rules  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _fallback(fired, unavailable_types, titles)
    return list(
        explain_rules(facts, thresholds, hook="patient-view", unavailable_types=frozenset(unavailable_types))
    )


def highlighted_first(verdicts: list[Any], highlighted: str | None) -> list[Any]:
    """The rule of the card the clinician came from first, then fired rules, then the others."""
    return sorted(
        verdicts,
        key=lambda v: (v.rule_id != highlighted, STATUS_ORDER.get(v.status, 3)),
    )


def _fallback(
    fired: Collection[str], unavailable_types: Collection[str], titles: dict[str, str]
) -> list[Any]:
    verdicts = []
    for rule_id, registered in all_rules().items():
        if rule_id in fired:
            status, reason = "fired", "the rule's conditions are met for this patient"
        elif registered.needs & set(unavailable_types):
            status, reason = "not-evaluated", "data it needs could not be read from the FHIR server"
        else:
            status, reason = "not-fired", "the rule's conditions are not met for this patient"
        verdicts.append(
            Verdict(rule_id, titles.get(rule_id, rule_id), registered.consensus_section, status, reason)
        )
    return verdicts
