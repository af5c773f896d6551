"""CALCIUM-VITAMIN-D (consensus Table 1, precautions): "Calcium (500 mg/day) and vitamin D (400 IU/day) are
recommended when using bone-modifying drugs."

Patient-view: a BMA is active or being started (BMA-INITIATION fires) and an active calcium supplement or
vitamin D is missing. Order hooks: a BMA is drafted and calcium or vitamin D is neither active nor drafted.
Only the missing supplement(s) are suggested (`any`: they are independent orders).

Exclusions: hypercalcemia (catalog), applied in every hook since supplementing calcium into a high calcium
is wrong whatever the hook. Decision beyond the catalog: also excluded when calcium is low, because then
HYPOCALCEMIA-CORRECTION fires for the same patient with the same two orders; two cards suggesting the same
orders would let a clinician accept both and double the dose.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    active_bmas,
    active_or_drafted,
    bma_on_treatment_or_starting,
    drafted_bmas,
    fmt_number,
    is_order_hook,
    medication_evidence,
)
from hooks.rules._why import calcium_text, names, no_bma_on_or_starting
from hooks.why_not import not_fired

RULE_ID = "CALCIUM-VITAMIN-D"
SUPPLEMENT_ORDERS = {"calcium_supplement": "calcium_500mg_daily", "vitamin_d": "vitamin_d_400iu_daily"}
SUPPLEMENT_LABELS = {
    "calcium_supplement": "Calcium 500 mg (elemental) by mouth daily",
    "vitamin_d": "Vitamin D3 400 IU by mouth daily",
}
VARIANTS = {
    ("calcium_supplement", "vitamin_d"): "both",
    ("calcium_supplement",): "calcium",
    ("vitamin_d",): "vitamin-d",
}
REASON = "Supplement with bone-modifying therapy (consensus Table 1 precautions)"


def missing_supplements(facts: ClinicalFacts) -> tuple[str, ...]:
    """Supplements (code-set names) with no active or drafted order, in a fixed order: calcium, vitamin D."""
    return tuple(agent for agent in SUPPLEMENT_ORDERS if not active_or_drafted(facts, agent))


def supplement_suggestions(agents: tuple[str, ...], reason: str = REASON) -> tuple[SuggestionSpec, ...]:
    """One MedicationRequest suggestion per missing supplement (shared with HYPOCALCEMIA-CORRECTION)."""
    return tuple(
        SuggestionSpec(
            SUPPLEMENT_LABELS[a], (ActionSpec("create", order_key=SUPPLEMENT_ORDERS[a], reason=reason),)
        )
        for a in agents
    )


def supplement_evidence(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    return tuple(
        medication_evidence(m) for agent in SUPPLEMENT_ORDERS for m in active_or_drafted(facts, agent)
    )


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    """A BMA drafted (order hooks), or active or being started (patient-view)."""
    if is_order_hook(facts):
        return bool(drafted_bmas(facts))
    return bma_on_treatment_or_starting(facts, t)


def is_excluded(facts: ClinicalFacts) -> bool:
    """Hypercalcemia (catalog); low calcium (HYPOCALCEMIA-CORRECTION suggests the same orders)."""
    return facts.calcium is not None and facts.calcium.status != "normal"


@rule(RULE_ID, consensus_section="Table 1", needs=("Observation", "MedicationRequest"))
def calcium_vitamin_d(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """CALCIUM-VITAMIN-D (consensus Table 1): calcium 500 mg/day and vitamin D 400 IU/day with a BMA."""
    if not is_included(facts, t) or is_excluded(facts):
        return not_fired(lambda: _why_not(facts, t))
    missing = missing_supplements(facts)
    if not missing:
        return not_fired(lambda: _supplemented(facts))
    bmas = (*active_bmas(facts), *drafted_bmas(facts))
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        variant=VARIANTS[missing],
        values={
            "calcium_mg": fmt_number(t["calcium_supplement_mg"]),
            "vitamin_d_iu": fmt_number(t["vitamin_d_supplement_iu"]),
        },
        evidence=(
            *(medication_evidence(m) for m in bmas),
            *supplement_evidence(facts),
            *(facts.calcium.evidence if facts.calcium else ()),
        ),
        suggestions=supplement_suggestions(missing),
        selection_behavior="any",
    )


def _why_not(facts: ClinicalFacts, t: Thresholds) -> str:
    if not is_included(facts, t):
        if is_order_hook(facts):
            return "No bone-modifying drug among the orders being checked"
        return no_bma_on_or_starting(facts, t)
    calcium = facts.calcium
    if calcium is not None and calcium.status == "high":
        return (
            f"{calcium_text(calcium)} is above the upper limit {fmt_number(calcium.high_limit)}: no calcium "
            "supplement into hypercalcemia"
        )
    return "Calcium is low: HYPOCALCEMIA-CORRECTION suggests calcium and vitamin D instead"


def _supplemented(facts: ClinicalFacts) -> str:
    orders = [m for agent in SUPPLEMENT_ORDERS for m in active_or_drafted(facts, agent)]
    return f"Calcium and vitamin D are already active or ordered: {names(orders)}"
