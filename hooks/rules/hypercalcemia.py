"""HYPERCALCEMIA (consensus section 4, section 6): "Hypercalcemia is graded into three severity categories:
mild, moderate, and severe, according to the levels of serum calcium; of these, severe persistent
hypercalcemia is one mortality cause in lung cancer patients with bone metastasis"; section 6: "bone-
modifying drugs are used to reduce the risk of SREs, treat hypercalcemia, relieve pain".

Fires in patient-view when calcium (corrected when possible: `facts.calcium`) is above the upper limit.
The consensus gives no cut-offs, so the grade is CTCAE v5's, computed by `fhir_mappings.calcium` in the
unit the laboratory reported (mg/dL and mmol/L grades are defined separately): grade 1 info, grade 2
warning, grades 3-4 critical (variant `severe`). A high value that the grader puts at grade 0 (a local
upper limit below CTCAE's) is shown as grade 1, CTCAE's "above the upper limit of normal".

Decision beyond the catalog (RULES.md 7 wording): CTCAE grades corrected or ionized calcium. A total calcium
with no albumin to correct it is never labelled with a CTCAE grade: the card (variants `uncorrected`,
`uncorrected-severe`) says "not corrected for albumin; grade not assigned", names the grade range the value
falls in, and asks for albumin or ionized calcium. Its indicator still follows that range, because a low or
normal albumin can only raise the corrected value: the card does not wait for the albumin to be urgent.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding, Indicator
from hooks.rule_registry import rule
from hooks.rules._shared import PATIENT_VIEW, calcium_basis_label, fmt_number
from hooks.rules._why import CHART_REVIEW_ONLY, calcium_text
from hooks.why_not import not_fired

RULE_ID = "HYPERCALCEMIA"
CTCAE_SOURCE = "CTCAE v5 (hypercalcemia grades)"
SEVERE_GRADE = 3


def is_included(facts: ClinicalFacts) -> bool:
    """Patient-view, calcium above the upper limit."""
    return facts.hook == PATIENT_VIEW and facts.calcium is not None and facts.calcium.status == "high"


def grade_of(facts: ClinicalFacts) -> int:
    """CTCAE v5 grade, at least 1 once the value is above the upper limit."""
    return max(1, facts.calcium.hypercalcemia_grade) if facts.calcium else 0


def indicator_for(grade: int) -> Indicator:
    """Decision: grade 1 info, grade 2 warning, grade 3-4 critical."""
    if grade >= SEVERE_GRADE:
        return "critical"
    return "warning" if grade == 2 else "info"


def variant_for(grade: int, graded: bool) -> str:
    """`severe` from grade 3; the `uncorrected` variants never claim a CTCAE grade."""
    severe = grade >= SEVERE_GRADE
    if not graded:
        return "uncorrected-severe" if severe else "uncorrected"
    return "severe" if severe else "default"


@rule(RULE_ID, consensus_section="4, 6", needs=("Observation",))
def hypercalcemia(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """HYPERCALCEMIA (consensus sections 4 and 6): grade a high calcium and say how urgent it is."""
    if not is_included(facts) or facts.calcium is None:
        return not_fired(lambda: _why_not(facts))
    calcium = facts.calcium
    grade = grade_of(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator=indicator_for(grade),
        variant=variant_for(grade, calcium.ctcae_graded),
        values={
            "grade": str(grade),
            "value": fmt_number(calcium.value),
            "unit": calcium.unit,
            "high_limit": fmt_number(calcium.high_limit),
            "limits_source": calcium.limits_source,
            "basis": calcium_basis_label(calcium.basis, t["albumin_pairing_days"]),
            "albumin_days": fmt_number(t["albumin_pairing_days"]),
        },
        evidence=calcium.evidence,
        outside_sources=(CTCAE_SOURCE,),
    )


def _why_not(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if facts.calcium is None:
        return "No usable calcium result on record (total, corrected or ionized)"
    high = f"{fmt_number(facts.calcium.high_limit)} {facts.calcium.unit}"
    return f"{calcium_text(facts.calcium)} is not above the upper limit {high}"
