"""HYPOCALCEMIA-CORRECTION (consensus Table 1, precautions): "Considering the possible ADRs related to
bone-modifying drugs, the pre-existing hypocalcemia should be corrected before the administration of
bone-modifying drugs." Consensus 6.3.3 lists hypocalcemia among their adverse reactions.

Fires when calcium (corrected when possible: `facts.calcium`) is below the lower limit and, in
patient-view, a BMA is active or indicated (`_shared.bma_indicated`), or, in order hooks, a BMA is drafted.
Warning; critical at CTCAE v5 grade 3 or worse (corrected < 7.0 mg/dL or 1.75 mmol/L, ionized < 0.9 mmol/L,
computed by `fhir_mappings.calcium`). The card says when the value is total calcium not corrected for
albumin. Variants: `before-first-dose` (no BMA active yet) and `before-next-dose` (on treatment).
The card states the CTCAE v5 hypocalcemia grade of a corrected or ionized value; an uncorrected total calcium
is never given a grade ("not corrected for albumin; grade not assigned", with the grade range it falls in).
Decision beyond the catalog: an uncorrected total calcium in the grade-3 range (< 7.0 mg/dL, 1.75 mmol/L)
stays critical although no grade is assigned: a low albumin could explain it, but without albumin or ionized
calcium a true severe hypocalcemia cannot be excluded before a bone-modifying dose, and the card asks for one.
Suggests calcium 500 mg and vitamin D 400 IU daily, only those not already active or drafted; it does not
dose the correction itself, which depends on severity and symptoms (clinical judgement).
"""

from __future__ import annotations

from fhir_mappings.facts import CalciumAssessment, ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding, Indicator
from hooks.rule_registry import rule
from hooks.rules._shared import (
    active_bmas,
    bma_indicated,
    calcium_basis_label,
    calcium_is_low,
    condition_evidence,
    confirmed_bone_metastases,
    drafted_bmas,
    fmt_number,
    is_order_hook,
    medication_evidence,
)
from hooks.rules._why import calcium_text, no_oncology_draft, then, why_bma_not_indicated
from hooks.rules.calcium_vitamin_d import missing_supplements, supplement_evidence, supplement_suggestions
from hooks.why_not import not_fired

RULE_ID = "HYPOCALCEMIA-CORRECTION"
CTCAE_SOURCE = "CTCAE v5 (hypocalcemia grade 3)"
REASON = "Correct hypocalcemia before bone-modifying drugs (consensus Table 1 precautions)"
SHORT_BASIS = {
    "ionized": "ionized Ca",
    "lab-corrected": "corrected Ca",
    "albumin-corrected": "corrected Ca",
    "total-uncorrected": "uncorrected total Ca",
}


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Calcium low, and a BMA drafted (order hooks) or active or indicated (patient-view)."""
    if not calcium_is_low(facts):
        return False
    if is_order_hook(facts):
        return bool(drafted_bmas(facts))
    return bool(active_bmas(facts)) or bma_indicated(facts, t)


def is_first_dose(facts: ClinicalFacts) -> bool:
    """No BMA active: the hypocalcemia must be corrected before treatment starts at all."""
    return not active_bmas(facts)


def indicator(facts: ClinicalFacts) -> Indicator:
    """Critical at CTCAE v5 grade 3 or worse, as computed from the value in its reporting unit."""
    return "critical" if facts.calcium is not None and facts.calcium.hypocalcemia_critical else "warning"


def severity_text(calcium: CalciumAssessment) -> str:
    """The CTCAE v5 grade of a corrected or ionized value; never a grade for uncorrected total calcium."""
    grade = max(calcium.hypocalcemia_grade, 3 if calcium.hypocalcemia_critical else 1)
    if not calcium.ctcae_graded:
        where = f", in the grade {grade} range" if grade >= 2 else ""
        return f"below the lower limit{where} (not corrected for albumin; grade not assigned)"
    return f"CTCAE v5 grade {max(grade, 1)}"


@rule(RULE_ID, consensus_section="Table 1", needs=("Observation", "MedicationRequest"))
def hypocalcemia_correction(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """HYPOCALCEMIA-CORRECTION (consensus Table 1): correct pre-existing hypocalcemia before a BMA dose."""
    if not is_included(facts, t) or facts.calcium is None:
        return not_fired(lambda: _why_not(facts, t))
    calcium = facts.calcium
    level = indicator(facts)
    bmas = (*active_bmas(facts), *drafted_bmas(facts))
    indication = () if bmas else confirmed_bone_metastases(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator=level,
        variant="before-first-dose" if is_first_dose(facts) else "before-next-dose",
        values={
            "calcium_label": SHORT_BASIS.get(calcium.basis, "Ca"),
            "value": fmt_number(calcium.value),
            "unit": calcium.unit,
            "low_limit": fmt_number(calcium.low_limit),
            "limits_source": calcium.limits_source,
            "basis": calcium_basis_label(calcium.basis, t["albumin_pairing_days"]),
            "severity": severity_text(calcium),
        },
        evidence=(
            *calcium.evidence,
            *(medication_evidence(m) for m in bmas),
            *(condition_evidence("Confirmed bone metastasis", c) for c in indication),
            *supplement_evidence(facts),
        ),
        suggestions=supplement_suggestions(missing_supplements(facts), REASON),
        selection_behavior="any",
        outside_sources=(CTCAE_SOURCE,) if level == "critical" else (),
    )


def _why_not(facts: ClinicalFacts, t: Thresholds) -> str:
    calcium = facts.calcium
    if calcium is None:
        return "No usable calcium result on record (total, corrected or ionized)"
    if not calcium_is_low(facts):
        return f"{calcium_text(calcium)} is not below the lower limit {fmt_number(calcium.low_limit)}"
    if is_order_hook(facts):
        return then(f"{calcium_text(calcium)} is low", no_oncology_draft(facts))
    return then(
        f"{calcium_text(calcium)} is low, but no bone-modifying drug is active or indicated",
        why_bma_not_indicated(facts, t),
    )
