"""BMA-SAFETY-MONITORING (consensus Table 1, precautions): "pay attention to various factors (e.g. serum
calcium, serum creatinine, phosphate, magnesium, renal function, etc.) ... during administration, it is
suggested to closely monitor patients' health and adjust the treatment regimens according to the
patients' conditions to maximize the medication safety"; 6.3.3: "renal function should be monitored when
using bisphosphonates".

Fires in patient-view when a BMA is active and calcium (total, corrected or ionized) or creatinine is
missing or older than `lab_recency_days` (the consensus gives no interval; 30 days is the catalog's
setting). Suggests the whole Table 1 monitoring set: calcium, creatinine, phosphate and magnesium.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    CALCIUM_ANALYTES,
    PATIENT_VIEW,
    active_bmas,
    active_osteoporosis_bmas,
    fmt_number,
    is_recent,
    lab_evidence,
    latest_of,
    medication_evidence,
)
from hooks.rules._why import CHART_REVIEW_ONLY, lab_text, names
from hooks.why_not import not_fired

RULE_ID = "BMA-SAFETY-MONITORING"
REASON = "Safety monitoring on a bone-modifying drug (consensus Table 1 precautions)"
WATCHED = (("calcium", CALCIUM_ANALYTES, "Calcium"), ("creatinine", ("creatinine",), "Creatinine"))
CONTEXT = (("phosphate", "Phosphate"), ("magnesium", "Magnesium"))
MONITORING_ORDERS = (
    ("lab_calcium", "Serum calcium"),
    ("lab_creatinine", "Serum creatinine"),
    ("lab_phosphate", "Serum phosphate"),
    ("lab_magnesium", "Serum magnesium"),
)
SUGGESTIONS = tuple(
    SuggestionSpec(label, (ActionSpec("create", order_key=key, reason=REASON),))
    for key, label in MONITORING_ORDERS
)


def is_included(facts: ClinicalFacts) -> bool:
    """Patient-view, a BMA active."""
    return facts.hook == PATIENT_VIEW and bool(active_bmas(facts))


def overdue(facts: ClinicalFacts, t: Thresholds) -> tuple[str, ...]:
    """Decision: the watched results (calcium, creatinine) missing or older than the recency window."""
    window = t["lab_recency_days"]
    return tuple(
        name for name, analytes, _ in WATCHED if not is_recent(facts, latest_of(facts, analytes), window)
    )


@rule(RULE_ID, consensus_section="Table 1", needs=("Observation", "MedicationRequest"))
def bma_safety_monitoring(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-SAFETY-MONITORING (consensus Table 1): monitor calcium and creatinine on a bone-modifying drug."""
    if not is_included(facts):
        return not_fired(lambda: _not_on_treatment(facts))
    late = overdue(facts, t)
    if not late:
        return not_fired(lambda: _up_to_date(facts, t))
    days = fmt_number(t["lab_recency_days"])
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        values={"overdue": " and ".join(late), "recency_days": days},
        evidence=(*(medication_evidence(m) for m in active_bmas(facts)), *_lab_evidence(facts)),
        missing=tuple(f"{label} within {days} days" for name, _, label in WATCHED if name in late),
        suggestions=SUGGESTIONS,
        selection_behavior="any",
    )


def _lab_evidence(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    """The newest calcium, creatinine, phosphate and magnesium on file, however old (dates show age)."""
    watched = [(latest_of(facts, analytes), label) for _, analytes, label in WATCHED]
    context = [(facts.latest(analyte), label) for analyte, label in CONTEXT]
    return tuple(lab_evidence(label, lab) for lab, label in (*watched, *context) if lab is not None)


def _not_on_treatment(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    osteoporosis = active_osteoporosis_bmas(facts)
    if osteoporosis:
        return (
            f"No bone-modifying drug active for bone metastasis ({names(osteoporosis)}: osteoporosis regimen)"
        )
    return "No bone-modifying drug active"


def _up_to_date(facts: ClinicalFacts, t: Thresholds) -> str:
    found = [
        f"{label.lower()} {lab_text(lab)}"
        for _, analytes, label in WATCHED
        if (lab := latest_of(facts, analytes)) is not None
    ]
    return f"Monitoring up to date: {' and '.join(found)}, within {fmt_number(t['lab_recency_days'])} days"
