"""ZA-RENAL-DOSING (consensus 6.3.3): "renal function should be monitored when using bisphosphonates. The
dose adjustment of bisphosphonates should be performed if renal dysfunction occurs. However, no dose
adjustment is required for denosumab, because it is not metabolized by the kidney."

The consensus gives no numbers: the dose table (CrCl > 60: 4.0 mg; 50-60: 3.5; 40-49: 3.3; 30-39: 3.0;
< 30: not recommended) and the creatinine-rise rule (0.5 mg/dL over a baseline < 1.4, 1.0 mg/dL over a
baseline >= 1.4; withhold until back within 10% of baseline) are the zoledronic acid label's, and every
card says so. Bands are continuous (49.5 mL/min is in the 3.3 mg band).

Checked orders: active zoledronic acid in patient-view, drafted zoledronic acid in order-select/order-sign.
Variants, most severe first: `not-recommended` (CrCl below the label's floor, critical), `creatinine-rise`,
`dose-above-label`, `dose-not-stated` (no readable dose while the label dose is below the full dose, i.e.
CrCl <= 60, since the 50-60 band includes 60), `cannot-assess`.

Decision beyond the catalog: when zoledronic acid is active or drafted and CrCl cannot be computed, the
rule fires `cannot-assess` listing what is missing, with eGFR as context only (the label doses by
Cockcroft-Gault; eGFR is never substituted): info in patient-view, warning in order hooks. It never
guesses a dose. A dose below the label dose is not flagged (a deliberate reduction is allowed). The
baseline creatinine is searched for by date through the whole chart, however many results came after the
first dose (an earlier version looked at the newest 50 only, and missed the baseline of a patient on
zoledronic acid for over a year of weekly tests); every creatinine it reads is validated as FHIR R4.
Patient-view cards carry no suggestion (the order exists; the card states the right dose); order hooks
`update` the draft to the label dose, or at CrCl < 30 `delete` it and `create` denosumab.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from fhir_mappings.facts import ClinicalFacts, Evidence, LabResult, MedicationFact
from fhir_mappings.lab_series import on_or_before
from fhir_mappings.thresholds import Thresholds
from hooks.findings import INDICATOR_ORDER, ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    bma_history,
    crcl_missing,
    earliest_start,
    fmt_number,
    is_order_hook,
    lab_evidence,
    medication_evidence,
)

RULE_ID = "ZA-RENAL-DOSING"
ZA = "zoledronic_acid"
LABEL_DOSE_SOURCE = "Zoledronic acid label (CrCl dose table)"
LABEL_RISE_SOURCE = "Zoledronic acid label (creatinine rise: withhold until within 10% of baseline)"
CREATININE_UNIT_THRESHOLD = "za_creatinine_rise_normal_baseline_mg_dl"


@dataclass(frozen=True)
class CreatinineRise:
    baseline: LabResult
    current: LabResult
    rise: float
    limit: float


def za_label_dose(crcl_ml_min: float, t: Thresholds) -> tuple[float, str] | None:
    """Label dose (mg) and its order key for a CrCl; None below the floor (not recommended)."""
    if crcl_ml_min > t["za_crcl_full_dose_above"]:
        return t["za_dose_crcl_above_60_mg"], "zoledronic_acid_4mg"
    if crcl_ml_min >= t["za_crcl_3_5mg_from"]:
        return t["za_dose_crcl_50_60_mg"], "zoledronic_acid_3_5mg"
    if crcl_ml_min >= t["za_crcl_3_3mg_from"]:
        return t["za_dose_crcl_40_49_mg"], "zoledronic_acid_3_3mg"
    if crcl_ml_min >= t["za_crcl_not_recommended_below"]:
        return t["za_dose_crcl_30_39_mg"], "zoledronic_acid_3mg"
    return None


def za_orders_to_check(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Inclusion: zoledronic acid drafted (order hooks) or active (patient-view)."""
    if is_order_hook(facts):
        return tuple(m for m in facts.drafts if m.agent == ZA)
    return tuple(m for m in facts.medications if m.agent == ZA and m.is_active)


def za_orders_given(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Chart zoledronic acid orders under which a dose may have been given (any status but never-given)."""
    return tuple(m for m in bma_history(facts) if m.agent == ZA)


def creatinine_rise(facts: ClinicalFacts, t: Thresholds) -> CreatinineRise | None:
    """Label: creatinine up 0.5 mg/dL (baseline < 1.4) or 1.0 mg/dL (baseline >= 1.4) since the first dose.

    Baseline is the newest creatinine on or before the earliest zoledronic acid start, at most
    `baseline_creatinine_lookback_days` before it; without one there is nothing to compare with.
    """
    first = earliest_start(za_orders_given(facts))
    results = facts.labs.get("creatinine", ())
    if first is None or not results or results[0].unit != t.entry(CREATININE_UNIT_THRESHOLD).unit:
        return None
    lookback = t["baseline_creatinine_lookback_days"]
    # Results are newest first, so the first one dated on or before the first dose is the baseline
    # candidate; results after the first dose are passed over by date, unread (`on_or_before`, with a bound
    # two days late so a result's own time zone cannot hide it).
    late_bound = datetime.combine(first + timedelta(days=2), time(), UTC)
    baseline = next((r for r in on_or_before(results, late_bound) if r.day <= first), None)
    if baseline is not None and (first - baseline.day).days > lookback:
        baseline = None
    current = results[0]
    if baseline is None or current.effective <= baseline.effective:
        return None
    normal_baseline = baseline.value < t["za_creatinine_normal_baseline_below_mg_dl"]
    limit = t[CREATININE_UNIT_THRESHOLD if normal_baseline else "za_creatinine_rise_abnormal_baseline_mg_dl"]
    rise = current.value - baseline.value
    return CreatinineRise(baseline, current, rise, limit) if rise >= limit else None


def assess_order(
    facts: ClinicalFacts, order: MedicationFact, rise: CreatinineRise | None, t: Thresholds
) -> Finding | None:
    """Decision for one zoledronic acid order, most severe reason first."""
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    label = za_label_dose(crcl, t) if crcl is not None else None
    if crcl is not None and label is None:
        return _not_recommended(facts, order, crcl, t)
    if rise is not None:
        return _rise_finding(facts, order, rise)
    if crcl is None or label is None:
        return _cannot_assess(facts, order)
    dose = label[0]
    if order.dose_mg is not None and order.dose_mg > dose + t["dose_tolerance_mg"]:
        return _dose_finding(facts, order, crcl, label, "dose-above-label")
    if order.dose_mg is None and dose < t["za_dose_crcl_above_60_mg"]:
        return _dose_finding(facts, order, crcl, label, "dose-not-stated")
    return None


@rule(RULE_ID, consensus_section="6.3.3", needs=("Observation", "MedicationRequest"))
def za_renal_dosing(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """ZA-RENAL-DOSING (consensus 6.3.3): adjust bisphosphonate dose to renal function (label table)."""
    orders = za_orders_to_check(facts)
    if not orders:
        return None
    rise = creatinine_rise(facts, t)
    findings = [f for order in orders if (f := assess_order(facts, order, rise, t)) is not None]
    return min(findings, key=lambda f: INDICATOR_ORDER[f.indicator], default=None)


def _egfr_text(egfr: LabResult | None) -> str:
    if egfr is None:
        return "none on file"
    return f"{fmt_number(egfr.reported_value)} {egfr.reported_unit} ({egfr.day.isoformat()})"


def _crcl_text(crcl: float) -> str:
    return f"{crcl:.1f}".rstrip("0").rstrip(".")


def _order_evidence(facts: ClinicalFacts, order: MedicationFact) -> tuple[Evidence, ...]:
    return (medication_evidence(order), *(facts.crcl.evidence if facts.crcl else ()))


def _not_recommended(facts: ClinicalFacts, order: MedicationFact, crcl: float, t: Thresholds) -> Finding:
    suggestions: tuple[SuggestionSpec, ...] = ()
    if order.is_draft:
        reason = "CrCl below the zoledronic acid label floor; denosumab needs no renal adjustment"
        suggestions = (
            SuggestionSpec(
                "Replace with denosumab 120 mg SC every 4 weeks",
                (
                    ActionSpec("delete", target=order.reference),
                    ActionSpec("create", order_key="denosumab_120mg_q4w", reason=reason),
                ),
                is_recommended=True,
            ),
        )
    return Finding(
        rule_id=RULE_ID,
        indicator="critical",
        variant="not-recommended",
        values={
            "crcl": _crcl_text(crcl),
            "crcl_floor": fmt_number(t["za_crcl_not_recommended_below"]),
            "dose": fmt_number(order.dose_mg) if order.dose_mg is not None else "not stated",
        },
        evidence=_order_evidence(facts, order),
        suggestions=suggestions,
        selection_behavior="at-most-one",
        outside_sources=(LABEL_DOSE_SOURCE,),
    )


def _rise_finding(facts: ClinicalFacts, order: MedicationFact, rise: CreatinineRise) -> Finding:
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="creatinine-rise",
        values={
            "baseline": fmt_number(rise.baseline.value),
            "baseline_date": rise.baseline.day.isoformat(),
            "current": fmt_number(rise.current.value),
            "current_date": rise.current.day.isoformat(),
            "unit": rise.current.unit,
            "rise": fmt_number(round(rise.rise, 2)),
            "limit": fmt_number(rise.limit),
            "crcl": f"{_crcl_text(crcl)} mL/min" if crcl is not None else "not computable",
        },
        evidence=(
            *_order_evidence(facts, order),
            lab_evidence("Baseline creatinine (before the first dose)", rise.baseline),
            lab_evidence("Latest creatinine", rise.current),
        ),
        missing=crcl_missing(facts),
        outside_sources=(LABEL_RISE_SOURCE,),
    )


def _dose_finding(
    facts: ClinicalFacts, order: MedicationFact, crcl: float, label: tuple[float, str], variant: str
) -> Finding:
    dose, key = label
    suggestions: tuple[SuggestionSpec, ...] = ()
    if order.is_draft:
        suggestions = (
            SuggestionSpec(
                f"Zoledronic acid {fmt_number(dose)} mg (label dose for CrCl {_crcl_text(crcl)} mL/min)",
                (ActionSpec("update", order_key=key, target=order.reference),),
                is_recommended=True,
            ),
        )
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant=variant,
        values={
            "crcl": _crcl_text(crcl),
            "label_dose": fmt_number(dose),
            "dose": fmt_number(order.dose_mg) if order.dose_mg is not None else "not stated",
        },
        evidence=_order_evidence(facts, order),
        suggestions=suggestions,
        selection_behavior="at-most-one",
        outside_sources=(LABEL_DOSE_SOURCE,),
    )


def _cannot_assess(facts: ClinicalFacts, order: MedicationFact) -> Finding:
    egfr = facts.latest("egfr")
    context = (lab_evidence("eGFR (context only, not used for dosing)", egfr),) if egfr else ()
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if is_order_hook(facts) else "info",
        variant="cannot-assess",
        values={
            "missing": "; ".join(crcl_missing(facts)),
            "egfr": _egfr_text(egfr),
        },
        evidence=(*_order_evidence(facts, order), *context),
        missing=crcl_missing(facts),
        outside_sources=(LABEL_DOSE_SOURCE,),
    )
