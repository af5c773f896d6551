"""Observations to lab results, coded results and data issues.

Only final, amended and corrected results count (catalog section 2). Results are filtered by code with
plain dict access first; each analyte's results become a `LabSeries`, newest first, in which a result is
fully validated and converted to the analyte's canonical unit when a rule first reads it. Anything that
cannot be used becomes an UnusableResult with the reason, shown on a card, never silently dropped and never
guessed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import CodedResult, LabResult, UnusableResult
from fhir_mappings.fhir_values import (
    as_dict,
    as_list,
    codings,
    first_date,
    parse_datetime,
    reference_of,
    text,
)
from fhir_mappings.lab_series import LabSeries
from fhir_mappings.model_check import invalid_reason
from fhir_mappings.units import UnitError, canonical_unit, check_property, convert_between, to_canonical

Grouped = tuple[datetime, dict[str, Any]]  # (effective, Observation)
LOINC_PREFIX = "http://loinc.org|"
USABLE_STATUSES = frozenset({"final", "amended", "corrected"})
FUTURE_TOLERANCE = timedelta(days=1)
DATE_FIELDS = ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
"""Where a result's date is read, in order; nearly every lab sends effectiveDateTime, tried alone first."""


def build_observations(
    observations: list[dict[str, Any]], codesets: Codesets, now: datetime
) -> tuple[dict[str, LabSeries], dict[str, tuple[CodedResult, ...]], list[UnusableResult]]:
    grouped: dict[str, list[Grouped]] = {}
    coded: dict[str, list[CodedResult]] = {}
    issues: list[UnusableResult] = []
    latest_allowed = now + FUTURE_TOLERANCE
    lab_codes, coded_codes = codesets.observations, codesets.coded_observations
    for obs in observations:
        status = obs.get("status")
        if not isinstance(status, str) or status not in USABLE_STATUSES:
            continue
        concept = obs.get("code")
        analyte = lab_codes.find_concept(concept)
        coded_analyte = None if analyte else coded_codes.find_concept(concept)
        if not analyte and not coded_analyte:
            continue
        when = parse_datetime(obs.get("effectiveDateTime")) or first_date(obs, *DATE_FIELDS)
        if when is None or when > latest_allowed:
            reason = "no readable date" if when is None else "dated in the future"
            issues.append(UnusableResult(analyte or coded_analyte or "", reason, reference_of(obs), ""))
            continue
        if analyte:
            group = grouped.get(analyte)
            if group is None:
                group = grouped[analyte] = []
            group.append((when, obs))
        elif coded_analyte:
            _add_coded(coded, coded_analyte, obs, when, codesets, issues)
    labs = {a: _lab_series(a, items, codesets, issues) for a, items in grouped.items()}
    return (
        {a: results for a, results in labs.items() if results},
        {a: tuple(sorted(r, key=lambda x: x.effective, reverse=True)) for a, r in coded.items()},
        issues,
    )


def _lab_series(
    analyte: str, items: list[Grouped], codesets: Codesets, issues: list[UnusableResult]
) -> LabSeries:
    """Newest first, converted as read (`lab_series`): a heavy chart sends hundreds of results per analyte
    and most rules read one. The reference-range conversion is memoised (a laboratory repeats its ranges)."""
    items.sort(key=itemgetter(0), reverse=True)
    unit = canonical_unit(analyte)

    def convert(raw: Grouped, report_to: list[UnusableResult]) -> LabResult | None:
        when, obs = raw
        return _lab_result(analyte, unit, obs, when, codesets, report_to)

    return LabSeries(items, convert, issues)


def _lab_result(
    analyte: str,
    canonical_unit_of_analyte: str,
    obs: dict[str, Any],
    when: datetime,
    codesets: Codesets,
    issues: list[UnusableResult],
) -> LabResult | None:
    """A result a rule reads: fully validated, then converted to the analyte's canonical unit.

    Refused (RULES.md 7.1.8) when its unit measures another property than its LOINC code, or its value is
    outside the range compatible with life: either means the result contradicts itself, and no rule may
    decide on it (a molar calcium code with "2.3 mg/dL" once produced a critical hypocalcemia card)."""
    value, unit, shown = _quantity(analyte, obs, codesets)
    reference = reference_of(obs)
    code = _matched_code(analyte, obs, codesets)
    try:
        if value is None:
            raise UnitError("no numeric value")
        if code.startswith(LOINC_PREFIX):
            check_property(code[len(LOINC_PREFIX) :], unit)
        canonical = to_canonical(analyte, value, unit)
        reason = invalid_reason(obs)
        if reason:
            raise UnitError(reason)
    except UnitError as exc:
        issues.append(UnusableResult(analyte, str(exc), reference, shown))
        return None
    low, high = _range(analyte, obs)
    return LabResult(
        analyte,
        canonical,
        canonical_unit_of_analyte,
        float(value),
        unit or canonical_unit_of_analyte,
        when,
        reference,
        code,
        low,
        high,
    )


def _matched_code(analyte: str, obs: dict[str, Any], codesets: Codesets) -> str:
    """`system|code` of the coding that made this result the analyte (shown as evidence)."""
    pairs = codings(obs.get("code"))
    matched = next((p for p in pairs if codesets.observations.find((p,)) == analyte), pairs[0])
    return "|".join(matched)


def _quantity(analyte: str, obs: dict[str, Any], codesets: Codesets) -> tuple[float | None, str, str]:
    """(value, unit, as shown) from valueQuantity, valueInteger or an ECOG answer code."""
    if isinstance(obs.get("valueInteger"), int) and not isinstance(obs.get("valueInteger"), bool):
        return float(obs["valueInteger"]), "", str(obs["valueInteger"])
    if analyte == "ecog":
        for _system, code in codings(obs.get("valueCodeableConcept")):
            if code in codesets.ecog_answers:
                return float(codesets.ecog_answers[code]), "", code
    quantity = as_dict(obs.get("valueQuantity"))
    value = quantity.get("value")
    unit = quantity.get("code") if isinstance(quantity.get("code"), str) else quantity.get("unit")
    unit = text(unit, 60)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return (float(number) if number is not None else None), unit, f"{str(value)[:30]} {unit}".strip()


def _range(analyte: str, obs: dict[str, Any]) -> tuple[float | None, float | None]:
    """Reference range converted to the canonical unit; a range in an unknown unit is ignored."""
    for entry in as_list(obs.get("referenceRange")):
        entry = as_dict(entry)
        return _limit(analyte, entry.get("low")), _limit(analyte, entry.get("high"))
    return None, None


def _limit(analyte: str, quantity: Any) -> float | None:
    quantity = as_dict(quantity)
    value = quantity.get("value")
    unit = quantity.get("code") if isinstance(quantity.get("code"), str) else quantity.get("unit")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return _canonical_limit(analyte, float(value), text(unit, 60))


@lru_cache(maxsize=4096)
def _canonical_limit(analyte: str, value: float, unit: str) -> float | None:
    """A reference limit in the canonical unit; memoised because a lab sends the same range every time."""
    try:
        return convert_between(analyte, value, unit, canonical_unit(analyte))
    except UnitError:
        return None


def _add_coded(
    coded: dict[str, list[CodedResult]],
    analyte: str,
    obs: dict[str, Any],
    when: datetime,
    codesets: Codesets,
    issues: list[UnusableResult],
) -> None:
    value = _coded_value(analyte, obs, codesets)
    if value is None:
        issues.append(UnusableResult(analyte, "no recognised value", reference_of(obs), ""))
        return
    code = "|".join(codings(obs.get("code"))[0])
    coded.setdefault(analyte, []).append(CodedResult(analyte, value, when, reference_of(obs), code))


def _coded_value(analyte: str, obs: dict[str, Any], codesets: Codesets) -> str | None:
    if isinstance(obs.get("valueBoolean"), bool):
        return "true" if obs["valueBoolean"] else "false"
    candidates = [code for _s, code in codings(obs.get("valueCodeableConcept"))]
    if isinstance(obs.get("valueString"), str):
        candidates.append(obs["valueString"].strip())
    if analyte == "escc_grade":
        grades = {g.lower(): g for g in codesets.escc_grades}
        for candidate in candidates:
            if candidate.lower() in grades:
                return grades[candidate.lower()]
        return None
    return candidates[0][:40] if candidates else None
