"""RULES.md 7.1.6 in the imaging rules (BASELINE-BONE-SCAN, BONE-SCAN-FOLLOWUP, BONE-IMAGING-WORKUP): only
imaging done answers a question; imaging ordered (pending) or booked is not suggested again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hooks.rules.baseline_bone_scan import baseline_bone_scan
from hooks.rules.bone_imaging_workup import bone_imaging_workup
from hooks.rules.bone_scan_followup import bone_scan_followup
from tests.rules.bma_card_checks import evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, condition, event, facts, imaging, lung_cancer

BONE_SCAN, MRI, SITE = "imaging_bone_scan_whole_body", "imaging_mri_spine", "imaging_xray_ct_site"


def ordered(kind, status="active", **kw):
    return event(kind, days=1, status=status, resource_type="ServiceRequest", **kw)


def booked(*modalities, regions=()):
    return replace(imaging(*modalities, days=-3, regions=regions), state="pending")


@pytest.mark.parametrize(
    "pending",
    [
        {"events": [ordered("bone_scan")]},
        {"events": [ordered("bone_scan", status="on-hold")]},
        {"imaging_studies": [booked("NM")]},
    ],
    ids=["ordered", "on-hold", "booked"],
)
def test_baseline_scan_already_ordered_or_booked_no_card(pending):
    assert baseline_bone_scan(facts(**pending), THRESHOLDS) is None


def test_baseline_scan_order_drafted_now_no_card():
    """order-select/-sign drafts are pending too; in patient-view a chart draft ServiceRequest is."""
    assert baseline_bone_scan(facts(events=[ordered("bone_scan", status="draft")]), THRESHOLDS) is None


@pytest.mark.parametrize(("days", "fires"), [(30, False), (400, True)])
def test_completed_bone_scan_order_counts_as_done_after_the_diagnosis(days, fires):
    """7.1.6: a bone-scan ServiceRequest `completed` is a scan done (study not in the chart); one from
    before the diagnosis (lung cancer 200 days ago) is not the baseline."""
    done = event("bone_scan", days=days, status="completed", resource_type="ServiceRequest")
    assert (baseline_bone_scan(facts(events=[done]), THRESHOLDS) is not None) is fires


@pytest.mark.parametrize(("days", "fires"), [(100, False), (420, True)])
def test_completed_bone_scan_order_resets_the_follow_up(days, fires):
    done = event("bone_scan", days=days, status="completed", resource_type="ServiceRequest")
    patient = facts(
        with_lung_cancer=False,
        conditions=[lung_cancer(days=800)],
        imaging_studies=[imaging("NM", days=430)],
        events=[done],
    )
    assert (bone_scan_followup(patient, THRESHOLDS) is not None) is fires


def test_follow_up_scan_already_ordered_no_card():
    patient = facts(
        with_lung_cancer=False,
        conditions=[lung_cancer(days=800)],
        imaging_studies=[imaging("NM", days=430)],
        events=[ordered("bone_scan")],
    )
    assert bone_scan_followup(patient, THRESHOLDS) is None


def test_follow_up_booked_study_is_not_the_last_scan_done():
    """Last scan done 430 days ago and one only `registered` yesterday: still due... but booked, no card."""
    patient = facts(
        with_lung_cancer=False,
        conditions=[lung_cancer(days=800)],
        imaging_studies=[imaging("NM", days=430), booked("NM")],
    )
    assert bone_scan_followup(patient, THRESHOLDS) is None


def hip_pain():
    return replace(condition("bone_pain", code="12584003", days=5), regions=frozenset({"pelvis_hip"}))


def test_work_up_with_bone_scan_ordered_keeps_the_card_and_drops_that_suggestion():
    scan = ordered("bone_scan")
    finding = bone_imaging_workup(facts(conditions=[hip_pain()], events=[scan]), THRESHOLDS)
    assert order_keys(finding) == [[SITE]]
    assert scan.reference in evidence_refs(finding)


def test_work_up_with_everything_ordered_has_no_suggestions_but_still_fires():
    events = [ordered("bone_scan"), ordered("site_imaging")]
    finding = bone_imaging_workup(facts(conditions=[hip_pain()], events=events), THRESHOLDS)
    assert finding is not None and finding.suggestions == ()


def test_cord_compression_work_up_with_spine_mri_booked():
    scc = condition("spinal_cord_compression", code="G95.20", days=2)
    finding = bone_imaging_workup(
        facts(conditions=[scc], imaging_studies=[booked("MR", regions=("spine",))]), THRESHOLDS
    )
    assert finding.indicator == "critical" and order_keys(finding) == [[BONE_SCAN]]


def test_booked_study_at_another_site_does_not_count_as_the_spine_mri():
    scc = condition("spinal_cord_compression", code="G95.20", days=2)
    finding = bone_imaging_workup(
        facts(conditions=[scc], imaging_studies=[booked("MR", regions=("pelvis_hip",))]), THRESHOLDS
    )
    assert order_keys(finding) == [[MRI], [BONE_SCAN]]
