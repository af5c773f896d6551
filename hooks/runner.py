"""Runs a service's rules over one patient's facts, the same way for every service.

The order is fixed: the lung-cancer gate (RULES.md section 1: no lung cancer, no clinical cards; the data
cards that explain the silence still come back), then each rule in catalog order, skipping (and saying so)
any rule whose data could not be had, then the data cards, then the response order of RULES.md 7.4 (sorted,
each order offered once: `hooks/response_order.py`). A rule never sees another rule's output.

The hook call (`run_rules`) and the bone health review's rule list (`hooks/explain.py`) share `run_service`,
so the list the app shows cannot drift from the cards the EHR got.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.data_notices import data_findings, lung_cancer_gate_findings, order_gate_findings
from hooks.findings import Finding
from hooks.order_rules import orders_to_check, scoped
from hooks.response_order import in_response_order
from hooks.rule_registry import RegisteredRule, get_rule
from hooks.service_registry import CdsServiceDefinition
from hooks.why_not import listening

Gate = Literal["open", "no-order-to-check", "no-lung-cancer"]


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's result in one call. `skipped`: its data could not be had, so it did not run. `reasons`:
    what it said when it returned None (only heard when the run was asked to listen)."""

    rule_id: str
    finding: Finding | None
    skipped: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceRun:
    """Everything one call decided: the gate, each rule's outcome (none when a gate closed) and the
    response's findings in response order (data cards included)."""

    gate: Gate
    outcomes: tuple[RuleOutcome, ...]
    findings: tuple[Finding, ...]


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
    return list(run_service(service, facts, thresholds, unavailable_types, selections).findings)


def run_service(
    service: CdsServiceDefinition,
    facts: ClinicalFacts,
    thresholds: Thresholds,
    unavailable_types: frozenset[str] = frozenset(),
    selections: Collection[str] | None = None,
    *,
    listen: bool = False,
) -> ServiceRun:
    """`run_rules` with each rule's outcome kept; `listen` also records why each silent rule was silent."""
    if service.hook != "patient-view" and not orders_to_check(facts, selections):
        return ServiceRun("no-order-to-check", (), tuple(in_response_order(order_gate_findings(facts))))
    if not has_lung_cancer(facts):
        return ServiceRun("no-lung-cancer", (), tuple(in_response_order(lung_cancer_gate_findings(facts))))
    facts = scoped(facts, selections) if service.hook != "patient-view" else facts
    outcomes = tuple(
        _run_one(get_rule(rule_id), facts, thresholds, unavailable_types, listen)
        for rule_id in service.rule_ids
    )
    findings = [o.finding for o in outcomes if o.finding is not None]
    skipped = [o.rule_id for o in outcomes if o.skipped]
    data = data_findings(facts, skipped, unavailable_types)
    return ServiceRun("open", outcomes, tuple(in_response_order([*findings, *data])))


def _run_one(
    registered: RegisteredRule,
    facts: ClinicalFacts,
    thresholds: Thresholds,
    unavailable_types: frozenset[str],
    listen: bool,
) -> RuleOutcome:
    if registered.needs & unavailable_types:
        return RuleOutcome(registered.rule_id, None, skipped=True)
    if not listen:
        return RuleOutcome(registered.rule_id, registered.evaluate(facts, thresholds))
    with listening() as heard:
        finding = registered.evaluate(facts, thresholds)
    return RuleOutcome(registered.rule_id, finding, reasons=tuple(heard))
