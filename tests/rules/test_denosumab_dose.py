"""DENOSUMAB-DOSE (consensus Table 1, 6.3.1): denosumab for bone metastasis is 120 mg every 4 weeks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hooks.orders import STOP_ORDER
from hooks.rules.bma_duplication import bma_duplication
from hooks.rules.denosumab_dose import denosumab_dose
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    card_for,
    denosumab,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    order_hook_cards,
    validate_action_resources,
    zoledronic_acid,
)

RULE = "DENOSUMAB-DOSE"


def prolia(**kw):
    kw.setdefault("dose_mg", 60)
    kw.setdefault("interval_days", 6 * 30.436875)  # "every 6 months" as the mapping converts it (UCUM mo)
    kw.setdefault("product", "prolia")
    return denosumab(draft=True, days=0, **kw)


def with_metastasis(hook="order-sign", **kw):
    metastasis = bone_metastasis()
    return metastasis, facts(hook=hook, conditions=[metastasis], **kw)


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_prolia_drafted_for_bone_metastasis_is_updated_to_120mg_q4w(hook):
    """Denosumab 60 mg every 6 months drafted for a patient with confirmed bone metastasis."""
    draft = prolia()
    metastasis, patient = with_metastasis(hook, drafts=[draft])
    finding = denosumab_dose(patient, THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "osteoporosis-regimen")
    (suggestion,) = finding.suggestions
    assert [(a.type, a.target, a.order_key) for a in suggestion.actions] == [
        ("update", draft.reference, "denosumab_120mg_q4w")
    ]
    assert suggestion.is_recommended
    assert evidence_refs(finding) == {draft.reference, metastasis.reference}
    assert finding.values["dose"] == "60 mg" and finding.values["interval"] == "every 6 months"


def test_120mg_every_6_months_fires_on_the_interval():
    """Denosumab 120 mg drafted every 6 months: the schedule is the osteoporosis one."""
    draft = denosumab(draft=True, interval_days=183)
    finding = denosumab_dose(with_metastasis(drafts=[draft])[1], THRESHOLDS)
    assert finding is not None and finding.suggestions[0].actions[0].target == draft.reference


def test_prolia_product_without_dose_or_interval_fires():
    """A draft coded as Prolia with no readable dose or interval is the 60 mg product."""
    draft = prolia(dose_mg=None, interval_days=None)
    finding = denosumab_dose(with_metastasis(drafts=[draft])[1], THRESHOLDS)
    assert finding is not None and finding.values["dose"] == "dose not stated"


def test_120mg_every_4_weeks_no_card():
    """Denosumab 120 mg every 4 weeks is the consensus dose."""
    assert denosumab_dose(with_metastasis(drafts=[denosumab(draft=True)])[1], THRESHOLDS) is None


def test_extended_interval_every_12_weeks_no_card():
    """120 mg every 12 weeks: Table 1 allows extending the interval by clinical judgment."""
    draft = denosumab(draft=True, interval_days=84)
    assert denosumab_dose(with_metastasis(drafts=[draft])[1], THRESHOLDS) is None


def test_prolia_without_bone_metastasis_no_card():
    """Denosumab 60 mg every 6 months for osteoporosis, no bone metastasis: not this rule's business."""
    assert denosumab_dose(facts(hook="order-sign", drafts=[prolia()]), THRESHOLDS) is None


def test_suspected_metastasis_no_card():
    """Bone metastasis only suspected: no dose change is suggested (BMA-WITHOUT-CONFIRMED-METASTASIS)."""
    patient = facts(hook="order-sign", conditions=[bone_metastasis("suspected")], drafts=[prolia()])
    assert denosumab_dose(patient, THRESHOLDS) is None


def test_patient_view_never_fires():
    """In patient-view an active Prolia order is not updated by this order-hook rule."""
    patient = facts(conditions=[bone_metastasis()], medications=[denosumab(dose_mg=60, interval_days=183)])
    assert denosumab_dose(patient, THRESHOLDS) is None


def test_prolia_drafted_beside_active_zoledronic_acid_is_left_to_duplication():
    """Prolia drafted while zoledronic acid is active is a duplicate to delete, not a dose to change."""
    _, patient = with_metastasis(medications=[zoledronic_acid()], drafts=[prolia()])
    assert denosumab_dose(patient, THRESHOLDS) is None


def test_prolia_renewal_beside_active_prolia_is_updated():
    """A patient with bone metastasis on Prolia, Prolia re-ordered: the renewal is moved to 120 mg."""
    draft = prolia()
    active = denosumab(dose_mg=60, interval_days=183, product="prolia")
    _, patient = with_metastasis(medications=[active], drafts=[draft])
    finding = denosumab_dose(patient, THRESHOLDS)
    assert finding.suggestions[0].actions[0].target == draft.reference


def test_update_from_fhir_is_a_valid_medication_request_at_120mg_q4w():
    """Prolia 60 mg (RxNorm product code) drafted in FHIR: the update keeps the draft id, becomes Xgeva."""
    chart = fhir_chart(fhir_condition("bm", "C79.51"))
    draft = fhir_medication_request(
        "prolia1", "993452", "Prolia 60 mg", dose_mg=60, period=6, period_unit="mo"
    )
    card = card_for(order_hook_cards("order-sign", chart, [draft]), RULE)
    assert card is not None and card["indicator"] == "warning"
    (action,) = validate_action_resources(card)
    assert action["type"] == "update"
    resource = action["resource"]
    assert resource["id"] == "prolia1" and resource["status"] == "draft"
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "1046398"
    (dosage,) = resource["dosageInstruction"]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 120
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}}
    assert card["selectionBehavior"] == "any"


def test_template_fits_every_variant():
    """The one variant fills within 140 characters."""
    finding = denosumab_dose(with_metastasis(drafts=[prolia()])[1], THRESHOLDS)
    assert_template_fits(RULE, [finding])


def test_prolia_renewal_on_active_prolia_also_stops_the_active_prolia():
    """7.1.5: bone metastasis on Prolia, Prolia re-ordered: change it to 120 mg and stop the active Prolia."""
    draft = prolia()
    active = denosumab(dose_mg=60, interval_days=183, product="prolia")
    _, patient = with_metastasis(medications=[active], drafts=[draft])
    finding = denosumab_dose(patient, THRESHOLDS)
    (suggestion,) = finding.suggestions
    assert [(a.type, a.order_key, a.target) for a in suggestion.actions] == [
        ("update", "denosumab_120mg_q4w", draft.reference),
        ("update", STOP_ORDER, active.reference),
    ]
    assert active.reference in evidence_refs(finding)
    assert finding.values["stop_note"]


def test_prolia_drafted_while_xgeva_active_is_left_to_duplication():
    """Prolia drafted on Xgeva: BMA-DUPLICATION deletes it; no second card changing its dose."""
    _, patient = with_metastasis(medications=[denosumab()], drafts=[prolia()])
    assert denosumab_dose(patient, THRESHOLDS) is None
    assert bma_duplication(patient, THRESHOLDS) is not None


def test_prolia_drafted_with_xgeva_together_is_left_to_duplication():
    """Prolia and Xgeva drafted together: BMA-DUPLICATION keeps one; DENOSUMAB-DOSE stays silent."""
    _, patient = with_metastasis(drafts=[prolia(), denosumab(draft=True)])
    assert denosumab_dose(patient, THRESHOLDS) is None
    assert bma_duplication(patient, THRESHOLDS).variant == "drafted-together"


def test_order_select_checks_only_the_selected_draft():
    """7.3.20: a Prolia draft that is not among the selections is context, not checked."""
    draft = prolia()
    _, patient = with_metastasis(hook="order-select", drafts=[draft])
    assert (
        denosumab_dose(replace(patient, checked_drafts=frozenset({"MedicationRequest/other"})), THRESHOLDS)
        is None
    )
    assert (
        denosumab_dose(replace(patient, checked_drafts=frozenset({draft.reference})), THRESHOLDS) is not None
    )


def test_unreadable_denosumab_renewal_on_prolia_with_metastasis_is_moved_to_120mg():
    """Bone metastasis, on Prolia, a denosumab draft with nothing readable: the Prolia renewal, changed to
    120 mg with Prolia stopped; the card says the regimen could not be read."""
    draft = denosumab(draft=True, dose_mg=None, product=None, interval_days=None)
    active = denosumab(dose_mg=60, interval_days=183, product="prolia")
    _, patient = with_metastasis(medications=[active], drafts=[draft])
    finding = denosumab_dose(patient, THRESHOLDS)
    assert [a.target for a in finding.suggestions[0].actions] == [draft.reference, active.reference]
    assert "could not be read" in finding.values["regimen_note"]


def test_unreadable_denosumab_draft_without_prolia_is_not_changed():
    """Without an osteoporosis order to renew, an unreadable denosumab draft counts as oncology: no update."""
    draft = denosumab(draft=True, dose_mg=None, product=None, interval_days=None)
    _, patient = with_metastasis(drafts=[draft])
    assert denosumab_dose(patient, THRESHOLDS) is None


def test_weekly_interval_and_missing_interval_are_written_as_a_prescriber_would():
    weekly = prolia(interval_days=28)
    unstated = prolia(interval_days=None)
    for draft, expected in ((weekly, "every 4 weeks"), (unstated, "interval not stated")):
        _metastasis, patient = with_metastasis("order-sign", drafts=[draft])
        assert denosumab_dose(patient, THRESHOLDS).values["interval"] == expected
