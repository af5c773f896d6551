"""ZA-RENAL-DOSING (consensus 6.3.3): "renal function should be monitored when using bisphosphonates. The
dose adjustment of bisphosphonates should be performed if renal dysfunction occurs. However, no dose
adjustment is required for denosumab, because it is not metabolized by the kidney."

The consensus gives no numbers: the dose table (CrCl > 60: 4.0 mg; 50-60: 3.5; 40-49: 3.3; 30-39: 3.0;
< 30: not recommended), "measure serum creatinine before each dose" and the creatinine-rise rule (0.5 mg/dL
over a baseline < 1.4, 1.0 mg/dL over a baseline >= 1.4; withhold until back within 10% of baseline) are
the zoledronic acid label's, and every card says so. Bands are continuous; CrCl exactly 60 is in the
50-60 band (3.5 mg).

Checked orders: zoledronic acid on an oncology (or unknown) regimen, active in patient-view or drafted in
order hooks. An osteoporosis regimen (5 mg yearly, Reclast/Aclasta) is out of scope: its own label governs
it, and "reduce to 3.5 mg" would be wrong for it (RULES.md 7.1.5).

RULES.md 7.2.12: the dose band comes from the **baseline CrCl**, Cockcroft-Gault at the newest creatinine
within `baseline_creatinine_lookback_days` before the first zoledronic acid dose of the current course
(`hooks/rules/_renal.py`); during treatment, kidney decline acts through the rise rule, and the card shows
the current CrCl as context. Variants, most severe first:
`not-recommended` (critical; baseline or current CrCl below the floor), `creatinine-rise` (withhold),
`creatinine-not-recent` (order hooks: no creatinine within `za_creatinine_before_dose_days`, 7.3.24),
`dose-above-label`, `dose-not-stated` (no readable dose while the label dose is reduced), `cannot-assess`
(no CrCl: info in patient-view, warning in order hooks or when the newest eGFR is below 30), `no-baseline`
(info: no creatinine before or after the first dose, so the rise cannot be assessed).

Decisions beyond the catalog: the first dose is that of zoledronic acid within the current course (a switch
from denosumab, which needs no renal adjustment, starts the zoledronic acid baseline); without a baseline
CrCl the current CrCl sets the band and the card says so; a current CrCl below 30 is still critical (the
label does not recommend zoledronic acid in severe renal impairment, whatever the baseline); a dose below
the label dose is not flagged (a deliberate reduction is allowed). The baseline is searched for by date
through the whole chart, however many results came after the first dose. Order hooks `update` the draft to
the label dose, `delete` it and `create` denosumab below 30 mL/min, or, for the rise, `delete` it and order a
repeat creatinine (withhold); patient-view cards suggest the repeat creatinine only.
"""

from __future__ import annotations

from dataclasses import replace

from fhir_mappings.facts import ClinicalFacts, Evidence, LabResult, MedicationFact
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import value_with_unit
from hooks.findings import INDICATOR_ORDER, ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._renal import CreatinineRise, ZaBaseline, creatinine_rise, recent_creatinine, za_baseline
from hooks.rules._shared import (
    crcl_missing,
    drafted_bmas,
    fmt_number,
    is_order_hook,
    lab_evidence,
    medication_evidence,
    regimen_note,
)
from hooks.why_not import not_fired

RULE_ID = "ZA-RENAL-DOSING"
ZA = "zoledronic_acid"
LABEL_DOSE_SOURCE = "Zoledronic acid label (CrCl dose table, set from baseline CrCl)"
LABEL_RISE_SOURCE = "Zoledronic acid label (creatinine rise: withhold until within 10% of baseline)"
LABEL_MEASURE_SOURCE = "Zoledronic acid label (measure serum creatinine before each dose)"
REPEAT_CREATININE = "lab_creatinine"


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


def in_scope(order: MedicationFact) -> bool:
    """Zoledronic acid on an oncology or unreadable regimen; never the yearly 5 mg osteoporosis infusion."""
    return order.agent == ZA and order.regimen != "osteoporosis"


def za_orders_to_check(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Inclusion: zoledronic acid drafted and under check (order hooks; order-select checks the selected
    drafts only, 7.3.20) or active (patient-view), not osteoporosis regimen."""
    if is_order_hook(facts):
        return tuple(m for m in drafted_bmas(facts) if in_scope(m))
    return tuple(m for m in facts.medications if in_scope(m) and m.is_active)


def band_crcl(facts: ClinicalFacts, base: ZaBaseline) -> tuple[float | None, str]:
    """The CrCl that sets the dose band and what it is: the baseline one, else the current one."""
    if base.clearance is not None and base.clearance.value_ml_min is not None:
        return (
            base.clearance.value_ml_min,
            f"baseline, before the first dose on {base.first_dose.isoformat()}",
        )
    current = facts.crcl.value_ml_min if facts.crcl else None
    return current, "current (no baseline CrCl before the first dose)"


def assess_order(
    facts: ClinicalFacts, order: MedicationFact, base: ZaBaseline, rise: CreatinineRise | None, t: Thresholds
) -> Finding | None:
    """Decision for one zoledronic acid order, most severe reason first (module docstring)."""
    band, band_basis = band_crcl(facts, base)
    current = facts.crcl.value_ml_min if facts.crcl else None
    floor = t["za_crcl_not_recommended_below"]
    lowest = min((v for v in (band, current) if v is not None), default=None)
    if lowest is not None and lowest < floor:
        return _not_recommended(facts, order, lowest, t)
    if rise is not None:
        return _rise_finding(facts, order, base, rise)
    if is_order_hook(facts) and recent_creatinine(facts, t) is None:
        return _not_recent(facts, order, t)
    if band is None:
        return _cannot_assess(facts, order, t)
    label = za_label_dose(band, t)
    if label is not None and order.dose_mg is not None and order.dose_mg > label[0] + t["dose_tolerance_mg"]:
        return _dose_finding(facts, order, base, (band, band_basis), label, "dose-above-label")
    if label is not None and order.dose_mg is None and label[0] < t["za_dose_crcl_above_60_mg"]:
        return _dose_finding(facts, order, base, (band, band_basis), label, "dose-not-stated")
    if base.creatinine is None and not is_order_hook(facts):
        return _no_baseline(facts, order, base, t)
    return not_fired(lambda: _dose_fits(facts, order, band, band_basis, t))


@rule(RULE_ID, consensus_section="6.3.3", needs=("Observation", "MedicationRequest"))
def za_renal_dosing(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """ZA-RENAL-DOSING (consensus 6.3.3): adjust bisphosphonate dose to renal function (label table)."""
    orders = za_orders_to_check(facts)
    if not orders:
        return not_fired(lambda: _no_order(facts))
    base = za_baseline(facts, t)
    rise = creatinine_rise(facts, base, t)
    findings = [f for order in orders if (f := assess_order(facts, order, base, rise, t)) is not None]
    chosen = min(findings, key=lambda f: INDICATOR_ORDER[f.indicator], default=None)
    if chosen is None:
        return not_fired(lambda: " ".join(_fits_text(facts, order, base, t) for order in orders))
    return replace(chosen, values={**chosen.values, "regimen_note": regimen_note(orders)})


def _crcl_text(crcl: float | None) -> str:
    return "not computable" if crcl is None else f"{crcl:.1f}".rstrip("0").rstrip(".")


def _current_text(facts: ClinicalFacts) -> str:
    current = facts.crcl.value_ml_min if facts.crcl else None
    return "not computable" if current is None else f"{_crcl_text(current)} mL/min"


def _egfr(facts: ClinicalFacts) -> LabResult | None:
    return facts.latest("egfr")


def _egfr_text(egfr: LabResult | None) -> str:
    if egfr is None:
        return "none on file"
    return f"{value_with_unit(fmt_number(egfr.reported_value), egfr.reported_unit)} ({egfr.day.isoformat()})"


def _order_evidence(facts: ClinicalFacts, order: MedicationFact) -> tuple[Evidence, ...]:
    return (medication_evidence(order), *(facts.crcl.evidence if facts.crcl else ()))


def _baseline_evidence(base: ZaBaseline) -> tuple[Evidence, ...]:
    if base.clearance is None or base.clearance.value_ml_min is None:
        return ()
    return tuple(
        replace(e, label=f"Baseline {e.label[0].lower()}{e.label[1:]}") for e in base.clearance.evidence
    )


def _values(facts: ClinicalFacts, order: MedicationFact, base: ZaBaseline) -> dict[str, str]:
    return {
        "dose": fmt_number(order.dose_mg) if order.dose_mg is not None else "not stated",
        "current_crcl": _current_text(facts),
        "first_dose": base.first_dose.isoformat(),
        "egfr": _egfr_text(_egfr(facts)),
    }


def _withhold(order: MedicationFact, reason: str) -> tuple[SuggestionSpec, ...]:
    repeat = ActionSpec("create", order_key=REPEAT_CREATININE, reason=reason)
    if order.is_draft:
        return (
            SuggestionSpec(
                "Withhold this dose (remove the draft) and repeat serum creatinine",
                (ActionSpec("delete", target=order.reference), repeat),
                is_recommended=True,
            ),
        )
    return (SuggestionSpec("Repeat serum creatinine", (repeat,)),)


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


def _rise_finding(
    facts: ClinicalFacts, order: MedicationFact, base: ZaBaseline, rise: CreatinineRise
) -> Finding:
    after = base.after_first_dose
    note = (
        "no creatinine within the lookback before the first dose: the baseline is the first result after it"
        if after
        else "the newest creatinine before the first dose"
    )
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="creatinine-rise",
        values={
            **_values(facts, order, base),
            "baseline": fmt_number(rise.baseline.value),
            "baseline_date": rise.baseline.day.isoformat(),
            "baseline_note": note,
            "current": fmt_number(rise.current.value),
            "current_date": rise.current.day.isoformat(),
            "peak": fmt_number(rise.peak.value),
            "peak_date": rise.peak.day.isoformat(),
            "unit": rise.current.unit,
            "rise": fmt_number(round(rise.peak.value - rise.baseline.value, 2)),
            "limit": fmt_number(rise.limit),
            "recovered_below": fmt_number(round(rise.baseline.value * 1.1, 2)),
        },
        evidence=(
            *_order_evidence(facts, order),
            lab_evidence(
                "Baseline creatinine" + (" (first after the first dose)" if after else ""), rise.baseline
            ),
            lab_evidence("Highest creatinine since the rise", rise.peak),
            lab_evidence("Latest creatinine", rise.current),
        ),
        missing=crcl_missing(facts) if facts.crcl is None or facts.crcl.value_ml_min is None else (),
        suggestions=_withhold(order, "Creatinine rise on zoledronic acid: withhold and re-check (label)"),
        selection_behavior="at-most-one",
        outside_sources=(LABEL_RISE_SOURCE,),
    )


def _not_recent(facts: ClinicalFacts, order: MedicationFact, t: Thresholds) -> Finding:
    newest = facts.latest("creatinine")
    reason = "Measure serum creatinine before each zoledronic acid dose (label)"
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="creatinine-not-recent",
        values={
            "days": fmt_number(t["za_creatinine_before_dose_days"]),
            "newest": f"{lab_evidence('', newest).value} on {newest.day.isoformat()}"
            if newest
            else "none on file",
            "current_crcl": _current_text(facts),
        },
        evidence=(
            medication_evidence(order),
            *((lab_evidence("Newest creatinine (too old)", newest),) if newest else ()),
        ),
        missing=(f"serum creatinine within {fmt_number(t['za_creatinine_before_dose_days'])} days",),
        suggestions=(
            SuggestionSpec(
                "Serum creatinine before this dose",
                (ActionSpec("create", order_key=REPEAT_CREATININE, reason=reason),),
                is_recommended=True,
            ),
        ),
        selection_behavior="at-most-one",
        outside_sources=(LABEL_MEASURE_SOURCE,),
    )


def _dose_finding(
    facts: ClinicalFacts,
    order: MedicationFact,
    base: ZaBaseline,
    band: tuple[float, str],
    label: tuple[float, str],
    variant: str,
) -> Finding:
    """The dose card shows the baseline clearance that set the band and today's as context."""
    (crcl, basis), (dose, key) = band, label
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
            "crcl_basis": basis,
            "label_dose": fmt_number(dose),
            "dose": fmt_number(order.dose_mg) if order.dose_mg is not None else "not stated",
            "current_crcl": _current_text(facts),
        },
        evidence=(*_order_evidence(facts, order), *_baseline_evidence(base)),
        suggestions=suggestions,
        selection_behavior="at-most-one",
        outside_sources=(LABEL_DOSE_SOURCE,),
    )


def _cannot_assess(facts: ClinicalFacts, order: MedicationFact, t: Thresholds) -> Finding:
    """No CrCl at all: info in patient-view; warning in order hooks, or when the newest eGFR is below 30."""
    egfr = _egfr(facts)
    low_egfr = egfr is not None and egfr.value < t["za_crcl_not_recommended_below"]
    context = (lab_evidence("eGFR (context only, not used for dosing)", egfr),) if egfr else ()
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if is_order_hook(facts) or low_egfr else "info",
        variant="cannot-assess",
        values={"missing": "; ".join(crcl_missing(facts)), "egfr": _egfr_text(egfr)},
        evidence=(*_order_evidence(facts, order), *context),
        missing=crcl_missing(facts),
        outside_sources=(LABEL_DOSE_SOURCE,),
    )


def _no_baseline(facts: ClinicalFacts, order: MedicationFact, base: ZaBaseline, t: Thresholds) -> Finding:
    """No creatinine before (within the lookback) or after the first dose: the rise cannot be assessed."""
    reason = "Creatinine to follow zoledronic acid treatment (label)"
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        variant="no-baseline",
        values={
            "first_dose": base.first_dose.isoformat(),
            "current_crcl": _current_text(facts),
            "lookback_days": fmt_number(t["baseline_creatinine_lookback_days"]),
        },
        evidence=_order_evidence(facts, order),
        missing=(f"serum creatinine before or after the first dose on {base.first_dose.isoformat()}",),
        suggestions=(
            SuggestionSpec(
                "Serum creatinine", (ActionSpec("create", order_key=REPEAT_CREATININE, reason=reason),)
            ),
        ),
        outside_sources=(LABEL_RISE_SOURCE,),
    )


def _no_order(facts: ClinicalFacts) -> str:
    if is_order_hook(facts):
        return "No zoledronic acid at the oncology regimen among the orders being checked"
    yearly = [m for m in facts.medications if m.agent == ZA and m.is_active and not in_scope(m)]
    if yearly:
        return (
            "Zoledronic acid is active only as the yearly osteoporosis infusion, which its own label governs"
        )
    return "No zoledronic acid active"


def _fits_text(facts: ClinicalFacts, order: MedicationFact, base: ZaBaseline, t: Thresholds) -> str:
    band, basis = band_crcl(facts, base)
    return _dose_fits(facts, order, band, basis, t)


def _dose_fits(
    facts: ClinicalFacts, order: MedicationFact, band: float | None, basis: str, t: Thresholds
) -> str:
    """Every check passed: the dose is within the label dose for the CrCl band, no creatinine rise."""
    label = za_label_dose(band, t) if band is not None else None
    dose = f"{fmt_number(order.dose_mg)} mg" if order.dose_mg is not None else "dose not stated"
    fits = f"label dose {fmt_number(label[0])} mg" if label else "no label dose"
    return (
        f"{order.display} ({dose}) fits CrCl {_crcl_text(band)} mL/min, {basis}: {fits}; "
        f"{_rise_text(facts, t)}; current CrCl {_current_text(facts)}."
    )


def _rise_text(facts: ClinicalFacts, t: Thresholds) -> str:
    base = za_baseline(facts, t)
    if base.creatinine is None:
        return "no baseline creatinine yet to follow a rise"
    shown = lab_evidence("", base.creatinine).value
    return f"no creatinine rise over the baseline {shown} ({base.creatinine.day.isoformat()})"
