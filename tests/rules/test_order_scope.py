"""RULES.md 7.3.20: order-select checks the drafts named in `selections` (the others are context);
order-sign checks every draft."""

from __future__ import annotations

from typing import Any

from tests.rules.factories import (
    FHIR_PATIENT,
    card_for,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    order_hook_cards,
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
        "xgeva-active", "993449", "Xgeva 120 mg", dose_mg=120, period=4, period_unit="wk", status="active"
    )
    chart = fhir_chart(fhir_condition("bm", "C79.51"), xgeva)
    prolia = fhir_medication_request(
        "prolia-d", "993449", "Prolia 60 mg", dose_mg=60, period=6, period_unit="mo"
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
