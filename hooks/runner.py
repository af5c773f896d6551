"""Runs a service's rules over one patient's facts, the same way for every service.

The order is fixed: the lung-cancer gate (RULES.md section 1: no lung cancer, no cards), then each rule
in catalog order, skipping (and saying so) any rule whose data could not be had, then the sort by
indicator. A rule never sees another rule's output.
"""

from __future__ import annotations

from collections.abc import Collection

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.data_notices import data_quality_finding, data_unavailable_finding
from hooks.findings import INDICATOR_ORDER, Finding
from hooks.order_rules import orders_to_check
from hooks.rule_registry import get_rule
from hooks.service_registry import CdsServiceDefinition


def has_lung_cancer(facts: ClinicalFacts) -> bool:
    return bool(facts.conditions_in("lung_cancer"))


def run_rules(
    service: CdsServiceDefinition,
    facts: ClinicalFacts,
    thresholds: Thresholds,
    unavailable_types: frozenset[str] = frozenset(),
    selections: Collection[str] | None = None,
) -> list[Finding]:
    """Findings for one call, critical first, one per rule at most.

    `selections` is order-select's list of the orders being composed (None for other hooks).
    """
    if not has_lung_cancer(facts):
        return []
    if service.hook != "patient-view" and not orders_to_check(facts, selections):
        return []
    findings: list[Finding] = []
    skipped: list[str] = []
    for registered in (get_rule(rule_id) for rule_id in service.rule_ids):
        if registered.needs & unavailable_types:
            skipped.append(registered.rule_id)
            continue
        finding = registered.evaluate(facts, thresholds)
        if finding is not None:
            findings.append(finding)
    if skipped:
        findings.append(data_unavailable_finding(skipped, unavailable_types))
    if facts.data_issues:
        findings.append(data_quality_finding(facts.data_issues))
    return sorted(findings, key=lambda f: INDICATOR_ORDER[f.indicator])
