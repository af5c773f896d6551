"""The numbers behind the plots and the timeline, from the same facts the rules read.

Each calcium result is assessed as the rules assess the newest one (`fhir_mappings.calcium`: ionized
first, then the laboratory's corrected value, else Payne with an albumin of the same days), each
creatinine gets the Cockcroft-Gault clearance of its day (`creatinine_clearance.clearance_at`, as the
zoledronic acid baseline does), and each ALP the limit `BONE-IMAGING-WORKUP` compares with. BMA doses are
the doses the chart's orders scheduled (start, then every interval, up to the order's end or today): the
hook prefetch reads orders, not administrations, so the marks say "scheduled by the order".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fhir_mappings.calcium import assess_calcium
from fhir_mappings.creatinine_clearance import clearance_at
from fhir_mappings.facts import ClinicalFacts, LabResult, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.rules._course import order_end, order_start
from hooks.rules._shared import bma_history, fmt_number, interval_text
from hooks.rules.bone_imaging_workup import alp_upper_limit

CALCIUM_ANALYTES = ("calcium_total", "calcium_corrected", "calcium_ionized")
BASIS_LABELS = {
    "ionized": "ionized",
    "lab-corrected": "corrected by the laboratory",
    "albumin-corrected": "corrected for albumin (Payne)",
    "total-uncorrected": "total, not corrected (no albumin within the pairing window)",
}
MAX_DOSE_MARKS = 400


@dataclass(frozen=True)
class Point:
    day: date
    value: float
    unit: str
    note: str
    reference: str


@dataclass(frozen=True)
class Series:
    """One plot's points, oldest first, and its reference limits (label, value) in the points' unit."""

    name: str
    unit: str
    points: tuple[Point, ...]
    limits: tuple[tuple[str, float], ...]
    limits_source: str


@dataclass(frozen=True)
class Dose:
    day: date
    label: str


def calcium_series(facts: ClinicalFacts, t: Thresholds) -> Series:
    """Corrected calcium in the unit the newest result was reported in (mg/dL or mmol/L); ionized calcium
    (mmol/L, another range) is plotted only when it is all the chart has."""
    results = [r for a in CALCIUM_ANALYTES[:2] for r in facts.labs.get(a, ())]
    if not results:
        results = list(facts.labs.get("calcium_ionized", ()))
    albumin = list(facts.labs.get("albumin", ()))
    assessed = []
    for result in results:
        assessment = assess_calcium({result.analyte: (result,), "albumin": albumin}, t)
        if assessment is not None:
            assessed.append((result, assessment))
    if not assessed:
        return Series("calcium", "mg/dL", (), (), "")
    newest = max(assessed, key=lambda pair: pair[0].effective)[1]
    unit = newest.unit
    points = tuple(
        Point(r.day, _in_unit(a.value, a.unit, unit), unit, BASIS_LABELS.get(a.basis, a.basis), r.reference)
        for r, a in sorted(assessed, key=lambda pair: pair[0].effective)
    )
    limits = (("lower limit", newest.low_limit), ("upper limit", newest.high_limit))
    return Series("calcium", unit, points, limits, newest.limits_source)


def _in_unit(value: float, unit: str, wanted: str) -> float:
    if unit == wanted:
        return value
    return round(value * 4.008 if wanted == "mg/dL" else value / 4.008, 3)


def creatinine_series(facts: ClinicalFacts, t: Thresholds) -> tuple[Series, Series]:
    """Creatinine (mg/dL) and, for each, the clearance of its day (mL/min) with the label's dose bands."""
    results = sorted(facts.labs.get("creatinine", ()), key=lambda r: r.effective)
    creatinine, clearance = [], []
    for r in results:
        creatinine.append(Point(r.day, r.value, r.unit, _reported(r), r.reference))
        crcl = clearance_at(facts.patient, r, facts.labs, facts.today, t)
        if crcl.value_ml_min is not None:
            note = next((e.note for e in crcl.evidence if e.reference is None), "")
            # one decimal, as the cards state it (fhir_mappings.creatinine_clearance.format_clearance)
            clearance.append(Point(r.day, round(crcl.value_ml_min, 1), "mL/min", note, r.reference))
    upper = [r.high for r in results if r.high is not None]
    if upper:
        limits, source = (("upper limit", upper[-1]),), "laboratory reference range"
    else:
        limits = (("normal baseline below", t["za_creatinine_normal_baseline_below_mg_dl"]),)
        source = "zoledronic acid label; no laboratory range on the results"
    za_bands = (
        ("zoledronic acid full dose above", t["za_crcl_full_dose_above"]),
        ("zoledronic acid not recommended below", t["za_crcl_not_recommended_below"]),
    )
    return (
        Series("creatinine", "mg/dL", tuple(creatinine), limits, source),
        Series("crcl", "mL/min", tuple(clearance), za_bands, "zoledronic acid label"),
    )


def alp_series(facts: ClinicalFacts, t: Thresholds) -> Series:
    results = sorted(facts.labs.get("alp", ()), key=lambda r: r.effective)
    points = tuple(Point(r.day, r.value, r.unit, _reported(r), r.reference) for r in results)
    if not results:
        return Series("alp", "U/L", (), (), "")
    limit, source = alp_upper_limit(facts, results[-1], t)
    return Series("alp", results[-1].unit, points, (("upper limit", limit),), plain_source(source))


def plain_source(source: str) -> str:
    """The threshold file says "catalog default" for the rule catalog's number; a clinician reads it as the
    service's default, which a site may change (the cards say the same, `hooks.cards.short_source`)."""
    return source.replace("catalog default reference range", "service default range").replace(
        "catalog default", "service default"
    )


def _reported(result: LabResult) -> str:
    if result.reported_unit == result.unit:
        return ""
    return f"reported as {fmt_number(result.reported_value)} {result.reported_unit}"


def bma_orders(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Chart BMA orders a dose may have been given under, oldest first."""
    return tuple(sorted(bma_history(facts), key=lambda m: order_start(m) or date.min))


def scheduled_doses(facts: ClinicalFacts) -> tuple[Dose, ...]:
    doses: list[Dose] = []
    for order in bma_orders(facts):
        start = order_start(order)
        if start is None:
            continue
        end = order_end(order, facts.today) or facts.today
        step = (
            timedelta(days=order.interval_days) if order.interval_days and order.interval_days >= 1 else None
        )
        day = start
        while day <= end and len(doses) < MAX_DOSE_MARKS:
            doses.append(Dose(day, dose_label(order)))
            if step is None:
                break
            day += step
    return tuple(sorted(doses, key=lambda d: d.day))


def dose_label(order: MedicationFact) -> str:
    """The drug as the chart names it, with the dose and interval read from the order when the name does
    not already say them ("Zoledronic acid 4 mg IV every 4 weeks" stays as it is)."""
    dose = f"{fmt_number(order.dose_mg)} mg" if order.dose_mg is not None else "dose not stated"
    interval = interval_text(order.interval_days)
    extra = [part for part in (dose, interval) if part and part.lower() not in order.display.lower()]
    return f"{order.display} ({', '.join(extra)})" if extra else order.display
