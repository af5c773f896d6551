"""BONE-SCAN-FOLLOWUP (consensus 5.1.4): bone monitoring once or twice a year (default every 12 months)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hooks.rules._shared import add_months
from hooks.rules.bone_scan_followup import bone_scan_followup
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import NOW, THRESHOLDS, bone_metastasis, facts, imaging, lung_cancer

RULE = "BONE-SCAN-FOLLOWUP"
# Exactly 12 calendar months before NOW (2026-11-23) is 2025-11-23.
TWELVE_MONTHS_DAYS = (NOW.date() - add_months(NOW.date(), -12)).days


def scanned(days, **kw):
    """Lung cancer diagnosed 800 days ago and a bone scan `days` ago."""
    return facts(
        with_lung_cancer=False,
        conditions=[lung_cancer(days=800), *kw.pop("conditions", ())],
        imaging_studies=[imaging("NM", days=days)],
        **kw,
    )


def test_scan_fourteen_months_ago_fires():
    patient = scanned(430)
    finding = bone_scan_followup(patient, THRESHOLDS)
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert order_keys(finding) == [["imaging_bone_scan_whole_body"]]
    assert patient.imaging[0].reference in evidence_refs(finding)


@pytest.mark.parametrize(("offset", "fires"), [(-1, False), (0, False), (1, True)])
def test_twelve_month_boundary(offset, fires):
    """A scan exactly 12 calendar months ago is due today, not overdue; one day more fires."""
    assert TWELVE_MONTHS_DAYS == 365
    assert (bone_scan_followup(scanned(TWELVE_MONTHS_DAYS + offset), THRESHOLDS) is not None) is fires


def test_due_date_shown():
    finding = bone_scan_followup(scanned(TWELVE_MONTHS_DAYS + 1), THRESHOLDS)
    assert finding.values["due"] == (NOW.date() - timedelta(days=1)).isoformat()


def test_confirmed_bone_metastasis_no_card():
    assert bone_scan_followup(scanned(500, conditions=[bone_metastasis()]), THRESHOLDS) is None


def test_suspected_metastasis_still_monitored():
    assert bone_scan_followup(scanned(500, conditions=[bone_metastasis("suspected")]), THRESHOLDS) is not None


def test_no_scan_since_diagnosis_is_left_to_baseline():
    """No bone scan since the diagnosis: BASELINE-BONE-SCAN fires instead, not this card."""
    assert bone_scan_followup(facts(), THRESHOLDS) is None


def test_outside_source_named():
    finding = bone_scan_followup(scanned(400), THRESHOLDS)
    assert finding.outside_sources[0].startswith("follow-up every 12 months: consensus 5.1.4")


def test_template_fits():
    assert_template_fits(RULE, [bone_scan_followup(scanned(790), THRESHOLDS)])
