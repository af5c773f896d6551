"""BMA-DURATION-REVIEW (consensus Table 1 treatment duration, section 7): "Bone-modifying drugs are
recommended for patients with a life expectancy of at least 3 months, and the treatment duration is
recommended at 18 to 24 months depending on the patients' tolerance and benefit. The total treatment
duration may be prolonged by extending the treatment interval according to clinical judgment"; section 7:
"the expert group has given a recommended treatment duration of less than 2 years."

Inclusion: patient-view, an oncology-regimen (or unknown-regimen) BMA active. The duration is measured from
the first dose of the **current continuous course** (RULES.md 7.2.11, `hooks/rules/_course.py`): oncology
orders of any agent with gaps of at most `bma_course_gap_days`; an osteoporosis regimen never counts, and
a course stopped long ago does not start today's clock.

Decision, first match:
- `limited-life-expectancy` (info): documented life expectancy under 3 months or hospice while a BMA is
  active: review whether to continue (Table 1 recommends BMAs for a life expectancy of at least 3 months);
- `extended-interval` (info): `bma_duration_warning_months` or more, and the active order is already given
  every `bma_extended_interval_days` (12 weeks) or less often: the continuation Table 1 allows;
- `long-term` (warning): `bma_duration_warning_months` or more;
- `review` (info): `bma_duration_review_months` or more.
No suggestions: continuing, spacing or stopping is the clinician's decision.

Decisions beyond the catalog: orders never given (draft, cancelled, entered-in-error) do not start the clock;
when the course's first dose is undated the duration is unknown and only the life-expectancy variant can
fire (it does not need a duration).
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding, Indicator
from hooks.rule_registry import rule
from hooks.rules._course import Course, current_course
from hooks.rules._shared import (
    PATIENT_VIEW,
    fmt_number,
    life_expectancy_limitations,
    medication_evidence,
    months_between,
    regimen_note,
)
from hooks.rules._why import CHART_REVIEW_ONLY
from hooks.why_not import not_fired

RULE_ID = "BMA-DURATION-REVIEW"


def course_under_treatment(facts: ClinicalFacts, t: Thresholds) -> Course | None:
    """Inclusion: patient-view and an oncology (or unknown-regimen) BMA active in the current course."""
    if facts.hook != PATIENT_VIEW:
        return None
    course = current_course(facts, t)
    return course if course is not None and course.is_active else None


def has_extended_interval(course: Course, t: Thresholds) -> bool:
    """Every active order of the course is given every 12 weeks or less often (Table 1's continuation)."""
    active = [m for m in course.orders if m.is_active]
    return bool(active) and all(
        m.interval_days is not None and m.interval_days >= t["bma_extended_interval_days"] for m in active
    )


def variant_for(months: float | None, limited: bool, extended: bool, t: Thresholds) -> str | None:
    """Decision (see the module docstring), most pressing reason first."""
    if limited:
        return "limited-life-expectancy"
    if months is None or months < t["bma_duration_review_months"]:
        return None
    if months >= t["bma_duration_warning_months"]:
        return "extended-interval" if extended else "long-term"
    return "review"


INDICATORS: dict[str, Indicator] = {
    "limited-life-expectancy": "info",
    "extended-interval": "info",
    "long-term": "warning",
    "review": "info",
}


@rule(RULE_ID, consensus_section="Table 1, 7", needs=("MedicationRequest",))
def bma_duration_review(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-DURATION-REVIEW (consensus Table 1, section 7): review BMA treatment after 18-24 months."""
    course = course_under_treatment(facts, t)
    if course is None:
        return not_fired(lambda: _no_course(facts, t))
    limits = life_expectancy_limitations(facts, t)
    start = course.first_dose
    months = months_between(start, facts.today) if start is not None else None
    variant = variant_for(months, bool(limits), has_extended_interval(course, t), t)
    if variant is None:
        return not_fired(lambda: _too_early(start, months, t))
    return Finding(
        rule_id=RULE_ID,
        indicator=INDICATORS[variant],
        variant=variant,
        values={
            "months": str(int(months)) if months is not None else "an unknown number of",
            "since": start.isoformat() if start is not None else "an undated first dose",
            "review_months": fmt_number(t["bma_duration_review_months"]),
            "warning_months": fmt_number(t["bma_duration_warning_months"]),
            "interval_weeks": fmt_number(t["bma_extended_interval_days"] / 7),
            "gap_days": fmt_number(t["bma_course_gap_days"]),
            "regimen_note": regimen_note(course.orders),
        },
        evidence=(*(medication_evidence(m) for m in _by_start(course.orders)), *limits),
    )


def _by_start(orders: tuple[MedicationFact, ...]) -> list[MedicationFact]:
    return sorted(orders, key=lambda m: m.start or m.authored or date.max)


def _no_course(facts: ClinicalFacts, t: Thresholds) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    course = current_course(facts, t)
    if course is not None and course.ended is not None:
        return f"No bone-modifying drug active: the last course ended on {course.ended.isoformat()}"
    return "No bone-modifying drug active at the oncology regimen"


def _too_early(start: date | None, months: float | None, t: Thresholds) -> str:
    review = fmt_number(t["bma_duration_review_months"])
    if start is None or months is None:
        return (
            "The first dose of the current course is undated, so its duration is unknown; no documented life "
            "expectancy under 3 months"
        )
    whole = int(months)
    span = "Less than a month" if whole < 1 else f"{whole} month{'s' if whole > 1 else ''}"
    return (
        f"{span} of treatment since the first dose on {start.isoformat()}: review from {review} months; "
        "no documented life expectancy under 3 months"
    )
