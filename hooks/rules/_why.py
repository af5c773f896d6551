"""Sentences several rules use to say why they stayed silent (`hooks/why_not.py`), written once so the same
situation reads the same on every rule of the bone health review's list.

Each names the decisive fact with its value and date, as a clinician would check it in the chart. They are
called only when someone listens (the rules pass them as callables), so they may take their time.
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir_mappings.facts import (
    CalciumAssessment,
    CareEvent,
    ClinicalFacts,
    Evidence,
    LabResult,
    MedicationFact,
)
from fhir_mappings.thresholds import Thresholds
from hooks.rules._course import current_course
from hooks.rules._shared import (
    PATIENT_VIEW,
    active_bmas,
    active_osteoporosis_bmas,
    bma_indicated,
    calcium_is_low,
    drafted_bmas,
    drafted_oncology_bmas,
    fmt_number,
    has_confirmed_bone_metastasis,
    life_expectancy_limitations,
    suspected_bone_metastases,
)

CALCIUM_NAMES = {
    "ionized": "Ionized calcium",
    "lab-corrected": "Corrected calcium",
    "albumin-corrected": "Corrected calcium",
    "total-uncorrected": "Total calcium (not corrected for albumin)",
}
ORDER_HOOK_ONLY = "Checked only when an order is drafted (order-select, order-sign), not at chart review"
CHART_REVIEW_ONLY = "Checked at chart review (patient-view) only"


EVENT_NAMES = {"mdt_review": "MDT review", "dental_exam": "oral examination"}


def then(first: str, rest: str) -> str:
    """One sentence of two: the rest starts in lower case unless it opens with an abbreviation (CrCl)."""
    word = rest.split(" ", 1)[0]
    plain = word == "A" or (word[:1].isupper() and word[1:] == word[1:].lower())
    return f"{first}: {rest[:1].lower() + rest[1:] if plain else rest}"


def names(orders: Iterable[MedicationFact]) -> str:
    return "; ".join(m.display for m in orders)


def lab_text(lab: LabResult) -> str:
    """As reported, with its date; a score's UCUM annotation ({score}) is not a unit a clinician reads."""
    unit = "" if lab.reported_unit.startswith("{") else f" {lab.reported_unit}"
    return f"{fmt_number(lab.reported_value)}{unit} on {lab.day.isoformat()}"


def calcium_text(calcium: CalciumAssessment) -> str:
    """Named by how it was measured, with its date: Corrected calcium 2.31 mmol/L on 2026-11-20."""
    name = CALCIUM_NAMES.get(calcium.basis, "Calcium")
    return f"{name} {fmt_number(calcium.value)} {calcium.unit} on {calcium.day.isoformat()}"


def event_text(event: CareEvent) -> str:
    """What, how recorded, when: radiotherapy consult (ServiceRequest active) on 2026-10-02."""
    when = event.last_day.isoformat() if event.last_day else "an unknown date"
    drafted = ", drafted now" if event.is_draft else ""
    name = EVENT_NAMES.get(event.kind, event.kind.replace("_", " "))
    return f"{name} ({event.resource_type} {event.status}{drafted}) on {when}"


def evidence_text(items: Iterable[Evidence]) -> str:
    return "; ".join(f"{e.label}: {e.value}" + (f" ({e.when.isoformat()})" if e.when else "") for e in items)


def no_confirmed_metastasis(facts: ClinicalFacts) -> str:
    suspected = suspected_bone_metastases(facts)
    if suspected:
        return f"Bone metastasis is suspected only, not confirmed ({names_of_conditions(facts)})"
    return "No confirmed bone metastasis on record"


def names_of_conditions(facts: ClinicalFacts) -> str:
    return "; ".join(c.display for c in suspected_bone_metastases(facts))


def limited_life_expectancy(facts: ClinicalFacts, t: Thresholds) -> str:
    limits = life_expectancy_limitations(facts, t)
    return f"Documented life expectancy under 3 months ({evidence_text(limits)})"


def why_bma_not_indicated(facts: ClinicalFacts, t: Thresholds) -> str:
    """Why Table 1's indication (confirmed metastasis, no BMA yet, life expectancy >= 3 months) fails."""
    if not has_confirmed_bone_metastasis(facts):
        return no_confirmed_metastasis(facts)
    active = active_bmas(facts)
    if active:
        return f"A bone-modifying drug is already active: {names(active)}"
    if life_expectancy_limitations(facts, t):
        return then(limited_life_expectancy(facts, t), "the consensus advises them from 3 months (Table 1)")
    return "A bone-modifying drug is indicated"


def low_calcium(facts: ClinicalFacts) -> str:
    calcium = facts.calcium
    if calcium is None:
        return "Calcium is low"
    return (
        f"{calcium_text(calcium)} is below the lower limit {fmt_number(calcium.low_limit)}: the hypocalcemia "
        "is corrected first (HYPOCALCEMIA-CORRECTION)"
    )


def why_not_being_started(facts: ClinicalFacts, t: Thresholds) -> str:
    """Why no BMA is "being started": patient-view, BMA-INITIATION does not fire; order hooks, no first dose
    is drafted."""
    if facts.hook != PATIENT_VIEW:
        return why_no_first_dose(facts, t)
    if not bma_indicated(facts, t):
        return why_bma_not_indicated(facts, t)
    if calcium_is_low(facts):
        return low_calcium(facts)
    return "A bone-modifying drug is being started"


def no_bma_on_or_starting(facts: ClinicalFacts, t: Thresholds) -> str:
    """Patient-view: no BMA active and none being started, with why not started."""
    osteoporosis = active_osteoporosis_bmas(facts)
    first = "No bone-modifying drug active or being started"
    if osteoporosis:
        first += f" ({names(osteoporosis)} is an osteoporosis regimen, not treatment of bone metastasis)"
    return then(first, why_not_being_started(facts, t))


def why_no_first_dose(facts: ClinicalFacts, t: Thresholds) -> str:
    """Order hooks, 7.3.21: no oncology BMA drafted, or a course is current so the draft continues it."""
    if not drafted_oncology_bmas(facts):
        return no_oncology_draft(facts)
    course = current_course(facts, t)
    gap = fmt_number(t["bma_course_gap_days"])
    if course is None:
        return "A first dose of a bone-modifying drug is drafted"
    if course.is_active:
        since = f" since {course.first_dose.isoformat()}" if course.first_dose else ""
        return f"Not a first dose: a bone-modifying course is active{since} ({names(course.orders)})"
    ended = course.ended.isoformat() if course.ended else "an unknown date"
    return f"Not a first dose: the last bone-modifying course ended on {ended}, within {gap} days"


def no_oncology_draft(facts: ClinicalFacts) -> str:
    others = drafted_bmas(facts)
    if others:
        return f"No oncology-regimen bone-modifying drug is being ordered ({names(others)}: osteoporosis)"
    return "No bone-modifying drug among the orders being checked"
