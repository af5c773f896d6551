"""SPINAL-CORD-COMPRESSION (consensus 6.6.2, Fig. 3): G95.2 or ESCC 2-3 critical, 1c warning, 0-1b none."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fhir_mappings.thresholds import Threshold, Thresholds
from hooks.rules.spinal_cord_compression import spinal_cord_compression
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, coded, condition, event, facts, imaging

RULE = "SPINAL-CORD-COMPRESSION"
ALL_ORDERS = [["imaging_mri_spine"], ["referral_spine_surgery"], ["referral_radiotherapy_urgent"]]


def graded(grade, **kw):
    return facts(coded_results=[coded("escc_grade", grade, days=2)], **kw)


def test_g952_condition_fires_critical_with_three_orders():
    """Cord compression coded G95.20, no spine MRI: critical; MRI, spine surgery and radiotherapy."""
    scc = condition("spinal_cord_compression", code="G95.20", days=1)
    finding = spinal_cord_compression(facts(conditions=[scc]), THRESHOLDS)
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "critical", "compression")
    assert order_keys(finding) == ALL_ORDERS
    assert scc.reference in evidence_refs(finding)
    assert finding.values["escc"] == "not recorded"


@pytest.mark.parametrize(
    ("grade", "expected"),
    [("0", None), ("1a", None), ("1b", None), ("1c", "warning"), ("2", "critical"), ("3", "critical")],
)
def test_escc_grades(grade, expected):
    """Fig. 3: 0-1b no card, 1c (cord abutment) warning, 2-3 (compression) critical."""
    finding = spinal_cord_compression(graded(grade), THRESHOLDS)
    assert (None if finding is None else finding.indicator) == expected


def test_escc_evidence_reference():
    patient = graded("2")
    finding = spinal_cord_compression(patient, THRESHOLDS)
    assert patient.latest_coded("escc_grade").reference in evidence_refs(finding)


def test_recent_spine_mri_drops_mri_suggestion():
    """A spine MRI 3 days ago: no new MRI, the consults remain."""
    mri = imaging("MR", days=3, regions=("spine",))
    finding = spinal_cord_compression(graded("2", imaging_studies=[mri]), THRESHOLDS)
    assert order_keys(finding) == ALL_ORDERS[1:]
    assert mri.reference in evidence_refs(finding)


@pytest.mark.parametrize(("days", "suggested"), [(7, False), (8, True)])
def test_mri_window_boundary(days, suggested):
    """A spine MRI 7 days ago is within the window; 8 days ago is not."""
    mri = imaging("MR", days=days, regions=("spine",))
    finding = spinal_cord_compression(graded("3", imaging_studies=[mri]), THRESHOLDS)
    assert (["imaging_mri_spine"] in order_keys(finding)) is suggested


def test_mr_of_unknown_region_does_not_count():
    """An MR with no body region recorded is not shown to be a spine MRI: the MRI is still suggested."""
    finding = spinal_cord_compression(graded("2", imaging_studies=[imaging("MR", days=1)]), THRESHOLDS)
    assert order_keys(finding)[0] == ["imaging_mri_spine"]


def test_existing_spine_consult_not_suggested_again():
    consult = event("spine_surgery_consult", days=0, status="active", resource_type="ServiceRequest")
    finding = spinal_cord_compression(graded("2", events=[consult]), THRESHOLDS)
    assert order_keys(finding) == [["imaging_mri_spine"], ["referral_radiotherapy_urgent"]]
    assert consult.reference in evidence_refs(finding)


def test_condition_overrides_low_escc():
    """A G95.2 Condition with a newest ESCC of 1a is still critical."""
    scc = condition("spinal_cord_compression", code="G95.29", days=5)
    patient = facts(conditions=[scc], coded_results=[coded("escc_grade", "1a")])
    assert spinal_cord_compression(patient, THRESHOLDS).indicator == "critical"


def test_no_data_no_card():
    """No compression Condition and no ESCC grade: nothing to say."""
    assert spinal_cord_compression(facts(), THRESHOLDS) is None


def test_template_fits():
    assert_template_fits(
        RULE,
        [spinal_cord_compression(graded("3"), THRESHOLDS), spinal_cord_compression(graded("1c"), THRESHOLDS)],
    )


ASSESSMENT = "https://bonemet-cds.org/fhir/CodeSystem/assessment"


def test_card_from_fhir_chart():
    """From raw FHIR: an ESCC grade 2 Observation (valueString) gives a critical card with three valid
    ServiceRequests for the patient."""
    from tests.rules.factories import (
        fhir_chart,
        fhir_observation,
        patient_view_card,
        validate_action_resources,
    )

    chart = fhir_chart(fhir_observation("escc", ASSESSMENT, "escc-grade", {"valueString": "2"}))
    card = patient_view_card(spinal_cord_compression, chart)
    assert card["indicator"] == "critical" and card["source"]["topic"]["code"] == RULE
    assert len(card["summary"]) <= 140 and "Observation/escc" in card["detail"]
    actions = validate_action_resources(card)
    assert [a["resource"]["resourceType"] for a in actions] == ["ServiceRequest"] * 3
    assert all(a["resource"]["subject"]["reference"] == "Patient/p1" for a in actions)
    assert [a["resource"]["priority"] for a in actions] == ["stat"] * 3


# RULES.md 7.2.15: within 30 days, not after completed treatment, only what is not done or pending.


def compression(days):
    return condition("spinal_cord_compression", code="G95.20", days=days)


@pytest.mark.parametrize(("days", "fires"), [(30, True), (31, False), (400, False)])
def test_compression_recorded_within_30_days(days, fires):
    """A cord compression recorded 30 days ago still fires; 31 days ago (or a year ago) it does not."""
    finding = spinal_cord_compression(facts(conditions=[compression(days)]), THRESHOLDS)
    assert (finding is not None) is fires


@pytest.mark.parametrize(("days", "fires"), [(29, True), (45, False)])
def test_escc_grade_recorded_within_30_days(days, fires):
    patient = facts(coded_results=[coded("escc_grade", "3", days=days)])
    assert (spinal_cord_compression(patient, THRESHOLDS) is not None) is fires


@pytest.mark.parametrize("kind", ["radiotherapy", "spine_surgery"])
def test_completed_treatment_after_the_compression_no_card(kind):
    """Compression 20 days ago, a radiotherapy course (or decompression) completed 3 days ago: treated."""
    treated = event(kind, days=3, status="completed", resource_type="Procedure")
    assert spinal_cord_compression(facts(conditions=[compression(20)], events=[treated]), THRESHOLDS) is None


def test_treatment_before_the_compression_does_not_stop_the_card():
    """Radiotherapy completed 25 days ago, a new compression 10 days ago: the card fires."""
    earlier = event("radiotherapy", days=25, status="completed", resource_type="Procedure")
    patient = facts(conditions=[compression(10)], events=[earlier])
    assert spinal_cord_compression(patient, THRESHOLDS).indicator == "critical"


def test_radiotherapy_under_way_counts_as_the_radiotherapy_consult_but_keeps_the_card():
    """A course in progress since the compression: the card stays (not completed), no radiotherapy consult."""
    course = event("radiotherapy", days=2, status="in-progress", resource_type="Procedure")
    finding = spinal_cord_compression(facts(conditions=[compression(5)], events=[course]), THRESHOLDS)
    assert order_keys(finding) == [["imaging_mri_spine"], ["referral_spine_surgery"]]
    assert course.reference in evidence_refs(finding)


@pytest.mark.parametrize(
    "mri",
    [
        event("spine_mri", days=1, status="active", resource_type="ServiceRequest"),
        event("spine_mri", days=1, status="draft", resource_type="ServiceRequest"),
    ],
)
def test_spine_mri_already_ordered_is_not_suggested_again(mri):
    finding = spinal_cord_compression(facts(conditions=[compression(3)], events=[mri]), THRESHOLDS)
    assert order_keys(finding) == ALL_ORDERS[1:]
    assert mri.reference in evidence_refs(finding)


def test_booked_spine_mri_is_pending_not_done():
    """An MR spine ImagingStudy only `registered` (booked): no second MRI suggested, shown as booked."""
    booked = replace(imaging("MR", days=0, regions=("spine",)), state="pending")
    finding = spinal_cord_compression(graded("2", imaging_studies=[booked]), THRESHOLDS)
    assert order_keys(finding) == ALL_ORDERS[1:]
    assert any(e.label == "Spine MRI booked" for e in finding.evidence)


def test_everything_already_asked_leaves_the_card_without_suggestions():
    """MRI done 2 days ago, both consults active: the critical card remains, with nothing to order."""
    mri = imaging("MR", days=2, regions=("spine",))
    consults = [
        event("spine_surgery_consult", days=1, status="active", resource_type="ServiceRequest"),
        event("radiotherapy_consult", days=1, status="completed", resource_type="ServiceRequest"),
    ]
    finding = spinal_cord_compression(graded("3", imaging_studies=[mri], events=consults), THRESHOLDS)
    assert finding.indicator == "critical" and finding.suggestions == ()


def test_consult_before_the_compression_is_suggested_again():
    old = event("spine_surgery_consult", days=40, status="completed", resource_type="ServiceRequest")
    finding = spinal_cord_compression(facts(conditions=[compression(5)], events=[old]), THRESHOLDS)
    assert order_keys(finding) == ALL_ORDERS


def _with(name, value):
    entries = {n: THRESHOLDS.entry(n) for n in THRESHOLDS.names()}
    entries[name] = Threshold(name, value, entries[name].unit, "site setting (test)")
    return Thresholds(entries)


def test_corticosteroids_named_by_default_with_nice_ng234_as_outside_source():
    finding = spinal_cord_compression(graded("2"), THRESHOLDS)
    assert "dexamethasone" in finding.values["steroid_note"]
    assert any("NG234" in s for s in finding.outside_sources)


def test_corticosteroid_note_off_by_site_setting():
    finding = spinal_cord_compression(graded("2"), _with("scc_corticosteroid_note", 0))
    assert finding.values["steroid_note"] == ""
    assert not any("NG234" in s for s in finding.outside_sources)
