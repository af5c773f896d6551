"""HYPOCALCEMIA-CORRECTION (consensus Table 1 precautions): correct hypocalcemia before a BMA dose."""

from __future__ import annotations

import pytest

from hooks.rules.hypocalcemia_correction import hypocalcemia_correction
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    denosumab,
    facts,
    supplement,
    zoledronic_acid,
)

RULE = "HYPOCALCEMIA-CORRECTION"


def test_low_calcium_on_denosumab_fires_before_next_dose():
    """On denosumab with corrected calcium 7.9 mg/dL: correct it before the next dose, start Ca and vit D."""
    drug = denosumab()
    ca = calcium(7.9)
    finding = hypocalcemia_correction(facts(medications=[drug], calcium_status=ca), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "before-next-dose")
    assert finding.values["value"] == "7.9" and finding.values["unit"] == "mg/dL"
    assert finding.values["calcium_label"] == "corrected Ca"
    assert order_keys(finding) == [["calcium_500mg_daily"], ["vitamin_d_400iu_daily"]]
    assert finding.selection_behavior == "any"
    assert {drug.reference, ca.evidence[0].reference} <= evidence_refs(finding)
    assert finding.outside_sources == ()


def test_low_calcium_with_indication_fires_before_first_dose():
    """Confirmed bone metastasis, no BMA yet, calcium low: correct it before starting."""
    metastasis = bone_metastasis()
    finding = hypocalcemia_correction(facts(conditions=[metastasis], calcium_status=calcium(8.1)), THRESHOLDS)
    assert finding.variant == "before-first-dose"
    assert metastasis.reference in evidence_refs(finding)


def test_severe_hypocalcemia_is_critical():
    """Corrected calcium 6.8 mg/dL (CTCAE grade 3) on zoledronic acid is critical and cites CTCAE."""
    patient = facts(medications=[zoledronic_acid()], calcium_status=calcium(6.8, critical=True))
    finding = hypocalcemia_correction(patient, THRESHOLDS)
    assert finding.indicator == "critical"
    assert finding.values["severity"] == "CTCAE v5 grade 3"
    assert finding.outside_sources == ("CTCAE v5 (hypocalcemia grade 3)",)


def test_uncorrected_total_calcium_says_so():
    """Total calcium 1.95 mmol/L with no albumin: the card says the value is not albumin-corrected."""
    ca = calcium(1.95, unit="mmol/L", basis="total-uncorrected", low=2.12, high=2.62)
    finding = hypocalcemia_correction(facts(medications=[denosumab()], calcium_status=ca), THRESHOLDS)
    assert finding.values["calcium_label"] == "uncorrected total Ca"
    assert "NOT corrected for albumin" in finding.values["basis"]
    assert "within 2 days" in finding.values["basis"]
    assert finding.values["unit"] == "mmol/L" and finding.values["low_limit"] == "2.12"


def test_uncorrected_calcium_gets_no_ctcae_grade():
    """Total calcium 6.8 mg/dL, no albumin: critical range, but the card says no grade was assigned."""
    ca = calcium(6.8, basis="total-uncorrected", critical=True)
    finding = hypocalcemia_correction(facts(medications=[denosumab()], calcium_status=ca), THRESHOLDS)
    assert finding.indicator == "critical"
    assert finding.values["severity"] == (
        "below the lower limit, in the grade 3 range (not corrected for albumin; grade not assigned)"
    )


def test_normal_calcium_no_card():
    """On denosumab with corrected calcium 9.2 mg/dL: nothing to correct."""
    assert (
        hypocalcemia_correction(facts(medications=[denosumab()], calcium_status=calcium(9.2)), THRESHOLDS)
        is None
    )


def test_low_calcium_without_bma_or_indication_no_card():
    """Lung cancer without bone metastasis or BMA: low calcium is outside this rule."""
    assert hypocalcemia_correction(facts(calcium_status=calcium(7.9)), THRESHOLDS) is None


def test_suspected_metastasis_is_no_indication():
    """Suspected bone metastasis with low calcium: no BMA is indicated, so no card."""
    patient = facts(conditions=[bone_metastasis(verification="suspected")], calcium_status=calcium(7.9))
    assert hypocalcemia_correction(patient, THRESHOLDS) is None


def test_missing_calcium_no_card():
    """On denosumab with no calcium result at all: hypocalcemia cannot be claimed (other cards ask for it)."""
    assert hypocalcemia_correction(facts(medications=[denosumab()]), THRESHOLDS) is None


def test_only_missing_supplements_are_suggested():
    """Already on calcium: only vitamin D is suggested; on both, the card fires with no order."""
    on_calcium = facts(
        medications=[denosumab(), supplement("calcium_supplement")], calcium_status=calcium(7.9)
    )
    assert order_keys(hypocalcemia_correction(on_calcium, THRESHOLDS)) == [["vitamin_d_400iu_daily"]]
    on_both = facts(
        medications=[denosumab(), supplement("calcium_supplement"), supplement("vitamin_d")],
        calcium_status=calcium(7.9),
    )
    finding = hypocalcemia_correction(on_both, THRESHOLDS)
    assert finding is not None and finding.suggestions == ()


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_drafted_first_dose_with_low_calcium(hook):
    """Denosumab drafted for a patient with corrected calcium 8.0 mg/dL: correct it before the first dose."""
    draft = denosumab(draft=True, days=0)
    patient = facts(hook=hook, conditions=[bone_metastasis()], drafts=[draft], calcium_status=calcium(8.0))
    finding = hypocalcemia_correction(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "before-first-dose")
    assert draft.reference in evidence_refs(finding)


def test_drafted_supplement_is_not_suggested_again():
    """Calcium drafted alongside denosumab: only vitamin D is suggested."""
    drafts = [denosumab(draft=True, days=0), supplement("calcium_supplement", draft=True, days=0)]
    patient = facts(hook="order-sign", drafts=drafts, calcium_status=calcium(8.0))
    assert order_keys(hypocalcemia_correction(patient, THRESHOLDS)) == [["vitamin_d_400iu_daily"]]


def test_repeat_dose_drafted_on_treatment():
    """Zoledronic acid drafted while on it, calcium low: correct before this (next) dose."""
    patient = facts(
        hook="order-select",
        medications=[zoledronic_acid()],
        drafts=[zoledronic_acid(draft=True, days=0)],
        calcium_status=calcium(8.0),
    )
    assert hypocalcemia_correction(patient, THRESHOLDS).variant == "before-next-dose"


def test_order_hook_without_drafted_bma_no_card():
    """In order-sign with low calcium but no BMA drafted, nothing is checked."""
    patient = facts(hook="order-sign", medications=[denosumab()], calcium_status=calcium(7.9))
    assert hypocalcemia_correction(patient, THRESHOLDS) is None


def test_template_fits_every_variant():
    """The HYPOCALCEMIA-CORRECTION template words every variant within 140 characters."""
    uncorrected = calcium(1.95, unit="mmol/L", basis="total-uncorrected", low=2.12, high=2.62)
    findings = [
        hypocalcemia_correction(
            facts(conditions=[bone_metastasis()], calcium_status=uncorrected), THRESHOLDS
        ),
        hypocalcemia_correction(
            facts(medications=[zoledronic_acid()], calcium_status=uncorrected), THRESHOLDS
        ),
    ]
    assert_template_fits(RULE, findings)
