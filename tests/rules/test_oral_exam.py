"""ORAL-EXAM (consensus Table 1 precautions, 6.3.3): oral examination before and during BMA treatment."""

from __future__ import annotations

import pytest

from hooks.rules.oral_exam import oral_exam
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    denosumab,
    event,
    facts,
    zoledronic_acid,
)

RULE = "ORAL-EXAM"


def test_on_treatment_without_exam_is_info():
    """On denosumab with no oral examination on record: refer to stomatology (info)."""
    drug = denosumab()
    finding = oral_exam(facts(medications=[drug]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "on-treatment")
    assert order_keys(finding) == [["referral_stomatology"]]
    assert finding.suggestions[0].actions[0].type == "create"
    assert finding.values["last_exam"] == "none on record" and finding.values["interval_months"] == "6"
    assert drug.reference in evidence_refs(finding)


def test_being_started_without_exam_is_a_warning():
    """Confirmed bone metastasis about to start a BMA, no dental exam: examine before the first dose."""
    finding = oral_exam(facts(conditions=[bone_metastasis()], calcium_status=calcium(9.4)), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "first-dose")


def test_recent_dental_exam_no_card():
    """On denosumab with a dental examination 100 days ago: up to date."""
    assert (
        oral_exam(facts(medications=[denosumab()], events=[event("dental_exam", days=100)]), THRESHOLDS)
        is None
    )


def test_completed_stomatology_referral_counts_as_exam():
    """A stomatology referral completed 30 days ago counts as the oral examination."""
    referral = event("stomatology_referral", days=30, resource_type="ServiceRequest")
    assert oral_exam(facts(medications=[denosumab()], events=[referral]), THRESHOLDS) is None


def test_exam_older_than_six_months_fires_and_shows_it():
    """The last dental examination was 300 days ago: another is due, and the card shows the old one."""
    old = event("dental_exam", days=300)
    finding = oral_exam(facts(medications=[zoledronic_acid()], events=[old]), THRESHOLDS)
    assert finding.variant == "on-treatment"
    assert finding.values["last_exam"] == old.day.isoformat()
    assert old.reference in evidence_refs(finding)


def test_exam_not_completed_does_not_count():
    """A dental exam recorded as in-progress or without a date is not a completed examination."""
    unfinished = event("dental_exam", days=20, status="in-progress")
    assert oral_exam(facts(medications=[denosumab()], events=[unfinished]), THRESHOLDS) is not None


def test_pending_referral_fires_without_a_second_referral():
    """A stomatology referral ordered but not done: the exam is still due; no duplicate referral."""
    pending = event("stomatology_referral", days=10, status="active", resource_type="ServiceRequest")
    finding = oral_exam(facts(medications=[denosumab()], events=[pending]), THRESHOLDS)
    assert finding is not None and finding.suggestions == ()
    assert pending.reference in evidence_refs(finding)


def test_no_bma_no_card():
    """Lung cancer without bone metastasis or BMA: no dental card."""
    assert oral_exam(facts(), THRESHOLDS) is None


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_first_dose_drafted_without_exam_is_a_warning(hook):
    """Denosumab drafted as a first dose with no dental exam: examine before it is given."""
    draft = denosumab(draft=True, days=0)
    finding = oral_exam(facts(hook=hook, conditions=[bone_metastasis()], drafts=[draft]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "first-dose")
    assert order_keys(finding) == [["referral_stomatology"]]
    assert draft.reference in evidence_refs(finding)


def test_repeat_dose_drafted_no_card():
    """A repeat denosumab dose drafted while on it: the order hooks check first doses only."""
    patient = facts(hook="order-sign", medications=[denosumab()], drafts=[denosumab(draft=True, days=0)])
    assert oral_exam(patient, THRESHOLDS) is None


def test_referral_drafted_with_the_first_dose_is_not_suggested_again():
    """A stomatology referral drafted together with the first dose: warning stays, no duplicate referral."""
    referral = event(
        "stomatology_referral", days=0, status="draft", resource_type="ServiceRequest", draft=True
    )
    patient = facts(hook="order-sign", drafts=[denosumab(draft=True, days=0)], draft_events=[referral])
    finding = oral_exam(patient, THRESHOLDS)
    assert finding.indicator == "warning" and finding.suggestions == ()


def test_hypercalcemia_first_dose_of_zoledronic_acid_is_info_and_not_to_delay():
    """7.3.23: zoledronic acid drafted for grade-2 hypercalcemia, no exam: info, do not delay treatment."""
    patient = facts(
        hook="order-sign", drafts=[zoledronic_acid(draft=True)], calcium_status=calcium(12.0, grade=2)
    )
    finding = oral_exam(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "hypercalcemia-first-dose")
    assert patient.calcium.evidence[0].reference in evidence_refs(finding)
    assert order_keys(finding) == [["referral_stomatology"]]


def test_denosumab_first_dose_with_hypercalcemia_stays_a_warning():
    """A denosumab first dose with hypercalcemia stays a warning (not a labelled bisphosphonate)."""
    patient = facts(hook="order-sign", drafts=[denosumab(draft=True)], calcium_status=calcium(12.0, grade=2))
    assert oral_exam(patient, THRESHOLDS).variant == "first-dose"


def test_switch_within_90_days_of_a_stop_is_not_a_first_dose():
    """7.3.21: zoledronic acid stopped 30 days ago, denosumab drafted: course goes on, not a first dose."""
    stopped = zoledronic_acid(status="stopped", days=60, end_days=30)
    patient = facts(hook="order-sign", medications=[stopped], drafts=[denosumab(draft=True)])
    assert oral_exam(patient, THRESHOLDS) is None


def test_restart_after_a_long_gap_is_a_first_dose():
    """7.3.21: zoledronic acid ended 200 days ago; denosumab drafted: a first dose of the new agent."""
    stopped = zoledronic_acid(status="stopped", days=400, end_days=200)
    patient = facts(hook="order-sign", medications=[stopped], drafts=[denosumab(draft=True)])
    assert oral_exam(patient, THRESHOLDS).variant == "first-dose"


def test_prolia_active_does_not_make_an_xgeva_draft_a_renewal():
    """7.3.21: only an oncology regimen makes a course: Xgeva drafted on Prolia is a first dose."""
    prolia = denosumab(dose_mg=60, interval_days=183, product="prolia")
    patient = facts(hook="order-sign", medications=[prolia], drafts=[denosumab(draft=True)])
    assert oral_exam(patient, THRESHOLDS).variant == "first-dose"


def test_template_fits_every_variant():
    """The ORAL-EXAM template words every variant within 140 characters."""
    old = event("dental_exam", days=400)
    high = calcium(12.0, grade=2)
    findings = [
        oral_exam(facts(medications=[denosumab()], events=[old]), THRESHOLDS),
        oral_exam(facts(conditions=[bone_metastasis()], events=[old]), THRESHOLDS),
        oral_exam(
            facts(hook="order-sign", drafts=[zoledronic_acid(draft=True)], calcium_status=high, events=[old]),
            THRESHOLDS,
        ),
    ]
    assert_template_fits(RULE, findings)


def test_uncorrected_calcium_in_grade_2_range_is_not_a_hypercalcemia_first_dose():
    """7.3.23 needs a corrected (graded) calcium: uncorrected 12.0 mg/dL keeps the first-dose warning."""
    uncorrected = calcium(12.0, grade=2, basis="total-uncorrected")
    patient = facts(hook="order-sign", drafts=[zoledronic_acid(draft=True)], calcium_status=uncorrected)
    assert oral_exam(patient, THRESHOLDS).variant == "first-dose"
