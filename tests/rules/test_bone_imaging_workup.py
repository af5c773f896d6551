"""BONE-IMAGING-WORKUP (consensus section 5, Fig. 2): image a clinical feature of bone metastasis."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hooks.rules.bone_imaging_workup import bone_imaging_workup
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    condition,
    facts,
    imaging,
    lab,
)

RULE = "BONE-IMAGING-WORKUP"
BONE_SCAN, MRI, SITE = "imaging_bone_scan_whole_body", "imaging_mri_spine", "imaging_xray_ct_site"


def hip_pain(days=2, regions=("pelvis_hip",)):
    """A bone pain Condition (SNOMED 12584003) with bodySite hip."""
    return replace(condition("bone_pain", code="12584003", days=days), regions=frozenset(regions))


def test_bone_pain_condition_fires_warning_bone_scan_first():
    """Lung cancer, bone pain in the hip 2 days ago, no bone imaging: bone scan first, then the site."""
    pain = hip_pain()
    patient = facts(conditions=[pain], labs=[lab("alp", 90)])
    finding = bone_imaging_workup(patient, THRESHOLDS)
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "default")
    assert order_keys(finding) == [[BONE_SCAN], [SITE]]
    assert pain.reference in evidence_refs(finding)
    assert finding.values["features"] == "bone pain" and finding.values["sites"] == "pelvis and hip"
    assert finding.missing == ()


@pytest.mark.parametrize("score", [4, 8, 10])
def test_pain_score_alone_is_not_a_work_up_feature(score):
    """RULES.md 7.2.16: a pain score alone (even 10/10) is not a work-up feature (it is for
    RADIOTHERAPY-REFERRAL, which needs confirmed metastasis)."""
    assert bone_imaging_workup(facts(labs=[lab("pain_score", score), lab("alp", 90)]), THRESHOLDS) is None


def test_never_suggests_pet_ct():
    """Fig. 2: PET-CT is not routine; no suggestion is a PET-CT order."""
    scc = condition("spinal_cord_compression", code="G95.20", days=2)
    finding = bone_imaging_workup(facts(conditions=[scc, condition("bone_pain")]), THRESHOLDS)
    keys = [k for keys in order_keys(finding) for k in keys]
    assert keys and not any("pet" in (k or "") for k in keys)


def test_cord_compression_is_critical_mri_first():
    scc = condition("spinal_cord_compression", code="G95.20", days=2)
    finding = bone_imaging_workup(facts(conditions=[scc]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "cord-compression")
    assert order_keys(finding) == [[MRI], [BONE_SCAN]]
    assert scc.reference in evidence_refs(finding)


@pytest.mark.parametrize(
    ("value", "sex", "fires"),
    [
        (129, "male", False),
        (130, "male", True),
        (104, "female", False),
        (105, "female", True),
        (130, None, True),
    ],
)
def test_alp_default_upper_limits_by_sex(value, sex, fires):
    """No referenceRange: 129 U/L for men (and unknown sex), 104 U/L for women; above it is a feature."""
    patient = facts(sex=sex, labs=[lab("alp", value)])
    assert (bone_imaging_workup(patient, THRESHOLDS) is not None) is fires


def test_alp_reference_range_wins_over_default():
    """ALP 120 U/L with the laboratory's upper limit 110: above the limit, although below the default."""
    patient = facts(labs=[lab("alp", 120, high=110)])
    finding = bone_imaging_workup(patient, THRESHOLDS)
    assert finding is not None and finding.values["features"] == "elevated ALP"
    assert order_keys(finding) == [[BONE_SCAN]]


def test_alp_within_reference_range_no_card():
    assert bone_imaging_workup(facts(labs=[lab("alp", 140, high=150)]), THRESHOLDS) is None


def test_hypercalcemia_is_a_feature():
    finding = bone_imaging_workup(facts(calcium_status=calcium(11.2)), THRESHOLDS)
    assert finding is not None and "hypercalcemia" in finding.values["features"]


def test_imaging_after_feature_no_card():
    """Hip pain 10 days ago, bone scan 3 days ago: imaging was done after the feature."""
    patient = facts(conditions=[hip_pain(days=10)], imaging_studies=[imaging("NM", days=3)])
    assert bone_imaging_workup(patient, THRESHOLDS) is None


def test_imaging_before_feature_fires():
    """A CT a month before the fracture does not answer the fracture."""
    fracture = condition("pathological_fracture", code="M84.50XA", days=5)
    old_ct = imaging("CT", days=30)
    finding = bone_imaging_workup(facts(conditions=[fracture], imaging_studies=[old_ct]), THRESHOLDS)
    assert order_keys(finding) == [[BONE_SCAN], [SITE]]
    assert {fracture.reference, old_ct.reference} <= evidence_refs(finding)


def test_confirmed_bone_metastasis_no_card():
    patient = facts(conditions=[bone_metastasis()], labs=[lab("pain_score", 8)])
    assert bone_imaging_workup(patient, THRESHOLDS) is None


def test_suspected_metastasis_still_worked_up():
    patient = facts(conditions=[bone_metastasis("suspected"), hip_pain()])
    assert bone_imaging_workup(patient, THRESHOLDS) is not None


def test_no_feature_no_card():
    """Pain 3/10, no other feature: no imaging card; a missing ALP alone never fires."""
    assert bone_imaging_workup(facts(labs=[lab("pain_score", 3)]), THRESHOLDS) is None


def test_missing_alp_and_undated_feature_reported():
    pain = replace(condition("bone_pain", code="12584003"), onset=None, recorded=None)
    finding = bone_imaging_workup(facts(conditions=[pain], imaging_studies=[imaging("NM")]), THRESHOLDS)
    assert any("alkaline phosphatase" in m for m in finding.missing)
    assert any(pain.reference in m for m in finding.missing)


def test_template_fits():
    scc = condition("spinal_cord_compression", code="G95.20", days=2)
    many = facts(
        conditions=[condition("bone_pain"), condition("pathological_fracture")],
        labs=[lab("alp", 300)],
        calcium_status=calcium(12.0),
        imaging_studies=[imaging("CR", days=400)],
    )
    cord = facts(
        conditions=[scc, condition("bone_pain"), condition("pathological_fracture")],
        labs=[lab("alp", 300)],
        calcium_status=calcium(12.0),
    )
    assert_template_fits(RULE, [bone_imaging_workup(many, THRESHOLDS), bone_imaging_workup(cord, THRESHOLDS)])


def test_nerve_compression_fires_warning_with_site_imaging():
    """Spinal nerve root compression (G55): a Fig. 2 feature; warning, bone scan then X-ray/CT of the site."""
    nerve = condition("nerve_compression", code="G55", days=3)
    finding = bone_imaging_workup(facts(conditions=[nerve], labs=[lab("alp", 80)]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "default")
    assert order_keys(finding) == [[BONE_SCAN], [SITE]]
    assert nerve.reference in evidence_refs(finding)


# RULES.md 7.2.16: closed only by imaging that can answer the question.


def test_restaging_chest_ct_does_not_close_a_hip_pain_work_up():
    """Hip pain 10 days ago, restaging chest CT 3 days ago: the CT did not look at the hip."""
    chest_ct = imaging("CT", days=3, regions=("chest",))
    finding = bone_imaging_workup(
        facts(conditions=[hip_pain(days=10)], imaging_studies=[chest_ct]), THRESHOLDS
    )
    assert finding is not None and order_keys(finding) == [[BONE_SCAN], [SITE]]
    assert chest_ct.reference in evidence_refs(finding)


@pytest.mark.parametrize(
    "study",
    [
        imaging("CR", days=3, regions=("pelvis_hip",)),
        imaging("MR", days=3, regions=("pelvis_hip",)),
        imaging("NM", days=3),
        imaging("PT", days=3, regions=("chest",)),
        imaging("MR", days=3, regions=("whole_body",)),
    ],
    ids=["hip-xray", "hip-mri", "bone-scan", "pet-ct", "whole-body-mri"],
)
def test_imaging_that_answers_hip_pain_closes_it(study):
    assert (
        bone_imaging_workup(facts(conditions=[hip_pain(days=10)], imaging_studies=[study]), THRESHOLDS)
        is None
    )


def test_site_imaging_before_the_pain_does_not_close_it():
    old_xray = imaging("CR", days=20, regions=("pelvis_hip",))
    assert bone_imaging_workup(facts(conditions=[hip_pain(days=10)], imaging_studies=[old_xray]), THRESHOLDS)


@pytest.mark.parametrize(
    ("study", "closed"),
    [
        (imaging("CT", days=3, regions=("pelvis_hip",)), False),
        (imaging("CT", days=3), False),
        (imaging("MR", days=3, regions=("whole_body",)), True),
        (imaging("NM", days=3), True),
    ],
    ids=["hip-ct", "ct-no-site", "whole-body-mri", "bone-scan"],
)
def test_feature_without_a_site_is_closed_only_by_whole_body_imaging(study, closed):
    """Bone pain with no bodySite (or raised ALP): only NM, PT or whole-body MR answers it."""
    pain = hip_pain(days=10, regions=())
    finding = bone_imaging_workup(facts(conditions=[pain], imaging_studies=[study]), THRESHOLDS)
    assert (finding is None) is closed


def test_raised_alp_is_not_closed_by_a_chest_ct():
    chest_ct = imaging("CT", days=1, regions=("chest",))
    patient = facts(labs=[lab("alp", 220, days=5)], imaging_studies=[chest_ct])
    assert bone_imaging_workup(patient, THRESHOLDS) is not None


@pytest.mark.parametrize(("region", "closed"), [("spine", True), ("pelvis_hip", False)])
def test_cord_compression_is_answered_by_spine_imaging_only(region, closed):
    scc = condition("spinal_cord_compression", code="G95.20", days=5)
    mri = imaging("MR", days=2, regions=(region,))
    finding = bone_imaging_workup(facts(conditions=[scc], imaging_studies=[mri]), THRESHOLDS)
    assert (finding is None) is closed


def test_booked_bone_scan_does_not_close_the_work_up():
    """7.1.6: an ImagingStudy only `registered` (booked) is not imaging done."""
    booked = replace(imaging("NM", days=0), state="pending")
    assert bone_imaging_workup(facts(conditions=[hip_pain()], imaging_studies=[booked]), THRESHOLDS)
