"""INVASIVE-DENTAL-ON-BMA (consensus Table 1 precautions, 6.3.3): "It is recommended to perform an
appropriate oral examination cooperating with the stomatology department in advance and pay attention to
various factors ... to avoid invasive operations"; 6.3.3: "the occurrence of ONJ is associated with oral
infection (or other risk factors)".

Order hooks only (None in patient-view). Inclusion: an invasive dental procedure (tooth extraction,
dental implant: the `invasive_dental` care-event code set) in the draft orders, as a ServiceRequest or a
Procedure. Decision: a BMA is active (catalog section 2). Then a warning with no suggestion: avoid the
procedure while on the drug, or plan it with the stomatology department.

Decisions beyond the catalog:
- A BMA drafted together with the dental procedure (a first dose) does not count: the catalog asks for an
  active BMA, and dental work before the first dose is what Table 1 asks for (ORAL-EXAM covers the first
  dose).
- A BMA stopped before this call is not considered, although bisphosphonates persist in bone: the catalog
  defines the rule on an active BMA and gives no washout period.
- Routine dental care (cleaning, examination) is not in the code set and passes with no card.
"""

from __future__ import annotations

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding
from hooks.rule_registry import rule
from hooks.rules._shared import active_bmas, is_order_hook, medication_evidence

RULE_ID = "INVASIVE-DENTAL-ON-BMA"
KIND = "invasive_dental"


def drafted_invasive_dental(facts: ClinicalFacts) -> tuple[CareEvent, ...]:
    """Inclusion: invasive dental procedures in the draft orders of an order hook."""
    if not is_order_hook(facts):
        return ()
    return tuple(e for e in facts.draft_events if e.kind == KIND)


@rule(RULE_ID, consensus_section="Table 1 precautions, 6.3.3", needs=("MedicationRequest",))
def invasive_dental_on_bma(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """INVASIVE-DENTAL-ON-BMA (Table 1, 6.3.3): avoid invasive dental procedures on a BMA (ONJ risk)."""
    procedures = drafted_invasive_dental(facts)
    bmas = active_bmas(facts)
    if not procedures or not bmas:
        return None
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        values={"bma": "; ".join(m.display for m in bmas)},
        evidence=(*(_procedure_evidence(e) for e in procedures), *(medication_evidence(m) for m in bmas)),
    )


def _procedure_evidence(event: CareEvent) -> Evidence:
    return Evidence(
        "Drafted invasive dental procedure",
        f"{event.resource_type}, tooth extraction, implant or other invasive dental procedure",
        event.day,
        event.reference,
    )
