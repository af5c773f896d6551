"""Observations to lab results, coded results and data issues.

Only final, amended and corrected results count (catalog section 2). Results are filtered by code with
plain dict access first; each analyte's results are converted to its canonical unit, newest first, and
the newest usable one is fully validated. Anything that cannot be used becomes an UnusableResult with the
reason, shown on a card, never silently dropped and never guessed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import CodedResult, LabResult, UnusableResult
from fhir_mappings.fhir_values import as_dict, as_list, codings, first_date, reference_of, status_of, text
from fhir_mappings.model_check import invalid_reason
from fhir_mappings.units import UnitError, canonical_unit, convert_between, to_canonical

Grouped = tuple[datetime, dict[str, Any], list[tuple[str, str]]]  # (effective, Observation, its codings)
USABLE_STATUSES = frozenset({"final", "amended", "corrected"})
MAX_HISTORY = 50
HISTORY_ANALYTES = frozenset({"creatinine", "albumin", "weight"})
"""Analytes whose older results something reads: the zoledronic acid baseline creatinine, the albumin paired
with a calcium of the same days, the weight within 90 days. Every other analyte is decided on its newest
usable result, so older ones are never converted (a heavy chart has thousands)."""
FUTURE_TOLERANCE = timedelta(days=1)


def build_observations(
    observations: list[dict[str, Any]], codesets: Codesets, now: datetime
) -> tuple[dict[str, tuple[LabResult, ...]], dict[str, tuple[CodedResult, ...]], list[UnusableResult]]:
    grouped: dict[str, list[Grouped]] = {}
    coded: dict[str, list[CodedResult]] = {}
    issues: list[UnusableResult] = []
    for obs in observations:
        if status_of(obs) not in USABLE_STATUSES:
            continue
        pairs = codings(obs.get("code"))
        analyte = codesets.observations.find(pairs)
        coded_analyte = None if analyte else codesets.coded_observations.find(pairs)
        if not analyte and not coded_analyte:
            continue
        when = first_date(obs, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        name = analyte or coded_analyte or ""
        if when is None or when > now + FUTURE_TOLERANCE:
            reason = "no readable date" if when is None else "dated in the future"
            issues.append(UnusableResult(name, reason, reference_of(obs), ""))
            continue
        if analyte:
            grouped.setdefault(analyte, []).append((when, obs, pairs))
        elif coded_analyte:
            _add_coded(coded, coded_analyte, obs, when, codesets, issues)
    labs = {a: _lab_history(a, items, codesets, issues) for a, items in grouped.items()}
    return (
        {a: results for a, results in labs.items() if results},
        {a: tuple(sorted(r, key=lambda x: x.effective, reverse=True)) for a, r in coded.items()},
        issues,
    )


def _lab_history(
    analyte: str,
    items: list[Grouped],
    codesets: Codesets,
    issues: list[UnusableResult],
) -> tuple[LabResult, ...]:
    """Newest first: up to MAX_HISTORY results of a HISTORY_ANALYTES analyte, else the newest usable one;
    only the newest usable one is fully validated.

    A heavy chart sends hundreds of results per analyte, so the per-result work stays small: codings
    come from the grouping pass and the reference-range conversion is memoised (ranges repeat).
    """
    items.sort(key=lambda item: item[0], reverse=True)
    results: list[LabResult] = []
    unit = canonical_unit(analyte)
    wanted = MAX_HISTORY if analyte in HISTORY_ANALYTES else 1
    for when, obs, pairs in items[:MAX_HISTORY]:
        result = _lab_result(analyte, unit, obs, pairs, when, codesets, issues, validate=not results)
        if result is not None:
            results.append(result)
            if len(results) == wanted:
                break
    return tuple(results)


def _lab_result(
    analyte: str,
    canonical_unit_of_analyte: str,
    obs: dict[str, Any],
    pairs: list[tuple[str, str]],
    when: datetime,
    codesets: Codesets,
    issues: list[UnusableResult],
    *,
    validate: bool,
) -> LabResult | None:
    value, unit, shown = _quantity(analyte, obs, codesets)
    reference = reference_of(obs)
    try:
        if value is None:
            raise UnitError("no numeric value")
        canonical = to_canonical(analyte, value, unit)
        reason = invalid_reason(obs) if validate else None
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
        "|".join(pairs[0]),
        low,
        high,
    )


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
