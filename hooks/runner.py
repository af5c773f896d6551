"""Runs a service's rules over one patient's facts, the same way for every service.

The order is fixed: the lung-cancer gate (RULES.md section 1: no lung cancer, no clinical cards; the data
cards that explain the silence still come back), then each rule in catalog order, skipping (and saying so)
any rule whose data could not be had, then the data cards, then the response order of RULES.md 7.4 (sorted,
each order offered once: `hooks/response_order.py`). A rule never sees another rule's output.
"""

from __future__ import annotations

from collections.abc import Collection

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.data_notices import data_findings, lung_cancer_gate_findings, order_gate_findings
from hooks.findings import Finding
from hooks.order_rules import orders_to_check, scoped
from hooks.response_order import in_response_order
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
    """Findings for one call, in response order (RULES.md 7.4), one per rule at most, each order once.

    `selections` is order-select's list of the orders being composed (None for other hooks). When the
    lung-cancer gate or the order gate stops the clinical rules, the data cards that could explain why
    are still returned: an empty answer must mean "nothing to say", never "could not read the chart".
    """
    if service.hook != "patient-view" and not orders_to_check(facts, selections):
        return in_response_order(order_gate_findings(facts))
    if not has_lung_cancer(facts):
        return in_response_order(lung_cancer_gate_findings(facts))
    facts = scoped(facts, selections) if service.hook != "patient-view" else facts
    findings: list[Finding] = []
    skipped: list[str] = []
    for registered in (get_rule(rule_id) for rule_id in service.rule_ids):
        if registered.needs & unavailable_types:
            skipped.append(registered.rule_id)
            continue
        finding = registered.evaluate(facts, thresholds)
        if finding is not None:
            findings.append(finding)
    return in_response_order([*findings, *data_findings(facts, skipped, unavailable_types)])
