"""MedicationRequests (chart and draft orders) to medication facts.

Entered-in-error, cancelled and (in the chart) draft requests were never given and are dropped; active,
on-hold, completed and stopped ones are kept with their status, because treatment duration needs the
history. Dose is read in mg and the interval in days; what cannot be read stays None and rules say so.
"""

from __future__ import annotations

from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import MedicationFact, UnusableResult
from fhir_mappings.fhir_values import (
    as_dict,
    as_list,
    codings,
    display,
    first_date,
    parse_date,
    reference_of,
    status_of,
    text,
)
from fhir_mappings.model_check import invalid_reason

NEVER_GIVEN = frozenset({"entered-in-error", "cancelled", "draft"})
# Rules read BMA orders in any status (treatment history) and other agents only while current; a
# completed supplement or chemotherapy order from years ago is read by no rule, so it is neither
# validated (~0.1 ms each) nor turned into a fact. A heavy chart holds mostly such orders.
HISTORY_CLASSES = frozenset({"bma"})
CURRENT_STATUSES = frozenset({"active", "on-hold"})
MASS_TO_MG = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001, "µg": 0.001}
PERIOD_DAYS = {
    "s": 1 / 86400,
    "min": 1 / 1440,
    "h": 1 / 24,
    "d": 1.0,
    "wk": 7.0,
    "mo": 30.436875,
    "a": 365.25,
}


def build_medications(
    requests: list[dict[str, Any]],
    codesets: Codesets,
    medications: dict[str, dict[str, Any]],
    *,
    drafts: bool = False,
) -> tuple[list[MedicationFact], list[UnusableResult]]:
    facts: list[MedicationFact] = []
    issues: list[UnusableResult] = []
    for request in requests:
        if request.get("resourceType") != "MedicationRequest":
            continue
        if not drafts and status_of(request) in NEVER_GIVEN:
            continue
        concept = _medication_concept(request, medications)
        pairs = codings(concept)
        agent = codesets.medications.find(pairs)
        if agent is None or not (drafts or _read_by_rules(request, agent, codesets)):
            continue
        reason = None if drafts else invalid_reason(request)
        if reason:
            issues.append(UnusableResult(agent, reason, reference_of(request), ""))
            continue
        facts.append(_fact(request, agent, concept, pairs, codesets, drafts))
    return facts, issues


def _read_by_rules(request: dict[str, Any], agent: str, codesets: Codesets) -> bool:
    """True for a chart order some rule may decide on: any BMA order, or a current order of another agent."""
    if codesets.medication_classes.get(agent) in HISTORY_CLASSES:
        return True
    return status_of(request) in CURRENT_STATUSES


def _fact(
    request: dict[str, Any],
    agent: str,
    concept: Any,
    pairs: list[tuple[str, str]],
    codesets: Codesets,
    draft: bool,
) -> MedicationFact:
    dosage = as_dict(next(iter(as_list(request.get("dosageInstruction"))), {}))
    dose = _dose_mg(dosage)
    interval = _interval_days(dosage)
    start = _start(request, dosage)
    return MedicationFact(
        agent=agent,
        agent_class=codesets.medication_classes.get(agent, "other"),
        product=_product(agent, pairs, dose, codesets),
        status="draft" if draft else text(request.get("status"), 30),
        intent=text(request.get("intent"), 30),
        authored=parse_date(request.get("authoredOn")),
        start=start,
        dose_mg=dose,
        interval_days=interval,
        reference=reference_of(request),
        display=display(concept, agent.replace("_", " ")),
        is_draft=draft,
    )


def _medication_concept(request: dict[str, Any], medications: dict[str, dict[str, Any]]) -> Any:
    """medicationCodeableConcept, or the code of the referenced (contained or bundled) Medication."""
    if "medicationCodeableConcept" in request:
        return request["medicationCodeableConcept"]
    ref = as_dict(request.get("medicationReference")).get("reference")
    if not isinstance(ref, str):
        return None
    if ref.startswith("#"):
        for contained in as_list(request.get("contained")):
            if as_dict(contained).get("id") == ref[1:]:
                return as_dict(contained).get("code")
        return None
    return as_dict(medications.get(ref)).get("code")


def _dose_mg(dosage: dict[str, Any]) -> float | None:
    for rate in as_list(dosage.get("doseAndRate")):
        quantity = as_dict(as_dict(rate).get("doseQuantity"))
        value = quantity.get("value")
        unit = quantity.get("code") if isinstance(quantity.get("code"), str) else quantity.get("unit")
        factor = MASS_TO_MG.get(text(unit, 10).lower())
        if factor and isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e6:
            return round(float(value) * factor, 6)
    return None


def _interval_days(dosage: dict[str, Any]) -> float | None:
    repeat = as_dict(as_dict(dosage.get("timing")).get("repeat"))
    frequency = repeat.get("frequency", 1)
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    if not isinstance(period, int | float) or isinstance(period, bool) or unit not in PERIOD_DAYS:
        return None
    if not isinstance(frequency, int) or frequency <= 0 or not 0 < period < 1e5:
        return None
    return round(period * PERIOD_DAYS[unit] / frequency, 3)


def _start(request: dict[str, Any], dosage: dict[str, Any]):
    bounds = as_dict(as_dict(dosage.get("timing")).get("repeat")).get("boundsPeriod")
    when = first_date(
        {"b": bounds, "v": as_dict(request.get("dispenseRequest")).get("validityPeriod")}, "b", "v"
    )
    return when.date() if when else parse_date(request.get("authoredOn"))


def _product(agent: str, pairs: list[tuple[str, str]], dose: float | None, codesets: Codesets) -> str | None:
    if agent != "denosumab":
        return None
    found = codesets.products.find(pairs)
    if found:
        return found.split(":", 1)[1]
    if dose is not None:
        return "xgeva" if dose >= 100 else "prolia" if 50 <= dose <= 70 else None
    return None
