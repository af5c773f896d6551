"""Every catalog rule for this patient, fired or not, with the reason (`hooks.explain.explain_rules`,
from the same facts and rule run as the hook's cards), in the order a clinician reads them: the rule of the
card they came from (appContext) first, then fired rules, then rules whose data could not be read, then
the silent ones with their reasons, and last the order checks, which do not run at chart review. Within
each group the catalog's clinical order (RULES.md 7.4) is kept."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.card_template import CardTemplate
from hooks.explain import ORDER_ONLY, RuleVerdict, explain_rules


def rule_verdicts(
    facts: ClinicalFacts,
    thresholds: Thresholds,
    unavailable_types: Collection[str],
    templates: Mapping[str, CardTemplate],
    highlighted: str | None,
) -> list[RuleVerdict]:
    verdicts = explain_rules(
        facts, thresholds, hook="patient-view", unavailable_types=unavailable_types, templates=templates
    )
    return sorted(verdicts, key=lambda v: (v.rule_id != highlighted, _rank(v)))


def _rank(verdict: RuleVerdict) -> int:
    if verdict.status == "fired":
        return 0
    if verdict.status == "not-evaluated":
        return 3 if verdict.reason == ORDER_ONLY else 1
    return 2
