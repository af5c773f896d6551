"""INVASIVE-DENTAL-ON-BMA (consensus Table 1 precautions, 6.3.3): "It is recommended to perform an
appropriate oral examination cooperating with the stomatology department in advance and pay attention to
various factors ... to avoid invasive operations"; 6.3.3: "the occurrence of ONJ is associated with oral
infection (or other risk factors)".

Order hooks only (None in patient-view). Inclusion: an invasive dental procedure (tooth extraction,
dental implant: the `invasive_dental` care-event code set) in the draft orders under check (7.3.20), as a
ServiceRequest or a Procedure. Decision (RULES.md 7.2.19): a BMA of any regimen is active (`active`), or
was last given recently (`recent`): a bisphosphonate within `onj_bisphosphonate_window_months` (24), or
denosumab within `onj_denosumab_window_months` (6). The risk of osteonecrosis of the jaw outlasts the order
(bisphosphonates stay in bone for years; denosumab's effect wears off over months). The last day given is
today for an active order, else the order's stated end, else its start (`_shared.last_given_day`). Then a
warning with no suggestion: avoid the procedure, or plan it with the stomatology department.

Decisions beyond the catalog:
- A BMA drafted together with the dental procedure (a first dose) does not count: the catalog asks for an
  active BMA, and dental work before the first dose is what Table 1 asks for (ORAL-EXAM covers the first
  dose).
- An osteoporosis regimen counts as much as an oncology one: the osteonecrosis risk is the drug's, and
  7.1.5 does not exclude it from this rule.
- Routine dental care (cleaning, examination) is not in the code set and passes with no card.
"""

from __future__ import annotations

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding
from hooks.rule_registry import rule
from hooks.rules._shared import (
    add_months,
    bma_history,
    fmt_number,
    is_checked,
    is_order_hook,
    last_given_day,
    medication_evidence,
)
from hooks.rules._why import ORDER_HOOK_ONLY
from hooks.why_not import not_fired

RULE_ID = "INVASIVE-DENTAL-ON-BMA"
KIND = "invasive_dental"


def drafted_invasive_dental(facts: ClinicalFacts) -> tuple[CareEvent, ...]:
    """Inclusion: invasive dental procedures in the draft orders of an order hook."""
    if not is_order_hook(facts):
        return ()
    return tuple(e for e in facts.draft_events if e.kind == KIND and is_checked(facts, e.reference))


def window_months(order: MedicationFact, t: Thresholds) -> float:
    key = "onj_denosumab_window_months" if order.agent == "denosumab" else "onj_bisphosphonate_window_months"
    return t[key]


def recent_bmas(facts: ClinicalFacts, t: Thresholds) -> tuple[MedicationFact, ...]:
    """BMA orders (any regimen) active now or last given within their agent's window."""
    found = []
    for order in bma_history(facts):
        last = last_given_day(facts, order)
        if last is not None and facts.today <= add_months(last, round(window_months(order, t))):
            found.append(order)
    return tuple(found)


@rule(RULE_ID, consensus_section="Table 1 precautions, 6.3.3", needs=("MedicationRequest",))
def invasive_dental_on_bma(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """INVASIVE-DENTAL-ON-BMA (Table 1, 6.3.3): avoid invasive dental procedures on a BMA (ONJ risk)."""
    procedures = drafted_invasive_dental(facts)
    bmas = recent_bmas(facts, t) if procedures else ()
    if not bmas:
        return not_fired(lambda: _why_not(facts, procedures, t))
    active = any(m.is_active for m in bmas)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="default" if active else "recent",
        values={
            "bma": "; ".join(m.display for m in bmas),
            "last_given": _last_given_text(facts, bmas),
            "bp_months": fmt_number(t["onj_bisphosphonate_window_months"]),
            "dmab_months": fmt_number(t["onj_denosumab_window_months"]),
        },
        evidence=(*(_procedure_evidence(e) for e in procedures), *(medication_evidence(m) for m in bmas)),
    )


def _last_given_text(facts: ClinicalFacts, bmas: tuple[MedicationFact, ...]) -> str:
    days = [d for m in bmas if (d := last_given_day(facts, m)) is not None]
    return max(days).isoformat() if days else "unknown"


def _procedure_evidence(event: CareEvent) -> Evidence:
    return Evidence(
        "Drafted invasive dental procedure",
        f"{event.resource_type}, tooth extraction, implant or other invasive dental procedure",
        event.day,
        event.reference,
    )


def _why_not(facts: ClinicalFacts, procedures: tuple[CareEvent, ...], t: Thresholds) -> str:
    if not is_order_hook(facts):
        return ORDER_HOOK_ONLY
    if not procedures:
        return "No invasive dental procedure (tooth extraction, implant) among the orders being checked"
    windows = (
        f"bisphosphonates within {fmt_number(t['onj_bisphosphonate_window_months'])} months, "
        f"denosumab within {fmt_number(t['onj_denosumab_window_months'])} months"
    )
    history = [d for m in bma_history(facts) if (d := last_given_day(facts, m)) is not None]
    last = f"; last given on {max(history).isoformat()}" if history else "; none on record"
    return f"No bone-modifying drug active or given recently ({windows}){last}"
