"""SPINAL-CORD-COMPRESSION (consensus 6.6.2, Fig. 3): G95.2 or ESCC 2-3 critical, 1c warning, 0-1b none."""

from __future__ import annotations

import pytest

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
    scc = condition("spinal_cord_compression", code="G95.29")
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
