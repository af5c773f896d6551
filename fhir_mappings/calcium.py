"""Current calcium status: which value counts, corrected how, against which limits, graded how.

Catalog section 2: an ionized calcium, when newer, takes precedence; else a laboratory-reported corrected
calcium; else total calcium corrected for an albumin from the same days (Payne); without albumin, the total
calcium itself, and the card says it was not corrected. The value is kept in the unit system the
laboratory reported, because CTCAE v5 defines hypercalcemia grades separately in mg/dL and mmol/L and
the two sets of thresholds are not exact conversions of each other (11.5 mg/dL is 2.87 mmol/L, not 2.9).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fhir_mappings.facts import CalciumAssessment, Evidence, LabResult, Labs
from fhir_mappings.lab_series import on_or_before
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import unit_system

MG_DL_PER_MMOL_L = 4.008


def assess_calcium(labs: Labs, t: Thresholds) -> CalciumAssessment | None:
    total, corrected, ionized = (
        _first(labs, a) for a in ("calcium_total", "calcium_corrected", "calcium_ionized")
    )
    newest_total = max((r for r in (total, corrected) if r), key=lambda r: r.effective, default=None)
    if ionized and (newest_total is None or ionized.effective >= newest_total.effective):
        return _ionized(ionized, t)
    if corrected and (total is None or corrected.effective >= total.effective):
        return _graded(
            "lab-corrected", corrected, _in_reported(corrected), corrected, (_evidence(corrected),), t
        )
    if total is None:
        return None
    albumin = _paired_albumin(labs, total, t)
    if albumin is None:
        return _graded("total-uncorrected", total, _in_reported(total), total, (_evidence(total),), t)
    value = _payne(total, albumin, t)
    return _graded("albumin-corrected", total, value, total, (_evidence(total), _evidence(albumin)), t)


def _first(labs: Labs, analyte: str) -> LabResult | None:
    results = labs.get(analyte, ())
    return results[0] if results else None


def _molar(result: LabResult) -> bool:
    return unit_system(result.analyte, result.reported_unit) == "molar"


def _in_reported(result: LabResult) -> float:
    """The canonical mg/dL value expressed in the laboratory's own unit system."""
    return result.value / MG_DL_PER_MMOL_L if _molar(result) else result.value


def _paired_albumin(labs: Labs, total: LabResult, t: Thresholds) -> LabResult | None:
    """The newest albumin within the pairing window of the calcium's date (on either side)."""
    window = timedelta(days=t["albumin_pairing_days"])
    for albumin in on_or_before(labs.get("albumin", ()), total.effective + window):
        if albumin.effective < total.effective - window:
            return None  # newest first: every later one is older still
        if abs(albumin.effective - total.effective) <= window:
            return albumin
    return None


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
) -> CalciumAssessment:
    molar = _molar(source)
    unit = "mmol/L" if molar else "mg/dL"
    suffix = "mmol_l" if molar else "mg_dl"
    low, high, limits_source = _limits(ranged, molar, t)
    status = _status(value, low, high)
    grade = _grade(value, status, [t[f"hypercalcemia_grade{g}_{suffix}"] for g in (2, 3, 4)])
    critical = status == "low" and value < t[f"hypocalcemia_critical_{suffix}"]
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
        critical,
        source.day,
        evidence,
    )


def _limits(result: LabResult, molar: bool, t: Thresholds) -> tuple[float, float, str]:
    """The laboratory range when it sent one, else the catalog defaults, in the reported system."""
    scale = 1 / MG_DL_PER_MMOL_L if molar else 1.0
    suffix = "mmol_l" if molar else "mg_dl"
    if result.low is not None and result.high is not None:
        return round(result.low * scale, 3), round(result.high * scale, 3), "laboratory reference range"
    return t[f"calcium_low_{suffix}"], t[f"calcium_high_{suffix}"], "catalog default reference range"


def _ionized(result: LabResult, t: Thresholds) -> CalciumAssessment:
    if result.low is not None and result.high is not None:
        low, high, source = result.low, result.high, "laboratory reference range"
    else:
        low, high = t["ionized_calcium_low_mmol_l"], t["ionized_calcium_high_mmol_l"]
        source = "project default reference range (1.12-1.32 mmol/L)"
    value = result.value
    status = _status(value, low, high)
    grade = _grade(value, status, [t[f"hypercalcemia_grade{g}_ionized_mmol_l"] for g in (2, 3, 4)])
    critical = status == "low" and value < t["hypocalcemia_critical_ionized_mmol_l"]
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
        critical,
        result.day,
        (_evidence(result),),
    )


def _grade(value: float, status: str, cutoffs: list[float]) -> int:
    """CTCAE v5 hypercalcemia grade: 1 above the upper limit, 2-4 above each cutoff; 0 when not high."""
    if status != "high":
        return 0
    return 1 + sum(1 for cutoff in cutoffs if value > cutoff)


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


def _status(value: float, low: float, high: float) -> Literal["low", "normal", "high"]:
    return "low" if value < low else "high" if value > high else "normal"
