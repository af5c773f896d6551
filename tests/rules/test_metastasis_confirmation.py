"""METASTASIS-CONFIRMATION (RULES.md 7.2.17; consensus 5.1.5, 5.2): confirm a suspected bone metastasis."""

from __future__ import annotations

from dataclasses import replace

from hooks.order_catalog import load_order_catalog
from hooks.rules.metastasis_confirmation import metastasis_confirmation
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, bone_metastasis, condition, facts, imaging, with_hook

RULE = "METASTASIS-CONFIRMATION"
SITE, BIOPSY = "imaging_ct_mri_suspected_site", "referral_bone_biopsy"
MEDICATION_KEYS = set(load_order_catalog().medications)
"""Every drug the service can suggest: this rule suggests none of them (never a BMA)."""


def suspected(days=30, regions=()):
    return replace(bone_metastasis("suspected", days=days), regions=frozenset(regions))


def all_keys(finding):
    return {key for keys in order_keys(finding) for key in keys}


def test_suspected_without_site_imaging_offers_ct_or_mri_only():
    """Provisional bone metastasis a month ago after a bone scan; nothing since: image the site."""
    lesion = suspected(days=30)
    finding = metastasis_confirmation(
        facts(conditions=[lesion], imaging_studies=[imaging("NM", days=31)]), THRESHOLDS
    )
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "image-site")
    assert order_keys(finding) == [[SITE]]
    assert finding.selection_behavior == "at-most-one"
    assert lesion.reference in evidence_refs(finding)
    assert MEDICATION_KEYS and not all_keys(finding) & MEDICATION_KEYS


def test_site_imaging_done_and_still_suspected_offers_biopsy_consult():
    """CT of the site 10 days after the suspicion and the Condition is still provisional: 5.2 biopsy."""
    lesion = suspected(days=30)
    ct = imaging("CT", days=20)
    finding = metastasis_confirmation(facts(conditions=[lesion], imaging_studies=[ct]), THRESHOLDS)
    assert finding.variant == "biopsy"
    assert order_keys(finding) == [[BIOPSY]]
    assert {lesion.reference, ct.reference} <= evidence_refs(finding)


def test_imaging_before_the_suspicion_or_a_bone_scan_does_not_count():
    """A CT before the suspicion and a bone scan or PET-CT after it do not confirm the site: image it."""
    lesion = suspected(days=30)
    studies = [imaging("CT", days=45), imaging("NM", days=5), imaging("PT", days=4)]
    finding = metastasis_confirmation(facts(conditions=[lesion], imaging_studies=studies), THRESHOLDS)
    assert finding.variant == "image-site" and order_keys(finding) == [[SITE]]


def test_imaging_of_another_region_does_not_count_when_the_site_is_known():
    """Suspected spine metastasis; a pelvis CT afterwards is not imaging of the site."""
    lesion = suspected(days=30, regions=("spine",))
    pelvis = imaging("CT", days=10, regions=("pelvis_hip",))
    spine = imaging("MR", days=10, regions=("spine",))
    assert metastasis_confirmation(
        facts(conditions=[lesion], imaging_studies=[pelvis]), THRESHOLDS
    ).variant == ("image-site")
    assert metastasis_confirmation(
        facts(conditions=[lesion], imaging_studies=[spine]), THRESHOLDS
    ).variant == ("biopsy")


def test_limited_life_expectancy_gets_no_biopsy():
    lesion = suspected(days=30)
    terminal = condition("life_expectancy_limited", code="300936002", days=5)
    finding = metastasis_confirmation(
        facts(conditions=[lesion, terminal], imaging_studies=[imaging("CT", days=10)]), THRESHOLDS
    )
    assert finding.variant == "imaged-limited-life-expectancy"
    assert finding.suggestions == ()
    assert terminal.reference in evidence_refs(finding)


def test_does_not_fire_with_a_confirmed_metastasis_or_without_any():
    assert metastasis_confirmation(facts(conditions=[suspected(), bone_metastasis()]), THRESHOLDS) is None
    assert metastasis_confirmation(facts(conditions=[bone_metastasis()]), THRESHOLDS) is None
    assert metastasis_confirmation(facts(), THRESHOLDS) is None


def test_patient_view_only():
    patient = facts(conditions=[suspected()])
    assert metastasis_confirmation(with_hook(patient, "order-sign"), THRESHOLDS) is None
    assert metastasis_confirmation(patient, THRESHOLDS) is not None


def test_undated_suspicion_keeps_imaging_and_says_the_date_is_missing():
    lesion = replace(suspected(), onset=None, recorded=None)
    finding = metastasis_confirmation(
        facts(conditions=[lesion], imaging_studies=[imaging("CT", days=1)]), THRESHOLDS
    )
    assert finding.variant == "image-site"
    assert any(lesion.reference in item for item in finding.missing)


def test_template_fits_every_variant():
    lesion = suspected(days=30)
    terminal = condition("life_expectancy_limited", code="300936002", days=5)
    findings = [
        metastasis_confirmation(facts(conditions=[lesion]), THRESHOLDS),
        metastasis_confirmation(
            facts(conditions=[lesion], imaging_studies=[imaging("CT", days=2)]), THRESHOLDS
        ),
        metastasis_confirmation(
            facts(conditions=[lesion, terminal], imaging_studies=[imaging("MR", days=2)]), THRESHOLDS
        ),
    ]
    assert_template_fits(RULE, findings)
