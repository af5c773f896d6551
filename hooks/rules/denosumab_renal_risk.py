"""DENOSUMAB-RENAL-RISK (RULES.md 7.2.13; consensus 6.3.3 and Table 1 precautions): consensus 6.3.3 says "no
dose adjustment is required for denosumab, because it is not metabolized by the kidney", and lists
hypocalcemia among the adverse reactions of bone-modifying drugs; Table 1: "the pre-existing hypocalcemia
should be corrected", calcium and vitamin D "are recommended when using bone-modifying drugs".

The consensus does not say that severe hypocalcemia is more frequent with denosumab in severe renal
impairment: the Xgeva label does (patients with a creatinine clearance below 30 mL/min or on dialysis are at
greater risk of severe hypocalcemia; monitor calcium), and so does the boxed warning of the 60 mg denosumab
products (eGFR below 30, including dialysis). The card names that outside source.

Inclusion: denosumab active or being started: patient-view, an active denosumab order (any regimen: the risk
is the drug's) or BMA-INITIATION firing (its recommended agent is denosumab); order hooks, denosumab
drafted (every dose: calcium is checked before each one).
Decision: CrCl (Cockcroft-Gault) below `denosumab_renal_risk_crcl_below`; when CrCl cannot be computed, the
newest eGFR below the same number; or dialysis on the chart (`dialysis` Condition code set): warning.
Suggestion: a serum calcium ServiceRequest when there is no calcium result within
`denosumab_renal_calcium_recent_days`.

Decisions beyond the catalog: the card does not tell a hypercalcemic patient to take calcium; it says
supplementation starts once calcium is normal. An eGFR is used only when CrCl cannot be computed, and the
card says which measure decided.
"""

from __future__ import annotations

from fhir_mappings.creatinine_clearance import format_clearance
from fhir_mappings.facts import ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import value_with_unit
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    CALCIUM_ANALYTES,
    active_or_drafted,
    bma_being_started,
    condition_evidence,
    drafted_bmas,
    fmt_number,
    is_order_hook,
    is_recent,
    lab_evidence,
    latest_of,
    medication_evidence,
)
from hooks.rules._why import then, why_not_being_started
from hooks.why_not import not_fired

RULE_ID = "DENOSUMAB-RENAL-RISK"
DENOSUMAB = "denosumab"
LABEL_SOURCE = (
    "Xgeva (denosumab) label: severe hypocalcemia more frequent with CrCl < 30 mL/min or dialysis; "
    "denosumab 60 mg boxed warning (eGFR < 30, dialysis)"
)
REASON = "Calcium before each denosumab dose in severe renal impairment (Xgeva label)"


def denosumab_orders(facts: ClinicalFacts) -> tuple:
    """Denosumab drafted and under check (order hooks; order-select checks the selected drafts only,
    7.3.20) or active (patient-view)."""
    if is_order_hook(facts):
        return tuple(m for m in drafted_bmas(facts) if m.agent == DENOSUMAB)
    return tuple(m for m in active_or_drafted(facts, DENOSUMAB) if m.is_active)


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Denosumab active or drafted, or (patient-view) a BMA being started (denosumab is recommended)."""
    if denosumab_orders(facts):
        return True
    return not is_order_hook(facts) and bma_being_started(facts, t)


def renal_reasons(facts: ClinicalFacts, t: Thresholds) -> tuple[str, tuple[Evidence, ...]] | None:
    """Decision: (what decided, its evidence) when the kidneys put the patient at risk, else None."""
    below = t["denosumab_renal_risk_crcl_below"]
    dialysis = facts.conditions_in("dialysis")
    if dialysis:
        return "dialysis on the chart", tuple(condition_evidence("Dialysis", c) for c in dialysis)
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    if crcl is not None:
        if crcl < below:
            evidence = facts.crcl.evidence if facts.crcl else ()
            return f"creatinine clearance {fmt_number(crcl)} mL/min (Cockcroft-Gault)", evidence
        return None
    egfr = facts.latest("egfr")
    if egfr is not None and egfr.value < below:
        egfr_text = value_with_unit(fmt_number(egfr.reported_value), egfr.reported_unit)
        shown = f"eGFR {egfr_text} (CrCl could not be computed)"
        return shown, (lab_evidence("eGFR (creatinine clearance could not be computed)", egfr),)
    return None


@rule(RULE_ID, consensus_section="6.3.3, Table 1", needs=("Observation", "MedicationRequest"))
def denosumab_renal_risk(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """DENOSUMAB-RENAL-RISK (RULES.md 7.2.13): severe hypocalcemia risk on denosumab with failing kidneys."""
    if not is_included(facts, t):
        return not_fired(lambda: _no_denosumab(facts, t))
    found = renal_reasons(facts, t)
    if found is None:
        return not_fired(lambda: _kidneys_fine(facts, t))
    reason, renal_evidence = found
    calcium = latest_of(facts, CALCIUM_ANALYTES)
    recent_days = t["denosumab_renal_calcium_recent_days"]
    fresh = is_recent(facts, calcium, recent_days)
    high = facts.calcium is not None and facts.calcium.status == "high"
    suggestions = (
        ()
        if fresh
        else (
            SuggestionSpec(
                "Serum calcium (with albumin) before the dose",
                (ActionSpec("create", order_key="lab_calcium", reason=REASON),),
                is_recommended=True,
            ),
        )
    )
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="hypercalcemia" if high else "default",
        values={
            "reason": reason,
            "threshold": fmt_number(t["denosumab_renal_risk_crcl_below"]),
            "calcium": _calcium_text(calcium),
            "recent_days": fmt_number(recent_days),
        },
        evidence=(
            *(medication_evidence(m) for m in denosumab_orders(facts)),
            *renal_evidence,
            *((lab_evidence("Calcium", calcium),) if calcium else ()),
        ),
        suggestions=suggestions,
        selection_behavior="any",
        outside_sources=(LABEL_SOURCE,),
    )


def _calcium_text(calcium) -> str:
    if calcium is None:
        return "no calcium result on file"
    return f"{fmt_number(calcium.reported_value)} {calcium.reported_unit} on {calcium.day.isoformat()}"


def _no_denosumab(facts: ClinicalFacts, t: Thresholds) -> str:
    if is_order_hook(facts):
        return "No denosumab among the orders being checked"
    return then(
        "No denosumab active and no bone-modifying drug being started", why_not_being_started(facts, t)
    )


def _kidneys_fine(facts: ClinicalFacts, t: Thresholds) -> str:
    below = fmt_number(t["denosumab_renal_risk_crcl_below"])
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    if crcl is not None:
        crcl_text = format_clearance(round(crcl, 1))
        return f"Creatinine clearance {crcl_text} mL/min (Cockcroft-Gault) is not below {below}; no dialysis"
    egfr = facts.latest("egfr")
    if egfr is not None:
        return (
            f"Creatinine clearance could not be computed; the newest eGFR, {lab_evidence('', egfr).value} on "
            f"{egfr.day.isoformat()}, is not below {below}; no dialysis on record"
        )
    missing = "; ".join(facts.crcl.missing) if facts.crcl and facts.crcl.missing else "no creatinine"
    return (
        f"Kidney function unknown: creatinine clearance could not be computed ({missing}) and no eGFR is on "
        "record; no dialysis on record"
    )
