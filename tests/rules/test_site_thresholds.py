"""A site's thresholds reach every shared question a rule asks ("being started", "life expectancy under 3
months", "first dose"): these helpers once defaulted to the shipped thresholds when a rule forgot to pass
its own, so a site's longer life-expectancy window or course gap changed some cards and not others."""

from __future__ import annotations

import pytest

from fhir_mappings.thresholds import Threshold, Thresholds
from hooks.rules.bma_initiation import bma_initiation
from hooks.rules.bma_pretreatment_workup import bma_pretreatment_workup
from hooks.rules.calcium_vitamin_d import calcium_vitamin_d
from hooks.rules.denosumab_renal_risk import denosumab_renal_risk
from hooks.rules.hypocalcemia_correction import hypocalcemia_correction
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    coded,
    crcl,
    denosumab,
    facts,
    zoledronic_acid,
)

PATIENT_VIEW_RULES = {
    "BMA-INITIATION": bma_initiation,
    "BMA-PRETREATMENT-WORKUP": bma_pretreatment_workup,
    "CALCIUM-VITAMIN-D": calcium_vitamin_d,
    "DENOSUMAB-RENAL-RISK": denosumab_renal_risk,
}


def site_setting(name: str, value: float) -> Thresholds:
    entries = {n: THRESHOLDS.entry(n) for n in THRESHOLDS.names()}
    entries[name] = Threshold(name, value, entries[name].unit, "site setting (test)")
    return Thresholds(entries)


LONGER_ASSESSMENT_WINDOW = site_setting("life_expectancy_assessment_days", 180)


def assessed_120_days_ago(calcium_status=None):
    """Confirmed bone metastasis, severe renal impairment, "life expectancy under 3 months" 120 days ago:
    expired under the shipped 90-day window, still valid under a site's 180 days."""
    return facts(
        conditions=[bone_metastasis()],
        coded_results=[coded("life_expectancy_under_3_months", "true", days=120)],
        calcium_status=calcium_status or calcium(9.3),
        clearance=crcl(20),
    )


@pytest.mark.parametrize("rule_id", sorted(PATIENT_VIEW_RULES))
def test_expired_assessment_under_shipped_window_lets_the_start_cards_fire(rule_id):
    finding = PATIENT_VIEW_RULES[rule_id](assessed_120_days_ago(), THRESHOLDS)
    assert finding is not None and finding.rule_id == rule_id


@pytest.mark.parametrize("rule_id", sorted(PATIENT_VIEW_RULES))
def test_site_window_keeps_the_assessment_valid_so_no_start_card(rule_id):
    assert PATIENT_VIEW_RULES[rule_id](assessed_120_days_ago(), LONGER_ASSESSMENT_WINDOW) is None


@pytest.mark.parametrize(("t", "fires"), [(THRESHOLDS, True), (LONGER_ASSESSMENT_WINDOW, False)])
def test_hypocalcemia_correction_reads_the_site_window(t, fires):
    """No BMA yet: hypocalcemia matters because a BMA is indicated, which the site window decides."""
    patient = assessed_120_days_ago(calcium_status=calcium(7.6))
    assert (hypocalcemia_correction(patient, t) is not None) is fires


@pytest.mark.parametrize(("gap_days", "fires"), [(90, True), (180, False)])
def test_first_dose_reads_the_site_course_gap(gap_days, fires):
    """Order-sign: zoledronic acid stopped 120 days ago, redrafted. A first dose under the shipped 90-day
    gap (work-up asked for); the same course under a site's 180 days (no work-up card)."""
    stopped = zoledronic_acid(status="stopped", days=300, end_days=120)
    patient = facts(
        hook="order-sign",
        conditions=[bone_metastasis()],
        medications=[stopped],
        drafts=[zoledronic_acid(draft=True, days=0)],
    )
    finding = bma_pretreatment_workup(patient, site_setting("bma_course_gap_days", gap_days))
    assert (finding is not None) is fires


def test_denosumab_renal_risk_start_reads_the_site_window_not_only_active_orders():
    """An active denosumab order keeps the card whatever the life-expectancy window (the drug's risk)."""
    patient = facts(
        conditions=[bone_metastasis()],
        coded_results=[coded("life_expectancy_under_3_months", "true", days=120)],
        medications=[denosumab()],
        clearance=crcl(20),
    )
    assert denosumab_renal_risk(patient, LONGER_ASSESSMENT_WINDOW) is not None
