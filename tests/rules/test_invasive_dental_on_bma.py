"""INVASIVE-DENTAL-ON-BMA (consensus Table 1 precautions, 6.3.3): no invasive dental procedure on a BMA."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hooks.rules.invasive_dental_on_bma import invasive_dental_on_bma
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import (
    FHIR_PATIENT,
    THRESHOLDS,
    bone_metastasis,
    card_for,
    denosumab,
    event,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    order_hook_cards,
    zoledronic_acid,
)

RULE = "INVASIVE-DENTAL-ON-BMA"


def extraction(**kw):
    kw.setdefault("resource_type", "ServiceRequest")
    return event("invasive_dental", days=0, status="draft", draft=True, **kw)


def check(**kw):
    kw.setdefault("hook", "order-sign")
    return invasive_dental_on_bma(facts(conditions=[bone_metastasis()], **kw), THRESHOLDS)


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize("resource_type", ["ServiceRequest", "Procedure"])
def test_tooth_extraction_drafted_on_denosumab_fires(hook, resource_type):
    """A patient on denosumab 120 mg; a tooth extraction is drafted: warn about ONJ, suggest nothing."""
    bma = denosumab()
    procedure = extraction(resource_type=resource_type)
    finding = check(hook=hook, medications=[bma], draft_events=[procedure])
    assert finding is not None
    assert (finding.rule_id, finding.indicator) == (RULE, "warning")
    assert finding.suggestions == ()
    assert evidence_refs(finding) == {procedure.reference, bma.reference}
    assert finding.values["bma"] == "denosumab"


def test_routine_dental_cleaning_no_card():
    """A dental cleaning or examination drafted on zoledronic acid is not invasive."""
    cleaning = event("dental_exam", days=0, status="draft", draft=True, resource_type="ServiceRequest")
    assert check(medications=[zoledronic_acid()], draft_events=[cleaning]) is None


def test_no_bma_active_no_card():
    """A tooth extraction for a patient with no bone-modifying drug."""
    assert check(draft_events=[extraction()]) is None


def test_bma_drafted_with_the_extraction_is_not_active():
    """First denosumab dose drafted together with an extraction: dental work before the first dose is fine."""
    assert check(drafts=[denosumab(draft=True)], draft_events=[extraction()]) is None


def test_bisphosphonate_stopped_within_24_months_still_fires():
    """7.2.19: zoledronic acid ended 12 months ago; the ONJ risk outlasts the order: `recent` warning."""
    stopped = zoledronic_acid(status="stopped", days=700, end_days=365)
    finding = check(medications=[stopped], draft_events=[extraction()])
    assert (finding.indicator, finding.variant) == ("warning", "recent")
    assert stopped.reference in evidence_refs(finding)
    assert finding.values["bp_months"] == "24"


def test_bisphosphonate_stopped_more_than_24_months_ago_no_card():
    """Zoledronic acid ended 30 months ago: beyond the 24-month window."""
    stopped = zoledronic_acid(status="completed", days=1200, end_days=913)
    assert check(medications=[stopped], draft_events=[extraction()]) is None


def test_denosumab_stopped_within_6_months_fires():
    """Denosumab ended 4 months ago: within its 6-month window."""
    stopped = denosumab(status="stopped", days=300, end_days=120)
    assert check(medications=[stopped], draft_events=[extraction()]).variant == "recent"


def test_denosumab_stopped_8_months_ago_no_card():
    """Denosumab ended 8 months ago: its effect on bone turnover has worn off (6-month window)."""
    stopped = denosumab(status="stopped", days=500, end_days=243)
    assert check(medications=[stopped], draft_events=[extraction()]) is None


def test_stopped_order_without_end_date_counts_from_its_start():
    """No end date: the last day the chart proves is the start (18 months ago): within 24 months."""
    stopped = zoledronic_acid(status="stopped", days=548)
    assert check(medications=[stopped], draft_events=[extraction()]) is not None


def test_osteoporosis_regimen_counts_for_the_jaw():
    """Prolia (osteoporosis) active: the ONJ risk is the drug's, whatever the regimen."""
    prolia = denosumab(dose_mg=60, interval_days=183, product="prolia")
    assert check(medications=[prolia], draft_events=[extraction()]).variant == "default"


def test_cancelled_order_never_given_does_not_count():
    """A cancelled zoledronic acid order was never given: no card."""
    assert check(medications=[zoledronic_acid(status="cancelled")], draft_events=[extraction()]) is None


def test_order_select_ignores_an_unselected_extraction():
    """7.3.20: the extraction is not among the selections: not checked."""
    procedure = extraction()
    patient = facts(hook="order-select", conditions=[bone_metastasis()], medications=[denosumab()])
    patient = replace(patient, draft_events=(procedure,), checked_drafts=frozenset({"ServiceRequest/x"}))
    assert invasive_dental_on_bma(patient, THRESHOLDS) is None
    assert invasive_dental_on_bma(replace(patient, checked_drafts=None), THRESHOLDS) is not None


def test_completed_extraction_in_the_chart_is_not_a_draft():
    """A past extraction in the chart (not being ordered now) gives no card."""
    past = event("invasive_dental", days=40)
    assert check(medications=[denosumab()], events=[past]) is None


def test_patient_view_never_fires():
    """Patient-view does not run the rule."""
    assert check(hook="patient-view", medications=[denosumab()], draft_events=[extraction()]) is None


def _extraction_request(rid: str) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "55162003"}],
            "text": "Tooth extraction",
        },
        "subject": {"reference": f"Patient/{FHIR_PATIENT}"},
    }


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_card_from_fhir_for_an_extraction_request_on_denosumab(hook):
    """FHIR: Xgeva active in the chart, a tooth extraction ServiceRequest drafted: the warning card alone."""
    active = fhir_medication_request(
        "xgeva-active", "1046398", "Xgeva 120 mg", dose_mg=120, period=4, period_unit="wk", status="active"
    )
    chart = fhir_chart(fhir_condition("bm", "C79.51"), active)
    cards = order_hook_cards(hook, chart, [_extraction_request("ext1")])
    card = card_for(cards, RULE)
    assert card is not None and card["indicator"] == "warning"
    assert "suggestions" not in card
    assert "ServiceRequest/ext1" in card["detail"] and "MedicationRequest/xgeva-active" in card["detail"]
    assert [c["source"]["topic"]["code"] for c in cards] == [RULE]  # no BMA drafted: no other order check


def test_template_fits_every_variant():
    finding = check(medications=[denosumab(), zoledronic_acid()], draft_events=[extraction()])
    stopped = zoledronic_acid(status="stopped", days=700, end_days=365)
    recent = check(medications=[stopped], draft_events=[extraction()])
    assert_template_fits(RULE, [finding, recent])
