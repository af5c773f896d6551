"""Unit normalisation by table: a result is converted to its analyte's canonical unit, or refused.

UCUM libraries were tried (shared/LIBRARIES.md): none fits cleanly (annotations dropped, molar masses
needed, slow start). A table per analyte keeps every factor reviewable and testable, and makes an
unknown unit a named outcome (`UnitError`) shown on a card, never a guess.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

UNITS_PATH = Path(__file__).parent / "data" / "units.yaml"


class UnitError(ValueError):
    """A value that cannot be compared: unknown unit, not a number, or outside the plausible range."""


@dataclass(frozen=True)
class AnalyteUnits:
    canonical: str
    factors: dict[str, float]
    low: float
    high: float


def fold(unit: str) -> str:
    return unit.replace("µ", "u").replace("μ", "u").replace(" ", "").lower()


@lru_cache(maxsize=1)
def _units_data() -> dict[str, dict]:
    loaded: dict[str, dict] = yaml.safe_load(UNITS_PATH.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def unit_table() -> dict[str, AnalyteUnits]:
    return {
        analyte: AnalyteUnits(
            entry["canonical"],
            {fold(str(u)): float(f) for u, f in entry["units"].items()},
            *entry["plausible"],
        )
        for analyte, entry in _units_data().items()
        if "canonical" in entry
    }


@lru_cache(maxsize=1)
def _dimensions() -> tuple[dict[str, str], dict[str, str]]:
    """(folded unit -> property, LOINC code -> property), from units.yaml."""
    data = _units_data()
    units = {fold(u): prop for prop, listed in data["unit_dimensions"].items() for u in listed}
    codes = {code: prop for prop, listed in data["loinc_properties"].items() for code in listed}
    return units, codes


PROPERTY_NAMES = {"MCnc": "mass concentration", "SCnc": "substance (molar) concentration"}


def check_property(loinc_code: str, unit: str) -> None:
    """UnitError when the unit measures another property than the LOINC code (RULES.md 7.1.8).

    A code or a unit whose property is not listed is not checked: only a proven contradiction refuses.
    """
    units, codes = _dimensions()
    expected, actual = codes.get(loinc_code), units.get(fold(unit))
    if expected and actual and expected != actual:
        raise UnitError(
            f"unit '{unit[:40]}' is a {PROPERTY_NAMES[actual]} but LOINC {loinc_code} is a "
            f"{PROPERTY_NAMES[expected]} code: the result contradicts its own code"
        )


def canonical_unit(analyte: str) -> str:
    return unit_table()[analyte].canonical


def to_canonical(analyte: str, value: object, unit: str) -> float:
    """The value in the analyte's canonical unit; UnitError with a reason a clinician can read."""
    spec = unit_table().get(analyte)
    if spec is None:
        raise UnitError(f"no unit table for {analyte}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UnitError("value is not a finite number")
    factor = spec.factors.get(fold(unit))
    if factor is None:
        raise UnitError(f"unit '{unit[:40]}' not recognised for {analyte}")
    converted = float(value) * factor
    if not spec.low <= converted <= spec.high:
        raise UnitError(
            f"value outside the range compatible with life for {analyte} "
            f"({spec.low:g}-{spec.high:g} {spec.canonical})"
        )
    return converted


def convert_between(analyte: str, value: float, from_unit: str, to_unit: str) -> float:
    """Convert between two accepted units of one analyte (no plausibility check: limits, not results)."""
    spec = unit_table()[analyte]
    try:
        return value * spec.factors[fold(from_unit)] / spec.factors[fold(to_unit)]
    except KeyError:
        raise UnitError(f"cannot convert {from_unit} to {to_unit} for {analyte}") from None


def unit_system(analyte: str, unit: str) -> str:
    """'molar' for mmol/L-family units, 'mass' otherwise: calcium grading depends on it (CTCAE)."""
    return "molar" if fold(unit) in ("mmol/l", "meq/l", "umol/l") else "mass"


_ANNOTATION = re.compile(r"\{[^{}]*\}")


def display_unit(unit: str) -> str:
    """A unit as a clinician reads it: UCUM annotations (`{score}`, `{cells}`) are for machines, so
    "5 {score}" reads "5", and "mL/min/{1.73_m2}" reads "mL/min/1.73 m²"; "1" (UCUM's unity) reads as
    nothing."""
    shown = _ANNOTATION.sub(_annotation_text, unit).strip().rstrip("/").strip()
    return "" if shown == "1" else shown


def _annotation_text(match: re.Match[str]) -> str:
    """eGFR's `{1.73_m2}` carries meaning (per 1.73 m² of body surface) and is kept, in words."""
    return "1.73 m\u00b2" if match.group(0).replace(" ", "") in ("{1.73_m2}", "{1.73m2}") else ""


def value_with_unit(value: str, unit: str) -> str:
    """ "9.4 mg/dL", or "5" for a score: no trailing space when the unit shows as nothing."""
    shown = display_unit(unit)
    return f"{value} {shown}" if shown else value
