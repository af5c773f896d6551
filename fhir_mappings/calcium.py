"""Current calcium status: which value counts, corrected how, against which limits, graded how.

RULES.md 7.1.9: the newest of ionized, laboratory-corrected and computed-corrected calcium is used; on the
same day ionized wins, then the laboratory's corrected value. Total calcium is corrected with the albumin
closest in days (same day preferred, within the pairing window) by Payne; without albumin the total calcium
itself is used, and the card says it was not corrected (no CTCAE grade is claimed for it). The value is
kept in the unit system the laboratory reported, because CTCAE v5 defines hypercalcemia grades separately
in mg/dL and mmol/L and the two sets of thresholds are not exact conversions of each other (11.5 mg/dL is
2.87 mmol/L, not 2.9).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Literal

from fhir_mappings.facts import CalciumAssessment, Evidence, LabResult, Labs
from fhir_mappings.lab_series import on_or_before
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import unit_system

MG_DL_PER_MMOL_L = 4.008
LOW_GRADE_KEYS = ("hypocalcemia_grade2", "hypocalcemia_critical", "hypocalcemia_grade4")
"""Thresholds of CTCAE v5 hypocalcemia grades 2, 3 (the critical threshold) and 4, per unit system."""
CRITICAL_LOW_GRADE = 3


SAME_DAY_PRIORITY = {"calcium_ionized": 0, "calcium_corrected": 1, "calcium_total": 2}
"""RULES.md 7.1.9: the newest of ionized, lab-corrected and computed-corrected calcium is used; on the same
day ionized wins (it needs no correction), then the laboratory's corrected value."""


def assess_calcium(labs: Labs, t: Thresholds) -> CalciumAssessment | None:
    newest = [r for a in SAME_DAY_PRIORITY if (r := _first(labs, a)) is not None]
    if not newest:
        return None
    chosen = max(newest, key=lambda r: (r.day, -SAME_DAY_PRIORITY[r.analyte]))
    if chosen.analyte == "calcium_ionized":
        return _ionized(chosen, t)
    if chosen.analyte == "calcium_corrected":
        return _graded("lab-corrected", chosen, _in_reported(chosen), chosen, (_evidence(chosen),), t)
    return _from_total(labs, chosen, t)


def _from_total(labs: Labs, total: LabResult, t: Thresholds) -> CalciumAssessment:
    """Payne with an albumin of the same days; without one the total itself, marked as not corrected.

    Calcium and albumin reported in different unit systems (mmol/L with g/dL, or mg/dL with g/L) are
    corrected and graded in mg/dL (7.1.9), since neither laboratory's system covers both values.
    """
    albumin = _paired_albumin(labs, total, t)
    if albumin is None:
        return _graded("total-uncorrected", total, _in_reported(total), total, (_evidence(total),), t)
    evidence = (_evidence(total), _evidence(albumin))
    if _molar(total) == _si_albumin(albumin):
        corrected = _payne(total, albumin, t)
        unit = "mmol/L" if _molar(total) else "mg/dL"
        shown = (_with_corrected(evidence[0], corrected, unit, evidence[1]), evidence[1])
        return _graded("albumin-corrected", total, corrected, total, shown, t)
    value = total.value + t["calcium_correction_factor_mg_dl"] * (
        t["calcium_correction_albumin_g_dl"] - albumin.value
    )
    note = Evidence(
        "Corrected calcium (computed in mg/dL)",
        f"{value:.2f} mg/dL",
        total.day,
        None,
        "calcium and albumin were reported in different unit systems: both converted to mg/dL and g/dL",
        calculated_from=(total.reference, albumin.reference),
    )
    return _graded("albumin-corrected", total, value, total, (*evidence, note), t, molar=False)


def _first(labs: Labs, analyte: str) -> LabResult | None:
    results = labs.get(analyte, ())
    return results[0] if results else None


def _molar(result: LabResult) -> bool:
    return unit_system(result.analyte, result.reported_unit) == "molar"


def _in_reported(result: LabResult) -> float:
    """The canonical mg/dL value expressed in the laboratory's own unit system."""
    return result.value / MG_DL_PER_MMOL_L if _molar(result) else result.value


def _paired_albumin(labs: Labs, total: LabResult, t: Thresholds) -> LabResult | None:
    """The albumin closest in days to the calcium within the pairing window (either side); the same day is
    preferred, then the nearer day, then the newer result."""
    window = timedelta(days=t["albumin_pairing_days"])
    found: list[LabResult] = []
    for albumin in on_or_before(labs.get("albumin", ()), total.effective + window):
        if albumin.effective < total.effective - window:
            break  # newest first: every later one is older still
        found.append(albumin)
    return min(found, key=lambda a: (abs((a.day - total.day).days), -a.effective.timestamp()), default=None)


def _si_albumin(albumin: LabResult) -> bool:
    """Albumin reported in g/L, the SI partner of calcium in mmol/L."""
    return albumin.reported_unit.replace(" ", "").lower() == "g/l"


def _payne(total: LabResult, albumin: LabResult, t: Thresholds) -> float:
    """Payne in the reported system: mg/dL + 0.8 x (4.0 - g/dL), or mmol/L + 0.02 x (40 - g/L)."""
    if _molar(total):
        albumin_g_l = albumin.value * 10
        return _in_reported(total) + t["calcium_correction_factor_mmol_l"] * (
            t["calcium_correction_albumin_g_l"] - albumin_g_l
        )
    return total.value + t["calcium_correction_factor_mg_dl"] * (
        t["calcium_correction_albumin_g_dl"] - albumin.value
    )


def _graded(
    basis: str,
    source: LabResult,
    value: float,
    ranged: LabResult,
    evidence: tuple[Evidence, ...],
    t: Thresholds,
    molar: bool | None = None,
) -> CalciumAssessment:
    molar = _molar(source) if molar is None else molar
    unit = "mmol/L" if molar else "mg/dL"
    suffix = "mmol_l" if molar else "mg_dl"
    low, high, limits_source = _limits(ranged, molar, t)
    status = _status(value, low, high)
    grade = _grade(value, status, [t[f"hypercalcemia_grade{g}_{suffix}"] for g in (2, 3, 4)])
    low_grade = _low_grade(value, status, [t[f"{k}_{suffix}"] for k in LOW_GRADE_KEYS])
    value_mg_dl = value * MG_DL_PER_MMOL_L if molar else value
    return CalciumAssessment(
        basis,
        round(value, 3),
        unit,
        round(value_mg_dl, 3),
        low,
        high,
        limits_source,
        status,
        grade,
        low_grade >= CRITICAL_LOW_GRADE,
        source.day,
        evidence,
        low_grade,
    )


def _limits(result: LabResult, molar: bool, t: Thresholds) -> tuple[float, float, str]:
    """The laboratory range when it sent one, else the service defaults, in the reported system; the card
    says which ("laboratory range" or "default range"), in words a clinician reads."""
    scale = 1 / MG_DL_PER_MMOL_L if molar else 1.0
    suffix = "mmol_l" if molar else "mg_dl"
    if result.low is not None and result.high is not None:
        return round(result.low * scale, 3), round(result.high * scale, 3), "laboratory range"
    return t[f"calcium_low_{suffix}"], t[f"calcium_high_{suffix}"], "default range"


def _ionized(result: LabResult, t: Thresholds) -> CalciumAssessment:
    if result.low is not None and result.high is not None:
        low, high, source = result.low, result.high, "laboratory range"
    else:
        low, high = t["ionized_calcium_low_mmol_l"], t["ionized_calcium_high_mmol_l"]
        source = "default range"
    value = result.value
    status = _status(value, low, high)
    grade = _grade(value, status, [t[f"hypercalcemia_grade{g}_ionized_mmol_l"] for g in (2, 3, 4)])
    low_grade = _low_grade(value, status, [t[f"{k}_ionized_mmol_l"] for k in LOW_GRADE_KEYS])
    return CalciumAssessment(
        "ionized",
        round(value, 3),
        "mmol/L",
        None,
        low,
        high,
        source,
        status,
        grade,
        low_grade >= CRITICAL_LOW_GRADE,
        result.day,
        (_evidence(result),),
        low_grade,
    )


def _grade(value: float, status: str, cutoffs: list[float]) -> int:
    """CTCAE v5 hypercalcemia grade: 1 above the upper limit, 2-4 above each cutoff; 0 when not high."""
    if status != "high":
        return 0
    return 1 + sum(1 for cutoff in cutoffs if value > cutoff)


def _low_grade(value: float, status: str, cutoffs: list[float]) -> int:
    """CTCAE v5 hypocalcemia grade: 1 below the lower limit, 2-4 below each cutoff; 0 when not low."""
    if status != "low":
        return 0
    return 1 + sum(1 for cutoff in cutoffs if value < cutoff)


def _evidence(result: LabResult) -> Evidence:
    labels = {
        "calcium_total": "Calcium (total)",
        "calcium_corrected": "Calcium (corrected, laboratory)",
        "calcium_ionized": "Calcium (ionized)",
        "albumin": "Albumin",
    }
    shown = f"{result.reported_value:g} {result.reported_unit}".strip()
    note = "" if result.reported_unit == result.unit else f"= {result.value:.2f} {result.unit}"
    return Evidence(labels.get(result.analyte, result.analyte), shown, result.day, result.reference, note)


def _with_corrected(total: Evidence, corrected: float, unit: str, albumin: Evidence) -> Evidence:
    """The corrected value the card's text grades is a calculation: the total calcium's row shows it,
    rounded as the text rounds it, so the clinician finds the text's number in the table. It names the
    albumin it used (and its day, when not the calcium's), so a card need not repeat the albumin's row."""
    on_day = "" if albumin.when == total.when or albumin.when is None else f" on {albumin.when.isoformat()}"
    value = f"{round(corrected, 3):.2f}".rstrip("0").rstrip(".")
    shown = f"corrected for albumin {albumin.value}{on_day}: {value} {unit}"
    note = f"{total.note}; {shown}" if total.note else shown
    inputs = (albumin.reference,) if albumin.reference else ()
    return replace(total, note=note, calculated_from=inputs)


def _status(value: float, low: float, high: float) -> Literal["low", "normal", "high"]:
    return "low" if value < low else "high" if value > high else "normal"
