"""MedicationRequests (chart and draft orders) to medication facts.

Entered-in-error, cancelled and (in the chart) draft requests were never given and are dropped; active,
on-hold, completed and stopped ones are kept with their status, because treatment duration needs the
history. Dose is read in mg (or in IU, for vitamin D) and the interval in days; what cannot be read stays
None and rules say so. Every BMA order gets its regimen (oncology, osteoporosis or unknown:
fhir_mappings/regimens.py).

The drug is recognised from the order's medicationCodeableConcept, or from the Medication it references
(contained, sent in the prefetch, or included from the FHIR server: all three are read the same way, its
`code`, then its `ingredient[].itemCodeableConcept` when the code itself is not in the code sets: a
compounded or site-coded product still names its ingredient).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import MedicationFact, Regimen, UnusableResult
from fhir_mappings.fhir_values import (
    as_dict,
    as_list,
    codings,
    display,
    first_date,
    parse_date,
    parse_datetime,
    reference_of,
    status_of,
    text,
)
from fhir_mappings.model_check import invalid_reason
from fhir_mappings.regimens import classify_regimen, regimen_by_dose
from fhir_mappings.thresholds import Thresholds

NEVER_GIVEN = frozenset({"entered-in-error", "cancelled", "draft"})
# Rules read BMA orders in any status (treatment history) and other agents only while current; a
# completed supplement or chemotherapy order from years ago is read by no rule, so it is neither
# validated (~0.1 ms each) nor turned into a fact. A heavy chart holds mostly such orders.
HISTORY_CLASSES = frozenset({"bma"})
CURRENT_STATUSES = frozenset({"active", "on-hold"})
MASS_TO_MG = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001, "µg": 0.001}
INTERNATIONAL_UNITS = frozenset({"[iu]", "iu", "[iu]/dose", "unit", "units"})
"""UCUM `[iU]` (and `[IU]`), and the plain `IU` many EHRs write; compared in lower case."""
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
    thresholds: Thresholds | None = None,
) -> tuple[list[MedicationFact], list[UnusableResult]]:
    """`medications` are the chart's Medication resources by reference (`Medication/id`). Draft orders
    may bring their own Medication resources in the draft bundle; those are read too."""
    t = thresholds if thresholds is not None else _default_thresholds()
    if drafts:
        medications = {**medications, **_medications_in(requests)}
    facts: list[MedicationFact] = []
    issues: list[UnusableResult] = []
    for request in requests:
        if request.get("resourceType") != "MedicationRequest":
            continue
        if not drafts and status_of(request) in NEVER_GIVEN:
            continue
        found = _recognise(request, medications, codesets)
        if found is None:
            continue
        agent, concept, pairs, named = found
        if not (drafts or _read_by_rules(request, agent, codesets)):
            continue
        reason = None if drafts else invalid_reason(request)
        if reason:
            issues.append(UnusableResult(agent, reason, reference_of(request), ""))
            continue
        facts.append(_fact(request, agent, (concept, named), pairs, codesets, t, drafts))
    return facts, issues


@lru_cache(maxsize=1)
def _default_thresholds() -> Thresholds:
    """The shipped thresholds, for callers that have none at hand (tests, tools); the service passes its
    site-overridden ones."""
    return Thresholds.load()


def _medications_in(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {reference_of(r): r for r in resources if as_dict(r).get("resourceType") == "Medication"}


def _read_by_rules(request: dict[str, Any], agent: str, codesets: Codesets) -> bool:
    """True for a chart order some rule may decide on: any BMA order, or a current order of another agent."""
    if codesets.medication_classes.get(agent) in HISTORY_CLASSES:
        return True
    return status_of(request) in CURRENT_STATUSES


def _fact(
    request: dict[str, Any],
    agent: str,
    concepts: tuple[Any, Any],
    pairs: list[tuple[str, str]],
    codesets: Codesets,
    t: Thresholds,
    draft: bool,
) -> MedicationFact:
    """`concepts`: the concept that named the agent, and what the chart calls the drug (see _recognise)."""
    dosage = as_dict(next(iter(as_list(request.get("dosageInstruction"))), {}))
    dose = _dose_mg(dosage)
    interval = _interval_days(dosage)
    product = codesets.products.find(pairs)
    is_bma = codesets.medication_classes.get(agent) == "bma"
    regimen = _regimen(agent, product, dose, interval, codesets, t) if is_bma else None
    return MedicationFact(
        agent=agent,
        agent_class=codesets.medication_classes.get(agent, "other"),
        product=_product(agent, product, dose, t),
        status="draft" if draft else text(request.get("status"), 30),
        intent=text(request.get("intent"), 30),
        authored=parse_date(request.get("authoredOn")),
        start=_start(request, dosage),
        dose_mg=dose,
        interval_days=interval,
        reference=reference_of(request),
        display=_display(request, concepts, pairs, agent, codesets),
        is_draft=draft,
        regimen=regimen,
        end=_end(request, dosage),
        family=codesets.medication_families.get(agent),
        dose_iu=_dose_iu(dosage),
    )


def _recognise(
    request: dict[str, Any], medications: dict[str, dict[str, Any]], codesets: Codesets
) -> tuple[str, Any, list[tuple[str, str]], Any] | None:
    """(agent, the concept that named it, its codings, what the chart calls the drug), or None when no code
    names an agent we know. For a Medication recognised by an ingredient, the chart's name is still the
    Medication's own code (its product name), not the ingredient's."""
    if "medicationCodeableConcept" in request:
        concept = request["medicationCodeableConcept"]
        pairs = codings(concept)
        agent = codesets.medications.find(pairs)
        return (agent, concept, pairs, concept) if agent is not None else None
    medication = _referenced_medication(request, medications)
    if medication is None:
        return None
    for concept in _medication_concepts(medication):
        pairs = codings(concept)
        agent = codesets.medications.find(pairs)
        if agent is not None:
            return agent, concept, pairs, medication.get("code")
    return None


def _medication_concepts(medication: dict[str, Any]) -> list[Any]:
    """The Medication's own code first, then each ingredient's code."""
    ingredients = [as_dict(i).get("itemCodeableConcept") for i in as_list(medication.get("ingredient"))]
    return [medication.get("code"), *[i for i in ingredients if i is not None]]


def _referenced_medication(
    request: dict[str, Any], medications: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """A contained Medication (`#id`), or one from the prefetch or the FHIR server, which may be referenced
    relatively (`Medication/id`), absolutely (`https://server/fhir/Medication/id`) or by version."""
    ref = as_dict(request.get("medicationReference")).get("reference")
    if not isinstance(ref, str):
        return None
    if ref.startswith("#"):
        for contained in as_list(request.get("contained")):
            if as_dict(contained).get("id") == ref[1:] and contained.get("resourceType") == "Medication":
                return as_dict(contained)
        return None
    parts = ref.split("/_history/", 1)[0].rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "Medication":
        return None
    found = medications.get(f"Medication/{parts[-1]}")
    return found if isinstance(found, dict) else None


def _display(
    request: dict[str, Any],
    concepts: tuple[Any, Any],
    pairs: list[tuple[str, str]],
    agent: str,
    codesets: Codesets,
) -> str:
    """What the chart calls the drug; else the name our code sets give the matched code; else the agent's
    drug name. Never the code-set key ("ici", "zoledronic_acid")."""
    matched, named = concepts
    own = display(named, "") or display(matched, "")
    if own:
        return own
    fallback = next((codesets.code_names[p] for p in pairs if p in codesets.code_names), None)
    return (
        fallback
        or text(as_dict(request.get("medicationReference")).get("display"), 120)
        or (codesets.medication_names.get(agent) or agent.replace("_", " "))
    )


def _regimen(
    agent: str,
    product: str | None,
    dose: float | None,
    interval: float | None,
    codesets: Codesets,
    t: Thresholds,
) -> Regimen:
    fixed = codesets.medication_regimens.get(agent)
    by_product = codesets.product_regimens.get(product) if product else None
    return classify_regimen(
        agent,
        fixed=_as_regimen(fixed),
        product=_as_regimen(by_product),
        dose_mg=dose,
        interval_days=interval,
        t=t,
    )


def _as_regimen(value: str | None) -> Regimen | None:
    if value == "oncology":
        return "oncology"
    if value == "osteoporosis":
        return "osteoporosis"
    return None


def _dose_mg(dosage: dict[str, Any]) -> float | None:
    for value, unit in _dose_quantities(dosage):
        factor = MASS_TO_MG.get(unit)
        if factor:
            return round(value * factor, 6)
    return None


def _dose_iu(dosage: dict[str, Any]) -> float | None:
    for value, unit in _dose_quantities(dosage):
        if unit in INTERNATIONAL_UNITS:
            return round(value, 6)
    return None


def _dose_quantities(dosage: dict[str, Any]) -> list[tuple[float, str]]:
    """(value, lower-case unit) of each readable doseQuantity; the UCUM code wins over the display unit."""
    found = []
    for rate in as_list(dosage.get("doseAndRate")):
        quantity = as_dict(as_dict(rate).get("doseQuantity"))
        value = quantity.get("value")
        unit = quantity.get("code") if isinstance(quantity.get("code"), str) else quantity.get("unit")
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e6:
            found.append((float(value), text(unit, 12).strip().lower()))
    return found


def _interval_days(dosage: dict[str, Any]) -> float | None:
    """Days between doses. Any periodUnit that is not one of the UCUM time codes (a number, an object, a
    list) reads as "not readable", never as an error: it must not take the chart down with it."""
    repeat = as_dict(as_dict(dosage.get("timing")).get("repeat"))
    frequency = repeat.get("frequency", 1)
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    days_per_unit = PERIOD_DAYS.get(unit) if isinstance(unit, str) else None
    if not isinstance(period, int | float) or isinstance(period, bool) or days_per_unit is None:
        return None
    if (
        not isinstance(frequency, int)
        or isinstance(frequency, bool)
        or frequency <= 0
        or not 0 < period < 1e5
    ):
        return None
    return round(period * days_per_unit / frequency, 3)


def _start(request: dict[str, Any], dosage: dict[str, Any]) -> date | None:
    bounds = as_dict(as_dict(dosage.get("timing")).get("repeat")).get("boundsPeriod")
    when = first_date(
        {"b": bounds, "v": as_dict(request.get("dispenseRequest")).get("validityPeriod")}, "b", "v"
    )
    return when.date() if when else parse_date(request.get("authoredOn"))


def _end(request: dict[str, Any], dosage: dict[str, Any]) -> date | None:
    """The stated end of supply: the dosage's boundsPeriod.end, else the dispense validity end."""
    bounds = as_dict(as_dict(as_dict(dosage.get("timing")).get("repeat")).get("boundsPeriod"))
    validity = as_dict(as_dict(request.get("dispenseRequest")).get("validityPeriod"))
    for value in (bounds.get("end"), validity.get("end")):
        when = parse_datetime(value)
        if when is not None:
            return when.date()
    return None


DENOSUMAB_PRODUCTS = {"oncology": "xgeva", "osteoporosis": "prolia"}
"""A denosumab order without a product code is named by its dose's regimen (rules read `product`)."""


def _product(agent: str, found: str | None, dose: float | None, t: Thresholds) -> str | None:
    """The product whose code the order carries (`xgeva`, `prolia`, `zometa`, `reclast`...). A denosumab
    order without one is named by its dose alone (120 mg Xgeva, 60 mg Prolia), never by its interval:
    DENOSUMAB-DOSE reads the interval separately."""
    if found:
        return found.split(":", 1)[1]
    if agent != "denosumab":
        return None
    by_dose = regimen_by_dose(agent, dose, t)
    return DENOSUMAB_PRODUCTS.get(by_dose) if by_dose is not None else None
