"""ORAL-EXAM (consensus Table 1 precautions, 6.3.3): "It is recommended to perform an appropriate oral
examination cooperating with the stomatology department in advance"; 6.3.3: "As the occurrence of ONJ is
associated with oral infection (or other risk factors), a comprehensive oral examination is recommended at
least every 6 months".

A dental exam is a done `dental_exam` care event (RULES.md 7.1.6: a Procedure `completed` or an
Encounter `finished`, e.g. a dental visit coded CDT D0120 on Encounter.type), or a stomatology referral
ServiceRequest `completed`, within `dental_exam_interval_days`. Patient-view: a BMA active (info,
`on-treatment`) or being started (warning, `first-dose`). Order hooks: a first dose drafted (warning,
`first-dose`); repeat doses are left to the patient-view check. Suggests a stomatology referral.

Decision beyond the catalog:
- When a stomatology referral is already pending (a ServiceRequest active, on-hold or draft, or drafted
  now), the card still fires (the exam has not happened) but suggests no second referral; the pending one
  is shown.
- A referral recorded as a Procedure ("patient referral for dental care", completed) records that the
  referral was made, not that the mouth was examined: only a completed referral ServiceRequest counts as an
  exam, as the catalog says.
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    active_bmas,
    bma_being_started,
    condition_evidence,
    confirmed_bone_metastases,
    days_since,
    done_events,
    drafted_bmas,
    fmt_number,
    hypercalcemia_treatment_drafted,
    is_first_dose_ordered,
    is_order_hook,
    medication_evidence,
    pending_events,
)
from hooks.rules._why import no_bma_on_or_starting, why_no_first_dose
from hooks.why_not import not_fired

RULE_ID = "ORAL-EXAM"
EXAM_KIND, REFERRAL_KIND = "dental_exam", "stomatology_referral"
DAYS_PER_MONTH = 30.436875
REFERRAL = SuggestionSpec(
    "Referral to stomatology for oral examination",
    (
        ActionSpec(
            "create",
            order_key="referral_stomatology",
            reason="Oral examination before and during bone-modifying therapy (consensus Table 1, 6.3.3)",
        ),
    ),
)


def completed_exams(facts: ClinicalFacts) -> tuple[CareEvent, ...]:
    """Done dental exams, or completed stomatology referral ServiceRequests, with a date, newest first."""
    referrals = [e for e in done_events(facts, REFERRAL_KIND) if e.resource_type == "ServiceRequest"]
    exams = [e for e in (*done_events(facts, EXAM_KIND), *referrals) if e.day]
    return tuple(sorted(exams, key=lambda e: e.day or date.min, reverse=True))


def has_recent_exam(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Exclusion: an exam within the interval (consensus 6.3.3: at least every 6 months)."""
    window = t["dental_exam_interval_days"]
    return any(0 <= (days_since(facts, e.day) or 0) <= window for e in completed_exams(facts))


def pending_referrals(facts: ClinicalFacts) -> tuple[CareEvent, ...]:
    """Stomatology referrals ordered (or being ordered now) but not completed (7.1.6 pending)."""
    return pending_events(facts, REFERRAL_KIND)


def variant_for(facts: ClinicalFacts, t: Thresholds) -> str | None:
    """Inclusion: which situation applies, or None when the rule does not apply.

    RULES.md 7.3.23: a first dose of a bisphosphonate drafted to treat hypercalcemia of malignancy (grade
    >= 2) is `hypercalcemia-first-dose`, info: the exam must not delay treating the hypercalcemia.
    """
    if is_order_hook(facts):
        if not is_first_dose_ordered(facts, t):
            return None
        return "hypercalcemia-first-dose" if hypercalcemia_treatment_drafted(facts, t) else "first-dose"
    if active_bmas(facts):
        return "on-treatment"
    return "first-dose" if bma_being_started(facts, t) else None


@rule(
    RULE_ID,
    consensus_section="Table 1, 6.3.3",
    needs=("Observation", "MedicationRequest", "Procedure", "Encounter", "ServiceRequest"),
)
def oral_exam(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """ORAL-EXAM (consensus Table 1, 6.3.3): oral exam before a BMA and at least every 6 months on it."""
    variant = variant_for(facts, t)
    if variant is None or has_recent_exam(facts, t):
        return not_fired(lambda: _why_not(facts, t, variant))
    last = next(iter(completed_exams(facts)), None)
    pending = pending_referrals(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if variant == "first-dose" else "info",
        variant=variant,
        values={
            "interval_months": fmt_number(round(t["dental_exam_interval_days"] / DAYS_PER_MONTH)),
            "last_exam": last.day.isoformat() if last and last.day else "none on record",
        },
        evidence=(*_evidence(facts, last, pending), *_calcium_evidence(facts, variant)),
        suggestions=() if pending else (REFERRAL,),
        selection_behavior="any",
    )


def _evidence(
    facts: ClinicalFacts, last: CareEvent | None, pending: tuple[CareEvent, ...]
) -> tuple[Evidence, ...]:
    bmas = tuple(medication_evidence(m) for m in (*active_bmas(facts), *drafted_bmas(facts)))
    if not bmas:  # about to start in patient-view: the indication is the evidence
        bmas = tuple(
            condition_evidence("Confirmed bone metastasis", c) for c in confirmed_bone_metastases(facts)
        )
    exam = (
        (Evidence("Last oral examination", last.kind.replace("_", " "), last.day, last.reference),)
        if last
        else ()
    )
    waiting = tuple(Evidence("Stomatology referral pending", e.status, e.day, e.reference) for e in pending)
    return bmas + exam + waiting


def _calcium_evidence(facts: ClinicalFacts, variant: str) -> tuple[Evidence, ...]:
    """The hypercalcemia that makes the exam wait (7.3.23) is shown with the card that says so."""
    if variant != "hypercalcemia-first-dose" or facts.calcium is None:
        return ()
    return facts.calcium.evidence


def _why_not(facts: ClinicalFacts, t: Thresholds, variant: str | None) -> str:
    if variant is None:
        return why_no_first_dose(facts, t) if is_order_hook(facts) else no_bma_on_or_starting(facts, t)
    window = t["dental_exam_interval_days"]
    exam = next(e for e in completed_exams(facts) if 0 <= (days_since(facts, e.day) or 0) <= window)
    what = "Oral examination" if exam.kind == EXAM_KIND else "Stomatology referral completed"
    when = exam.day.isoformat() if exam.day else "an unknown date"
    return f"{what} on {when} ({exam.resource_type} {exam.status}), within {fmt_number(window)} days"
