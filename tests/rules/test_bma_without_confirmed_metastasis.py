"""BMA-WITHOUT-CONFIRMED-METASTASIS (consensus Table 1 instructions, 6.3): not for a risk of bone
metastasis alone."""

from __future__ import annotations

import pytest

from hooks.rules.bma_without_confirmed_metastasis import bma_without_confirmed_metastasis
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    card_for,
    denosumab,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    medication,
    order_hook_cards,
    zoledronic_acid,
)

RULE = "BMA-WITHOUT-CONFIRMED-METASTASIS"
ORDER_HOOKS = ["order-select", "order-sign"]


def check(patient):
    return bma_without_confirmed_metastasis(patient, THRESHOLDS)


@pytest.mark.parametrize("hook", ORDER_HOOKS)
def test_xgeva_drafted_without_any_bone_metastasis_fires(hook):
    """Denosumab 120 mg every 4 weeks drafted for a patient with lung cancer and no bone metastasis."""
    draft = denosumab(draft=True, days=0)
    finding = check(facts(hook=hook, drafts=[draft]))
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "not-diagnosed")
    assert finding.suggestions == ()
    assert evidence_refs(finding) == {draft.reference}
    assert finding.values["drafted"] == "denosumab"


def test_suspected_metastasis_counts_as_not_confirmed():
    """Zoledronic acid 4 mg drafted while bone metastasis is only provisional: fires, shows the suspicion."""
    draft = zoledronic_acid(draft=True, days=0)
    suspected = bone_metastasis(verification="suspected")
    finding = check(facts(hook="order-sign", conditions=[suspected], drafts=[draft]))
    assert (finding.indicator, finding.variant) == ("warning", "suspected")
    assert evidence_refs(finding) == {draft.reference, suspected.reference}
    assert finding.suggestions == ()


def test_confirmed_metastasis_no_card():
    """Denosumab 120 mg drafted for a patient with confirmed bone metastasis is the indicated treatment."""
    patient = facts(hook="order-sign", conditions=[bone_metastasis()], drafts=[denosumab(draft=True)])
    assert check(patient) is None


def test_prolia_for_osteoporosis_without_metastasis_no_card():
    """Denosumab 60 mg every 6 months (Prolia) for osteoporosis is not this rule's business."""
    prolia = denosumab(draft=True, dose_mg=60, interval_days=183, product="prolia")
    assert check(facts(hook="order-sign", drafts=[prolia])) is None


def test_yearly_zoledronic_acid_5mg_is_not_an_oncology_dose():
    """Zoledronic acid 5 mg once a year (osteoporosis product) without bone metastasis: no card."""
    reclast = zoledronic_acid(draft=True, dose_mg=5.0, interval_days=365)
    assert check(facts(hook="order-select", drafts=[reclast])) is None


def test_patient_view_never_fires():
    """In patient-view the rule does not run, even with an oncology-dose BMA and no metastasis."""
    assert check(facts(hook="patient-view", drafts=[denosumab(draft=True)])) is None


def test_active_bma_without_draft_no_card():
    """An already active denosumab order is not re-judged when nothing BMA is drafted."""
    assert check(facts(hook="order-sign", medications=[denosumab()])) is None


@pytest.mark.parametrize(
    ("agent", "dose", "interval", "product", "fires"),
    [
        ("denosumab", 120, 28, "xgeva", True),
        ("denosumab", 60, 183, "prolia", False),
        ("denosumab", None, 28, None, True),
        ("denosumab", None, 183, None, False),
        ("denosumab", None, None, "xgeva", True),
        ("zoledronic_acid", 3.5, 28, None, True),
        ("zoledronic_acid", 5.0, 365, None, False),
        ("ibandronate", 6, 28, None, True),
        ("ibandronate", 150, 30, None, False),
        ("incadronate", 10, 28, None, True),
    ],
)
def test_fires_for_the_oncology_regimen_only(agent, dose, interval, product, fires):
    """7.1.5's regimen decides (product, then dose, then interval): osteoporosis regimens pass."""
    order = medication(agent, dose_mg=dose, interval_days=interval, product=product, draft=True)
    assert (check(facts(hook="order-sign", drafts=[order])) is not None) is fires


def test_unreadable_regimen_fires_and_says_so():
    """7.1.5: denosumab with no product, dose or interval counts as oncology; the card says it was unread."""
    order = medication("denosumab", dose_mg=None, interval_days=None, draft=True)
    finding = check(facts(hook="order-sign", drafts=[order]))
    assert finding is not None and "could not be read" in finding.values["regimen_note"]


@pytest.mark.parametrize("agent", ["zoledronic_acid", "ibandronate", "pamidronate"])
def test_hypercalcemia_grade_2_is_a_labelled_use_of_these_bisphosphonates(agent):
    """7.3.23: corrected calcium CTCAE grade 2, no metastasis: labelled use, no card."""
    dose = {"zoledronic_acid": 4.0, "ibandronate": 6, "pamidronate": 90}[agent]
    order = medication(agent, dose_mg=dose, interval_days=28, draft=True)
    assert check(facts(hook="order-sign", drafts=[order], calcium_status=calcium(11.9, grade=2))) is None


def test_hypercalcemia_grade_1_still_fires():
    """Grade 1 is not the labelled hypercalcemia of malignancy threshold: zoledronic acid still warns."""
    grade1 = calcium(10.9, grade=1)
    assert check(facts(hook="order-sign", drafts=[zoledronic_acid(draft=True)], calcium_status=grade1))


def test_denosumab_with_hypercalcemia_still_fires():
    """Denosumab is not in the catalog's labelled list: grade 3 calcium does not excuse it."""
    grade3 = calcium(13.0, grade=3)
    assert check(facts(hook="order-sign", drafts=[denosumab(draft=True)], calcium_status=grade3))


@pytest.mark.parametrize("hook", ORDER_HOOKS)
def test_card_from_fhir_has_no_suggestion_and_asks_for_an_override_reason(hook):
    """Xgeva drafted (FHIR) while the bone metastasis Condition is provisional: a warning card, no orders."""
    chart = fhir_chart(fhir_condition("bm", "C79.51", verification="provisional"))
    draft = fhir_medication_request(
        "xgeva1", "1046398", "Xgeva 120 mg", dose_mg=120, period=4, period_unit="wk"
    )
    card = card_for(order_hook_cards(hook, chart, [draft]), RULE)
    assert card is not None and card["indicator"] == "warning"
    assert "suggestions" not in card
    assert "override reason is required" in card["detail"]
    assert "MedicationRequest/xgeva1" in card["detail"] and "Condition/bm" in card["detail"]
    assert {r["code"] for r in card["overrideReasons"]} >= {"already-addressed", "not-clinically-appropriate"}


def test_template_fits_every_variant():
    """Both variants fill from the rule's values within 140 characters."""
    findings = [
        check(facts(hook="order-sign", drafts=[denosumab(draft=True)])),
        check(
            facts(
                hook="order-sign",
                conditions=[bone_metastasis(verification="suspected")],
                drafts=[zoledronic_acid(draft=True)],
            )
        ),
    ]
    assert_template_fits(RULE, findings)


def test_uncorrected_calcium_in_grade_2_range_does_not_exempt_and_the_card_says_why():
    """7.3.23 says corrected calcium: an uncorrected 11.9 mg/dL (grade-2 range, no albumin) is not graded,
    so zoledronic acid without a confirmed metastasis still warns, naming the uncorrected calcium."""
    uncorrected = calcium(11.9, grade=2, basis="total-uncorrected")
    finding = check(
        facts(hook="order-sign", drafts=[zoledronic_acid(draft=True)], calcium_status=uncorrected)
    )
    assert finding is not None
    assert "not corrected for albumin" in finding.values["calcium_note"]
    assert "grade 2 range" in finding.values["calcium_note"]


def test_calcium_note_empty_without_a_high_uncorrected_calcium():
    finding = check(
        facts(hook="order-sign", drafts=[zoledronic_acid(draft=True)], calcium_status=calcium(9.4))
    )
    assert finding is not None and finding.values["calcium_note"] == ""
