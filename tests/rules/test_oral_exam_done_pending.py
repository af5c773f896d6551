"""ORAL-EXAM with RULES.md 7.1.6: which records count as an oral examination done."""

from __future__ import annotations

from hooks.rules.oral_exam import oral_exam
from tests.rules.factories import THRESHOLDS, denosumab, event, facts


def test_finished_dental_encounter_counts_as_the_exam():
    """On denosumab, a dental visit (Encounter finished 2 months ago, CDT D0120): no card."""
    visit = event("dental_exam", days=60, status="finished", resource_type="Encounter")
    assert oral_exam(facts(medications=[denosumab()], events=[visit]), THRESHOLDS) is None


def test_dental_encounter_still_in_progress_is_not_yet_an_exam_done():
    visit = event("dental_exam", days=0, status="in-progress", resource_type="Encounter")
    assert oral_exam(facts(medications=[denosumab()], events=[visit]), THRESHOLDS) is not None


def test_referral_recorded_as_a_completed_procedure_is_not_an_exam():
    """Synthea-style "Patient referral for dental care" Procedure: the referral was made, not the exam."""
    referral = event("stomatology_referral", days=30, status="completed", resource_type="Procedure")
    assert oral_exam(facts(medications=[denosumab()], events=[referral]), THRESHOLDS) is not None
