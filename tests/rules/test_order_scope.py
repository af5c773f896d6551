"""RULES.md 7.3.20: order-select checks the drafts named in `selections` (the others are context);
order-sign checks every draft."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hooks.rules.denosumab_renal_risk import denosumab_renal_risk
from hooks.rules.za_renal_dosing import za_renal_dosing
from tests.rules.factories import (
    FHIR_PATIENT,
    THRESHOLDS,
    bone_metastasis,
    card_for,
    crcl,
    denosumab,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    lab,
    order_hook_cards,
    zoledronic_acid,
)


def _extraction(rid: str) -> dict[str, Any]:
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


def _chart_and_drafts():
    xgeva = fhir_medication_request(
        "xgeva-active", "1046398", "Xgeva 120 mg", dose_mg=120, period=4, period_unit="wk", status="active"
    )
    chart = fhir_chart(fhir_condition("bm", "C79.51"), xgeva)
    prolia = fhir_medication_request(
        "prolia-d", "993452", "Prolia 60 mg", dose_mg=60, period=6, period_unit="mo"
    )
    return chart, [prolia, _extraction("ext1")]


def codes(cards):
    return [c["source"]["topic"]["code"] for c in cards]


def test_order_select_judges_only_the_selected_extraction():
    """On Xgeva; a Prolia draft (unselected) and a tooth extraction (selected): only the dental card."""
    chart, drafts = _chart_and_drafts()
    cards = order_hook_cards("order-select", chart, drafts, selected=["ServiceRequest/ext1"])
    assert codes(cards) == ["INVASIVE-DENTAL-ON-BMA"]


def test_order_select_judges_the_selected_prolia():
    chart, drafts = _chart_and_drafts()
    cards = order_hook_cards("order-select", chart, drafts, selected=["MedicationRequest/prolia-d"])
    assert card_for(cards, "BMA-DUPLICATION") is not None
    assert card_for(cards, "INVASIVE-DENTAL-ON-BMA") is None


def test_order_sign_judges_every_draft():
    chart, drafts = _chart_and_drafts()
    cards = order_hook_cards("order-sign", chart, drafts)
    assert {"BMA-DUPLICATION", "INVASIVE-DENTAL-ON-BMA"} <= set(codes(cards))


def _select(patient, *drafts):
    """order-select with only `drafts` named in `selections` (hooks/order_rules.scoped)."""
    return replace(patient, checked_drafts=frozenset(d.reference for d in drafts))


def _two_drafts_crcl_20():
    """Zoledronic acid 4 mg and Xgeva drafted together, CrCl 20 mL/min: both renal rules would fire."""
    za = zoledronic_acid(draft=True, days=0)
    xgeva = denosumab(draft=True, days=0)
    patient = facts(
        hook="order-select",
        conditions=[bone_metastasis()],
        drafts=[za, xgeva],
        clearance=crcl(20),
        labs=[lab("creatinine", 3.1, days=2)],
    )
    return patient, za, xgeva


def test_order_select_with_only_denosumab_selected_gets_no_za_card():
    patient, _za, xgeva = _two_drafts_crcl_20()
    assert za_renal_dosing(_select(patient, xgeva), THRESHOLDS) is None
    assert denosumab_renal_risk(_select(patient, xgeva), THRESHOLDS) is not None


def test_order_select_with_only_za_selected_gets_no_denosumab_renal_card():
    patient, za, _xgeva = _two_drafts_crcl_20()
    assert denosumab_renal_risk(_select(patient, za), THRESHOLDS) is None
    assert za_renal_dosing(_select(patient, za), THRESHOLDS) is not None


def test_order_sign_checks_both_renal_rules():
    patient, _za, _xgeva = _two_drafts_crcl_20()
    signing = replace(patient, hook="order-sign")
    assert za_renal_dosing(signing, THRESHOLDS) is not None
    assert denosumab_renal_risk(signing, THRESHOLDS) is not None
