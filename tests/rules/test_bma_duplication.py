"""BMA-DUPLICATION (consensus 6.3, Table 1): one bone-modifying drug at a time; delete the duplicate draft."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hooks.orders import STOP_ORDER
from hooks.rules.bma_duplication import bma_duplication
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
    medication,
    order_hook_cards,
    validate_action_resources,
    zoledronic_acid,
)

RULE = "BMA-DUPLICATION"


def patient(**kw):
    kw.setdefault("hook", "order-sign")
    return facts(conditions=[bone_metastasis()], **kw)


def actions(suggestion):
    return [(a.type, a.target) for a in suggestion.actions]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_denosumab_drafted_while_zoledronic_acid_active_deletes_the_draft(hook):
    """On zoledronic acid, denosumab 120 mg is drafted: remove the draft, leave the active order."""
    active = zoledronic_acid()
    draft = denosumab(draft=True, days=0)
    finding = bma_duplication(patient(hook=hook, medications=[active], drafts=[draft]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "critical", "with-active")
    (suggestion,) = finding.suggestions
    assert actions(suggestion) == [("delete", draft.reference)]
    assert suggestion.is_recommended
    assert active.reference not in {a.target for a in suggestion.actions}
    assert evidence_refs(finding) == {active.reference, draft.reference}
    assert finding.values["active"] == "zoledronic acid"


def test_prolia_drafted_while_xgeva_active_names_the_label():
    """On Xgeva, Prolia 60 mg is drafted: same ingredient, delete the Prolia draft."""
    draft = denosumab(draft=True, dose_mg=60, interval_days=183, product="prolia")
    finding = bma_duplication(patient(medications=[denosumab()], drafts=[draft]), THRESHOLDS)
    assert finding.variant == "with-active"
    assert actions(finding.suggestions[0]) == [("delete", draft.reference)]
    assert "Xgeva label" in finding.outside_sources[0]


def test_two_bmas_drafted_together_offer_a_choice_of_which_to_keep():
    """No BMA yet; denosumab and zoledronic acid drafted together: keep one, none preselected."""
    dmab, za = denosumab(draft=True), zoledronic_acid(draft=True)
    finding = bma_duplication(patient(drafts=[dmab, za]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "drafted-together")
    assert [actions(s) for s in finding.suggestions] == [
        [("delete", za.reference)],
        [("delete", dmab.reference)],
    ]
    assert not any(s.is_recommended for s in finding.suggestions)
    assert finding.selection_behavior == "at-most-one"
    assert finding.outside_sources == ()


def test_same_agent_drafted_twice_is_a_duplicate():
    """Two denosumab 120 mg drafts in one order session cannot both be renewals."""
    first, second = denosumab(draft=True), denosumab(draft=True)
    finding = bma_duplication(patient(medications=[denosumab()], drafts=[first, second]), THRESHOLDS)
    assert finding.variant == "drafted-together"
    assert {a.target for s in finding.suggestions for a in s.actions} == {first.reference, second.reference}


def test_renewal_of_the_same_agent_is_not_a_duplicate():
    """On denosumab 120 mg, the next denosumab 120 mg order is drafted: a renewal, no card."""
    assert (
        bma_duplication(patient(medications=[denosumab()], drafts=[denosumab(draft=True)]), THRESHOLDS)
        is None
    )


def test_denosumab_of_unknown_product_renewing_xgeva_is_not_a_duplicate():
    """A denosumab draft without product or dose cannot be shown to be Prolia: read as a renewal."""
    draft = denosumab(draft=True, dose_mg=None, product=None)
    assert bma_duplication(patient(medications=[denosumab()], drafts=[draft]), THRESHOLDS) is None


def test_single_first_dose_no_card():
    """A first BMA dose with nothing active and nothing else drafted."""
    assert bma_duplication(patient(drafts=[zoledronic_acid(draft=True)]), THRESHOLDS) is None


def test_stopped_bma_does_not_count():
    """Zoledronic acid stopped last month, denosumab drafted: a switch, not a duplicate."""
    stopped = zoledronic_acid(status="stopped")
    assert bma_duplication(patient(medications=[stopped], drafts=[denosumab(draft=True)]), THRESHOLDS) is None


def test_supplement_beside_bma_is_not_a_duplicate():
    """Calcium drafted beside an active denosumab is not a second BMA."""
    calcium = medication("calcium_supplement", agent_class="supplement", draft=True)
    assert bma_duplication(patient(medications=[denosumab()], drafts=[calcium]), THRESHOLDS) is None


def test_patient_view_never_fires():
    """Patient-view does not run the rule, even with two active BMAs."""
    both = [denosumab(), zoledronic_acid()]
    assert bma_duplication(patient(hook="patient-view", medications=both), THRESHOLDS) is None


def test_renewal_plus_another_agent_deletes_only_the_other_agent():
    """On zoledronic acid; zoledronic acid renewal and denosumab drafted: delete the denosumab draft."""
    renewal, dmab = zoledronic_acid(draft=True), denosumab(draft=True)
    finding = bma_duplication(patient(medications=[zoledronic_acid()], drafts=[renewal, dmab]), THRESHOLDS)
    assert finding.variant == "with-active"
    (suggestion,) = finding.suggestions
    assert actions(suggestion) == [("delete", dmab.reference)]


def test_delete_from_fhir_names_the_draft_and_never_the_active_order():
    """FHIR: zoledronic acid active in the chart, Xgeva drafted: a delete of MedicationRequest/xgeva1."""
    active = fhir_medication_request(
        "za-active", "77655", "Zoledronic acid 4 mg", dose_mg=4, period=4, period_unit="wk", status="active"
    )
    chart = fhir_chart(fhir_condition("bm", "C79.51"), active)
    draft = fhir_medication_request(
        "xgeva1", "1046398", "Xgeva 120 mg", dose_mg=120, period=4, period_unit="wk"
    )
    cards = order_hook_cards("order-sign", chart, [draft])
    card = card_for(cards, RULE)
    assert card is not None and card["indicator"] == "critical"
    assert cards[0] is card  # critical first
    (action,) = validate_action_resources(card)
    assert action == {
        "type": "delete",
        "description": "Remove the drafted order Xgeva 120 mg (MedicationRequest/xgeva1)",
        "resourceId": "MedicationRequest/xgeva1",
    }
    assert card["selectionBehavior"] == "at-most-one"


def prolia(**kw):
    return denosumab(dose_mg=60, interval_days=183, product="prolia", **kw)


def test_xgeva_drafted_while_on_prolia_stops_prolia_and_keeps_the_draft():
    """7.3.22: on Prolia, Xgeva drafted: warning; stop Prolia (update to stopped), never delete Xgeva."""
    on_prolia, xgeva = prolia(), denosumab(draft=True)
    finding = bma_duplication(patient(medications=[on_prolia], drafts=[xgeva]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "osteoporosis-active")
    (suggestion,) = finding.suggestions
    assert [(a.type, a.order_key, a.target) for a in suggestion.actions] == [
        ("update", STOP_ORDER, on_prolia.reference)
    ]
    assert xgeva.reference not in {a.target for a in suggestion.actions}
    assert "Xgeva label" in finding.outside_sources[0]


def test_prolia_renewal_alone_is_not_this_rules_business():
    """Prolia renewed while on Prolia: no oncology order involved, no duplicate (DENOSUMAB-DOSE decides)."""
    assert bma_duplication(patient(medications=[prolia()], drafts=[prolia(draft=True)]), THRESHOLDS) is None


def test_reclast_drafted_while_on_zoledronic_acid_oncology_is_a_duplicate():
    """Zoledronic acid 5 mg yearly drafted on zoledronic acid 4 mg every 4 weeks: critical, delete it."""
    reclast = zoledronic_acid(draft=True, dose_mg=5.0, interval_days=365)
    finding = bma_duplication(patient(medications=[zoledronic_acid()], drafts=[reclast]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "with-active")
    assert actions(finding.suggestions[0]) == [("delete", reclast.reference)]


def test_two_drafts_while_on_prolia_each_keep_one_and_stop_prolia():
    """Xgeva and zoledronic acid drafted while on Prolia: critical; each choice also stops Prolia."""
    on_prolia = prolia()
    xgeva, za = denosumab(draft=True), zoledronic_acid(draft=True)
    finding = bma_duplication(patient(medications=[on_prolia], drafts=[xgeva, za]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "drafted-together")
    assert [actions(s) for s in finding.suggestions] == [
        [("delete", za.reference), ("update", on_prolia.reference)],
        [("delete", xgeva.reference), ("update", on_prolia.reference)],
    ]
    assert on_prolia.display in finding.values["stop_note"]


def test_unreadable_regimen_counts_as_oncology_and_the_card_says_so():
    """An active zoledronic acid order with no dose or interval: counted as oncology, card says so."""
    unread = zoledronic_acid(dose_mg=None, interval_days=None)
    assert unread.regimen == "unknown"
    finding = bma_duplication(patient(medications=[unread], drafts=[denosumab(draft=True)]), THRESHOLDS)
    assert finding.variant == "with-active"
    assert "could not be read" in finding.values["regimen_note"]


def test_readable_regimens_leave_no_regimen_note():
    finding = bma_duplication(
        patient(medications=[zoledronic_acid()], drafts=[denosumab(draft=True)]), THRESHOLDS
    )
    assert finding.values["regimen_note"] == ""


def test_order_select_fires_for_a_selected_draft_duplicating_an_unselected_one():
    """7.3.20: the selected zoledronic acid duplicates an unselected Xgeva draft (context): critical."""
    xgeva, za = denosumab(draft=True), zoledronic_acid(draft=True)
    scoped = replace(
        patient(hook="order-select", drafts=[xgeva, za]), checked_drafts=frozenset({za.reference})
    )
    finding = bma_duplication(scoped, THRESHOLDS)
    assert finding is not None and finding.variant == "drafted-together"


def test_order_select_does_not_judge_an_unselected_duplicate():
    """7.3.20: on zoledronic acid; the renewal is selected, an unselected Xgeva draft is context: no card."""
    renewal, xgeva = zoledronic_acid(draft=True), denosumab(draft=True)
    base = patient(hook="order-select", medications=[zoledronic_acid()], drafts=[renewal, xgeva])
    assert bma_duplication(replace(base, checked_drafts=frozenset({renewal.reference})), THRESHOLDS) is None
    assert bma_duplication(replace(base, checked_drafts=None), THRESHOLDS) is not None


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_fhir_xgeva_on_prolia_stop_is_the_full_chart_order_with_status_stopped(hook):
    """FHIR: Prolia active in the chart, Xgeva drafted: the update is the Prolia order, stopped."""
    on_prolia = fhir_medication_request(
        "prolia1", "993452", "Prolia 60 mg", dose_mg=60, period=6, period_unit="mo", status="active"
    )
    chart = fhir_chart(fhir_condition("bm", "C79.51"), on_prolia)
    draft = fhir_medication_request(
        "xgeva1", "1046398", "Xgeva 120 mg", dose_mg=120, period=4, period_unit="wk"
    )
    card = card_for(order_hook_cards(hook, chart, [draft]), RULE)
    assert card is not None and card["indicator"] == "warning"
    (action,) = validate_action_resources(card)
    assert action["type"] == "update"
    resource = action["resource"]
    assert resource["id"] == "prolia1" and resource["status"] == "stopped"
    assert resource["dosageInstruction"] == on_prolia["dosageInstruction"]
    assert resource["statusReason"]["text"]
    assert all(a.get("resourceId") != "MedicationRequest/xgeva1" for a in card["suggestions"][0]["actions"])


def test_template_fits_every_variant():
    """Every variant fills within 140 characters."""
    findings = [
        bma_duplication(patient(medications=[zoledronic_acid()], drafts=[denosumab(draft=True)]), THRESHOLDS),
        bma_duplication(patient(drafts=[denosumab(draft=True), zoledronic_acid(draft=True)]), THRESHOLDS),
        bma_duplication(patient(medications=[prolia()], drafts=[denosumab(draft=True)]), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)


def test_unreadable_denosumab_draft_on_prolia_is_a_renewal_not_a_reason_to_stop_prolia():
    """A denosumab draft with no product, dose or interval while on Prolia: read as the Prolia renewal."""
    unread = denosumab(draft=True, dose_mg=None, product=None, interval_days=None)
    assert unread.regimen == "unknown"
    assert bma_duplication(patient(medications=[prolia()], drafts=[unread]), THRESHOLDS) is None
