"""BMA-DUPLICATION (consensus 6.3, Table 1): "Denosumab and bisphosphonates are recommended for the
treatment of patients with bone metastasis"; Table 1 gives each agent as its own regimen ("Recommended
initial dose and protocol": denosumab, zoledronic acid, ibandronate, incadronate) as alternatives; it
describes no combination of two (reading it as "one at a time" is this rule's). The Xgeva label adds
that patients receiving it should not take Prolia (same active ingredient), which the card names as an
outside source.

Order hooks only (None in patient-view). A drafted BMA is a duplicate when a BMA of another agent, or of
the other denosumab product (Prolia with Xgeva), is active (`with-active`), or when several BMAs are
drafted together (`drafted-together`). Critical. Suggestions only ever `delete` drafts, never the active
order: with an active BMA, one recommended suggestion removes every draft that duplicates it; when
several drafts remain that do not duplicate an active order, one suggestion per draft keeps it and
removes the others (selection `at-most-one`, none recommended: which agent to keep is the clinician's
choice).

Decisions beyond the catalog:
- Renewal: a draft of the same agent and product as the active order is read as a renewal of that
  order, not a duplicate (EHRs re-order a 4-weekly drug this way; a critical card on every renewal would
  teach clinicians to ignore this one). Two drafts of the same agent at once are a duplicate: both cannot
  be renewals.
- A denosumab order whose product is unknown (no product code, no readable dose) is taken as the same
  product as another denosumab order, since it cannot be shown to differ.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    active_bmas,
    drafted_bmas,
    drafts_duplicating_active,
    is_order_hook,
    medication_evidence,
)

RULE_ID = "BMA-DUPLICATION"
LABEL_SOURCE = "Xgeva label (patients receiving Xgeva should not take Prolia: same active ingredient)"
REASON = "Duplicate bone-modifying drug"


def keepers(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Drafted BMAs that do not duplicate an active one; two or more of them duplicate each other."""
    duplicates = drafts_duplicating_active(facts)
    return tuple(d for d in drafted_bmas(facts) if d not in duplicates)


@rule(RULE_ID, consensus_section="6.3, Table 1", needs=("MedicationRequest",))
def bma_duplication(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-DUPLICATION (6.3, Table 1): one bone-modifying drug at a time; delete the duplicate draft."""
    if not is_order_hook(facts):
        return None
    with_active, kept = drafts_duplicating_active(facts), keepers(facts)
    if not with_active and len(kept) < 2:
        return None
    active = active_bmas(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator="critical",
        variant="with-active" if with_active else "drafted-together",
        values={
            "drafted": "; ".join(m.display for m in drafted_bmas(facts)),
            "active": "; ".join(m.display for m in active) or "none",
        },
        evidence=tuple(medication_evidence(m) for m in (*active, *drafted_bmas(facts))),
        suggestions=_suggestions(with_active, kept),
        selection_behavior="at-most-one",
        outside_sources=(LABEL_SOURCE,) if _mixes_denosumab_products(facts) else (),
    )


def _suggestions(
    with_active: tuple[MedicationFact, ...], kept: tuple[MedicationFact, ...]
) -> tuple[SuggestionSpec, ...]:
    if len(kept) < 2:
        label = "Remove the duplicate drafted order: " + "; ".join(m.display for m in with_active)
        return (SuggestionSpec(label, _deletes(with_active), is_recommended=True),)
    return tuple(
        SuggestionSpec(
            f"Keep {keep.display}; remove the other drafted bone-modifying drug(s)",
            _deletes((*with_active, *(m for m in kept if m != keep))),
        )
        for keep in kept
    )


def _deletes(orders: tuple[MedicationFact, ...]) -> tuple[ActionSpec, ...]:
    return tuple(ActionSpec("delete", target=m.reference, reason=REASON) for m in orders)


def _mixes_denosumab_products(facts: ClinicalFacts) -> bool:
    products = {m.product for m in (*active_bmas(facts), *drafted_bmas(facts)) if m.agent == "denosumab"}
    return {"xgeva", "prolia"} <= products
