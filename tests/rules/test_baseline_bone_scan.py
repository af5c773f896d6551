"""BASELINE-BONE-SCAN (consensus 5.1.4): a whole-body bone scan since the lung cancer was diagnosed."""

from __future__ import annotations

from dataclasses import replace

from hooks.rules.baseline_bone_scan import baseline_bone_scan
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, facts, imaging

RULE = "BASELINE-BONE-SCAN"


def test_no_bone_scan_fires_info():
    """Lung cancer 200 days ago, no bone scan ever: info, whole-body bone scan."""
    patient = facts()
    finding = baseline_bone_scan(patient, THRESHOLDS)
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert order_keys(finding) == [["imaging_bone_scan_whole_body"]]
    assert patient.conditions[0].reference in evidence_refs(finding)
    assert finding.values["last_scan"] == "none on record"


def test_bone_scan_after_diagnosis_no_card():
    assert baseline_bone_scan(facts(imaging_studies=[imaging("NM", days=150)]), THRESHOLDS) is None


def test_pet_ct_counts_as_whole_body_imaging():
    assert baseline_bone_scan(facts(imaging_studies=[imaging("PT", days=150)]), THRESHOLDS) is None


def test_scan_on_diagnosis_day_counts():
    """Diagnosis 200 days ago and a bone scan the same day: the staging scan was done."""
    assert baseline_bone_scan(facts(imaging_studies=[imaging("NM", days=200)]), THRESHOLDS) is None


def test_scan_before_diagnosis_does_not_count():
    """A bone scan the day before the diagnosis is not a staging scan: card, showing the older scan."""
    old = imaging("NM", days=201)
    finding = baseline_bone_scan(facts(imaging_studies=[old]), THRESHOLDS)
    assert finding is not None and old.reference in evidence_refs(finding)


def test_ct_alone_is_not_a_bone_scan():
    assert baseline_bone_scan(facts(imaging_studies=[imaging("CT", days=10)]), THRESHOLDS) is not None


def test_undated_diagnosis_is_reported_missing():
    """Lung cancer with no onset or recorded date and no scan: fires and says the date is missing."""
    base = facts()
    undated = replace(base.conditions[0], onset=None, recorded=None)
    finding = baseline_bone_scan(replace(base, conditions=(undated,)), THRESHOLDS)
    assert finding.values["diagnosis"] == "date not recorded"
    assert any("lung cancer" in m for m in finding.missing)


def test_order_hook_no_card():
    assert baseline_bone_scan(facts(hook="order-select"), THRESHOLDS) is None


def test_template_fits():
    assert_template_fits(
        RULE, [baseline_bone_scan(facts(imaging_studies=[imaging("NM", days=900)]), THRESHOLDS)]
    )


def _study(rid, modality, started):
    return {
        "resourceType": "ImagingStudy",
        "id": rid,
        "status": "available",
        "subject": {"reference": "Patient/p1"},
        "started": started,
        "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": modality}],
    }


def test_card_from_fhir_chart():
    """From raw FHIR (lung cancer onset 2026-06-01): a CT after it is not a bone scan, so the card fires
    with a valid bone-scan order; an NM study after the diagnosis stops it."""
    from tests.rules.factories import fhir_chart, patient_view_card, validate_action_resources

    card = patient_view_card(baseline_bone_scan, fhir_chart(_study("ct", "CT", "2026-07-01")))
    assert card["indicator"] == "info"
    actions = validate_action_resources(card)
    assert [a["resource"]["code"]["coding"][0]["code"] for a in actions] == ["nm-bone-scan-whole-body"]
    assert patient_view_card(baseline_bone_scan, fhir_chart(_study("nm", "NM", "2026-07-01"))) is None
