"""Update actions that real charts need (RULES.md 7.1.5, 7.3.22): stopping a chart order, and drafts whose
dosageInstruction is not a list of dosages."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from hooks.findings import ActionSpec
from hooks.orders import STOP_ORDER, UnknownDraftOrder, build_action, load_order_catalog
from tests.cards.conftest import PATIENT_ID, PROLIA_DRAFT_REF, prolia_draft

CATALOG = load_order_catalog()


def active_prolia() -> dict[str, Any]:
    order = prolia_draft()
    return {**order, "id": "prolia-active", "status": "active", "authoredOn": "2026-03-01"}


def test_stop_returns_the_whole_chart_order_with_status_stopped() -> None:
    chart = {"MedicationRequest/prolia-active": active_prolia()}
    spec = ActionSpec(
        "update", order_key=STOP_ORDER, target="MedicationRequest/prolia-active", reason="Switch"
    )
    action = build_action(
        spec, patient_id=PATIENT_ID, drafts_by_ref={}, catalog=CATALOG, chart_orders_by_ref=chart
    )
    resource = action["resource"]
    MedicationRequest.model_validate(resource)
    assert action["type"] == "update" and action["description"].startswith("Stop Prolia")
    assert resource["status"] == "stopped" and resource["statusReason"] == {"text": "Switch"}
    assert {k: v for k, v in resource.items() if k not in ("status", "statusReason")} == {
        k: v for k, v in active_prolia().items() if k != "status"
    }
    assert chart["MedicationRequest/prolia-active"]["status"] == "active"  # the input is not modified


def test_stop_of_an_order_not_in_the_chart_raises() -> None:
    spec = ActionSpec("update", order_key=STOP_ORDER, target="MedicationRequest/elsewhere")
    with pytest.raises(UnknownDraftOrder):
        build_action(spec, patient_id=PATIENT_ID, drafts_by_ref={}, catalog=CATALOG, chart_orders_by_ref={})


def test_a_dose_update_never_reaches_a_chart_order() -> None:
    """Only STOP_ORDER reads chart orders: a dose update naming one is refused."""
    chart = {"MedicationRequest/prolia-active": active_prolia()}
    spec = ActionSpec("update", order_key="denosumab_120mg_q4w", target="MedicationRequest/prolia-active")
    with pytest.raises(UnknownDraftOrder):
        build_action(
            spec, patient_id=PATIENT_ID, drafts_by_ref={}, catalog=CATALOG, chart_orders_by_ref=chart
        )


@pytest.mark.parametrize("unreadable", ["60 mg every 6 months", 60, {"text": "60 mg"}, [], ["60 mg"]])
def test_update_of_a_draft_with_unreadable_dosage_replaces_it_and_says_so(unreadable: Any) -> None:
    draft = {**prolia_draft(), "dosageInstruction": unreadable}
    spec = ActionSpec("update", order_key="denosumab_120mg_q4w", target=PROLIA_DRAFT_REF)
    action = build_action(
        spec, patient_id=PATIENT_ID, drafts_by_ref={PROLIA_DRAFT_REF: draft}, catalog=CATALOG
    )
    resource = action["resource"]
    MedicationRequest.model_validate(resource)
    (dosage,) = resource["dosageInstruction"]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 120
    assert "could not be read" in action["description"]


def test_update_of_a_readable_draft_does_not_claim_it_was_unreadable() -> None:
    spec = ActionSpec("update", order_key="denosumab_120mg_q4w", target=PROLIA_DRAFT_REF)
    action = build_action(
        spec, patient_id=PATIENT_ID, drafts_by_ref={PROLIA_DRAFT_REF: prolia_draft()}, catalog=CATALOG
    )
    assert "could not be read" not in action["description"]


def test_incadronate_update_keeps_the_sites_own_drug_code() -> None:
    """Incadronate has no RxNorm or ATC code: a dose update keeps the drafted (local) coding."""
    local = {"coding": [{"system": "urn:oid:1.2.156.1", "code": "X-INC-10"}], "text": "incadronate 10 mg"}
    draft = {**prolia_draft(), "id": "inc1", "medicationCodeableConcept": local}
    spec = ActionSpec("update", order_key="incadronate_5mg_q4w", target="MedicationRequest/inc1")
    action = build_action(
        spec, patient_id=PATIENT_ID, drafts_by_ref={"MedicationRequest/inc1": draft}, catalog=CATALOG
    )
    assert action["resource"]["medicationCodeableConcept"] == local
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 5
