"""CALCIUM-VITAMIN-D (consensus Table 1 precautions): calcium 500 mg and vitamin D 400 IU with a BMA."""

from __future__ import annotations

import pytest

from hooks.rules.calcium_vitamin_d import calcium_vitamin_d
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

RULE = "CALCIUM-VITAMIN-D"


def test_on_denosumab_without_supplements_fires():
    """On denosumab with normal calcium and no supplements: add calcium and vitamin D."""
    drug = denosumab()
    finding = calcium_vitamin_d(facts(medications=[drug], calcium_status=calcium(9.3)), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "both")
    assert order_keys(finding) == [["calcium_500mg_daily"], ["vitamin_d_400iu_daily"]]
    assert all(a.type == "create" for s in finding.suggestions for a in s.actions)
    assert finding.selection_behavior == "any"
    assert (finding.values["calcium_mg"], finding.values["vitamin_d_iu"]) == ("500", "400")
    assert drug.reference in evidence_refs(finding)


def test_only_the_missing_supplement_is_suggested():
    """On zoledronic acid and calcium, without vitamin D: add vitamin D only."""
    ca = supplement("calcium_supplement")
    finding = calcium_vitamin_d(
        facts(medications=[zoledronic_acid(), ca], calcium_status=calcium(9.3)), THRESHOLDS
    )
    assert finding.variant == "vitamin-d"
    assert order_keys(finding) == [["vitamin_d_400iu_daily"]]
    assert ca.reference in evidence_refs(finding)


def test_on_both_supplements_no_card():
    """On denosumab with calcium and vitamin D active: nothing to add."""
    meds = [denosumab(), supplement("calcium_supplement"), supplement("vitamin_d")]
    assert calcium_vitamin_d(facts(medications=meds, calcium_status=calcium(9.3)), THRESHOLDS) is None


def test_hypercalcemia_excludes():
    """On denosumab with corrected calcium 11.2 mg/dL: no calcium is added to a high calcium."""
    patient = facts(medications=[denosumab()], calcium_status=calcium(11.2, grade=1))
    assert calcium_vitamin_d(patient, THRESHOLDS) is None


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_hypercalcemic_patient_drafting_zoledronic_acid_is_never_told_to_take_calcium(hook):
    """Zoledronic acid drafted for uncorrected calcium 13.1 mg/dL: no calcium supplement in any hook."""
    high = calcium(13.1, grade=3, basis="total-uncorrected")
    patient = facts(hook=hook, drafts=[zoledronic_acid(draft=True, days=0)], calcium_status=high)
    assert calcium_vitamin_d(patient, THRESHOLDS) is None


def test_low_calcium_leaves_the_orders_to_hypocalcemia_correction():
    """On denosumab with low calcium: HYPOCALCEMIA-CORRECTION suggests the same orders instead."""
    assert (
        calcium_vitamin_d(facts(medications=[denosumab()], calcium_status=calcium(7.9)), THRESHOLDS) is None
    )


def test_being_started_fires():
    """Confirmed bone metastasis, no BMA yet (BMA-INITIATION fires): supplements come with the start."""
    patient = facts(conditions=[bone_metastasis()], calcium_status=calcium(9.3))
    assert calcium_vitamin_d(patient, THRESHOLDS).variant == "both"


def test_no_bma_and_no_indication_no_card():
    """Suspected bone metastasis only, no BMA: no supplement card."""
    patient = facts(conditions=[bone_metastasis(verification="suspected")], calcium_status=calcium(9.3))
    assert calcium_vitamin_d(patient, THRESHOLDS) is None


def test_missing_calcium_result_does_not_block():
    """On denosumab with no calcium result on file: supplements are still recommended."""
    assert calcium_vitamin_d(facts(medications=[denosumab()]), THRESHOLDS).variant == "both"


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_drafted_bma_with_drafted_calcium_suggests_vitamin_d(hook):
    """Denosumab and calcium drafted together: only vitamin D is missing."""
    drug = denosumab(draft=True, days=0)
    drafts = [drug, supplement("calcium_supplement", draft=True, days=0)]
    finding = calcium_vitamin_d(facts(hook=hook, drafts=drafts, calcium_status=calcium(9.3)), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "vitamin-d")
    assert drug.reference in evidence_refs(finding)


def test_drafted_repeat_dose_without_supplements_fires():
    """A repeat zoledronic acid dose drafted for a patient taking no supplements: add both."""
    patient = facts(hook="order-sign", medications=[zoledronic_acid()], drafts=[zoledronic_acid(draft=True)])
    assert calcium_vitamin_d(patient, THRESHOLDS).variant == "both"


def test_order_hook_without_drafted_bma_no_card():
    """In order-sign with no BMA drafted, the supplement check does not run."""
    assert calcium_vitamin_d(facts(hook="order-sign", medications=[denosumab()]), THRESHOLDS) is None


def test_template_fits_every_variant():
    """The CALCIUM-VITAMIN-D template words every variant within 140 characters."""
    findings = [
        calcium_vitamin_d(facts(medications=[denosumab()]), THRESHOLDS),
        calcium_vitamin_d(facts(medications=[denosumab(), supplement("vitamin_d")]), THRESHOLDS),
        calcium_vitamin_d(facts(medications=[denosumab(), supplement("calcium_supplement")]), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)
