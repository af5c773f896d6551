"""Creatinine clearance by Cockcroft-Gault with actual body weight, as the zoledronic acid label requires.

CrCl = (140 - age) x weight (kg) / (72 x serum creatinine (mg/dL)), x 0.85 for women. Age, sex, a weight
within the recency window and a creatinine are all required; whatever is missing is named, and eGFR is
never substituted (catalog section 2).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fhir_mappings.facts import CreatinineClearance, Evidence, LabResult, Labs, PatientFact
from fhir_mappings.lab_series import on_or_before
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import value_with_unit


def creatinine_clearance(
    patient: PatientFact, labs: Labs, now: datetime, t: Thresholds
) -> CreatinineClearance:
    creatinine = _newest(labs, "creatinine")
    weight = _newest(labs, "weight")  # results are newest first: if this one is too old, so are the rest
    if weight is not None and now - weight.effective > timedelta(days=t["weight_recency_days"]):
        weight = None
    missing = _missing(patient, creatinine, weight, t)
    evidence = tuple(
        _evidence(label, r) for label, r in (("Creatinine", creatinine), ("Body weight", weight)) if r
    )
    if missing or creatinine is None or weight is None or patient.age_years is None:
        return CreatinineClearance(None, tuple(missing), evidence)
    value = (140 - patient.age_years) * weight.value / (72 * creatinine.value)
    if patient.sex == "female":
        value *= t["cockcroft_gault_female_factor"]
    basis = calculated_evidence("Creatinine clearance (Cockcroft-Gault)", value, creatinine, weight, patient)
    return CreatinineClearance(round(value, 1), (), (*evidence, basis))


def calculated_evidence(
    label: str, value: float, creatinine: LabResult, weight: LabResult, patient: PatientFact
) -> Evidence:
    """A calculated value has no record of its own, so it names the results it came from; the clearance
    has the one decimal the card's text uses (81.1 in both places, never 81 in one of them)."""
    weight_day = "" if weight.day == creatinine.day else f" ({weight.day.isoformat()})"
    inputs = (
        f"from creatinine {creatinine.reported_value:g} {creatinine.reported_unit} "
        f"({creatinine.day.isoformat()}), {weight.reported_value:g} {weight.reported_unit}"
        f"{weight_day}, age {patient.age_years}, {patient.sex}"
    )
    shown = f"{format_clearance(round(value, 1))} mL/min"
    return Evidence(
        label, shown, creatinine.day, None, inputs, calculated_from=(creatinine.reference, weight.reference)
    )


def format_clearance(value: float) -> str:
    """81.1, 35.4, 60: one decimal, no trailing zero; the rules' card text formats CrCl the same way."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _missing(
    patient: PatientFact, creatinine: LabResult | None, weight: LabResult | None, t: Thresholds
) -> list[str]:
    missing = []
    if patient.age_years is None:
        missing.append("age (no birth date)")
    if patient.sex is None:
        missing.append("sex (male or female needed for Cockcroft-Gault)")
    if weight is None:
        missing.append(f"body weight within {t['weight_recency_days']:.0f} days")
    if creatinine is None:
        missing.append("serum creatinine")
    return missing


def _evidence(label: str, result: LabResult) -> Evidence:
    note = "" if result.reported_unit == result.unit else f"= {result.value:.2f} {result.unit}"
    shown = value_with_unit(f"{result.reported_value:g}", result.reported_unit)
    return Evidence(label, shown, result.day, result.reference, note)


def _newest(labs: Labs, analyte: str) -> LabResult | None:
    results = labs.get(analyte, ())
    return results[0] if results else None


def clearance_at(
    patient: PatientFact, creatinine: LabResult, labs: Labs, today: date, t: Thresholds
) -> CreatinineClearance:
    """Cockcroft-Gault for an earlier creatinine (the zoledronic acid baseline, RULES.md 7.2.12).

    The weight is the one closest in time to that creatinine, within `weight_recency_days` of it; the age
    is the patient's age then (whole years back from today's age, since facts keep no birth date, so it
    may read one year high near a birthday: a slightly lower, more cautious clearance).
    """
    window = timedelta(days=t["weight_recency_days"])
    weights = []
    for w in on_or_before(labs.get("weight", ()), creatinine.effective + window):
        if w.effective < creatinine.effective - window:
            break  # newest first: the rest are older still
        weights.append(w)
    weight = min(weights, key=lambda w: abs((w.day - creatinine.day).days), default=None)
    years_back = int((today - creatinine.day).days / 365.25)
    age = None if patient.age_years is None else patient.age_years - years_back
    then = PatientFact(patient.reference, age, patient.sex)
    missing = _missing(then, creatinine, weight, t)
    evidence = tuple(
        _evidence(label, r) for label, r in (("Creatinine", creatinine), ("Body weight", weight)) if r
    )
    if missing or weight is None or age is None:
        return CreatinineClearance(None, tuple(missing), evidence)
    value = (140 - age) * weight.value / (72 * creatinine.value)
    if patient.sex == "female":
        value *= t["cockcroft_gault_female_factor"]
    basis = calculated_evidence("Creatinine clearance (Cockcroft-Gault)", value, creatinine, weight, then)
    return CreatinineClearance(round(value, 1), (), (*evidence, basis))
