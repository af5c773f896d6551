"""Every order a suggestion can create is a complete FHIR R4 resource (validated with fhir.resources R4B)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from hooks.code_systems import UCUM
from hooks.findings import ActionSpec
from hooks.order_catalog import MedicationOrder, OrderCatalogError, ServiceOrder
from hooks.orders import (
    UnknownDraftOrder,
    build_action,
    create_resource,
    load_order_catalog,
    updated_medication_request,
)
from tests.cards.conftest import (
    PATIENT_ID,
    PROLIA_DRAFT_REF,
    ZA_DRAFT_REF,
    prolia_draft,
    zoledronic_acid_draft,
)

CATALOG = load_order_catalog()
MODELS = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}


def _validate(resource: dict[str, Any]) -> Any:
    return MODELS[resource["resourceType"]].model_validate(resource)


@pytest.mark.parametrize("key", CATALOG.keys())
def test_every_catalog_order_is_a_valid_r4_resource_for_the_patient(key: str) -> None:
    resource = create_resource(
        CATALOG.entry(key), patient_id=PATIENT_ID, reason="Bone metastasis of lung cancer"
    )
    model = _validate(resource)
    assert model.status == "draft" and model.intent == "order"
    assert model.subject.reference == f"Patient/{PATIENT_ID}"
    assert resource["reasonCode"] == [{"text": "Bone metastasis of lung cancer"}]


@pytest.mark.parametrize("key", sorted(CATALOG.medications))
def test_a_medication_order_is_coded_and_dosed(key: str) -> None:
    entry = CATALOG.medications[key]
    resource = create_resource(entry, patient_id=PATIENT_ID)
    concept = resource["medicationCodeableConcept"]
    assert concept["coding"] == [entry.code] and concept["text"] == entry.text
    (dosage,) = resource["dosageInstruction"]
    assert dosage["text"] == entry.instruction
    assert dosage["timing"] == {"repeat": entry.timing}
    assert dosage["route"]["coding"] == [entry.route]
    quantity = dosage["doseAndRate"][0]["doseQuantity"]
    assert (
        quantity["system"] == UCUM
        and quantity["code"] == entry.dose_unit
        and quantity["value"] == entry.dose_value
    )
    assert "reasonCode" not in resource  # no reason given: FHIR forbids an empty string


def test_vitamin_d_is_dosed_in_ucum_international_units() -> None:
    quantity = create_resource(CATALOG.entry("vitamin_d_400iu_daily"), patient_id=PATIENT_ID)[
        "dosageInstruction"
    ][0]
    assert quantity["doseAndRate"][0]["doseQuantity"] == {
        "value": 400,
        "unit": "IU",
        "system": UCUM,
        "code": "[iU]",
    }


@pytest.mark.parametrize("key", sorted(CATALOG.services))
def test_a_service_order_has_category_code_and_priority_when_given(key: str) -> None:
    entry = CATALOG.services[key]
    resource = create_resource(entry, patient_id=PATIENT_ID)
    assert resource["category"][0]["coding"] == [entry.category]
    assert resource["code"]["coding"] == [entry.code]
    assert resource.get("priority") == entry.priority


def test_spine_mri_for_cord_compression_is_stat() -> None:
    assert create_resource(CATALOG.entry("imaging_mri_spine"), patient_id=PATIENT_ID)["priority"] == "stat"


@pytest.mark.parametrize("key", sorted(k for k in CATALOG.medications if k.startswith("zoledronic_acid")))
def test_an_update_keeps_the_draft_and_changes_only_dose_route_timing(key: str) -> None:
    draft = zoledronic_acid_draft()
    updated = updated_medication_request(draft, CATALOG.medications[key])
    _validate(updated)
    assert updated["id"] == "za-draft-1" and updated["status"] == "draft"
    assert updated["medicationCodeableConcept"] == draft["medicationCodeableConcept"]  # same drug: kept
    assert updated["authoredOn"] == draft["authoredOn"]
    (dosage,) = updated["dosageInstruction"]
    assert dosage["sequence"] == 1 and dosage["additionalInstruction"] == [
        {"text": "Check creatinine before each dose"}
    ]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == CATALOG.medications[key].dose_value
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}}
    assert dosage["text"] == CATALOG.medications[key].instruction
    assert "maxDosePerAdministration" not in dosage  # the old 4 mg maximum would contradict the new dose
    assert draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 4  # draft not mutated


def test_an_update_to_another_drug_replaces_the_medication() -> None:
    updated = updated_medication_request(prolia_draft(), CATALOG.medications["denosumab_120mg_q4w"])
    _validate(updated)
    assert updated["medicationCodeableConcept"]["coding"][0]["code"] == "1046398"
    assert updated["dosageInstruction"][0]["timing"]["repeat"]["periodUnit"] == "wk"


def test_an_update_of_a_draft_with_a_medication_reference_stays_valid() -> None:
    draft = {**zoledronic_acid_draft(), "medicationReference": {"reference": "Medication/zometa"}}
    del draft["medicationCodeableConcept"]
    updated = updated_medication_request(draft, CATALOG.medications["zoledronic_acid_3_5mg"])
    _validate(updated)
    assert "medicationReference" not in updated


def test_update_and_delete_actions_name_the_drafted_order() -> None:
    drafts = {ZA_DRAFT_REF: zoledronic_acid_draft(), PROLIA_DRAFT_REF: prolia_draft()}
    update = build_action(
        ActionSpec("update", order_key="zoledronic_acid_3_3mg", target=ZA_DRAFT_REF),
        patient_id=PATIENT_ID,
        drafts_by_ref=drafts,
        catalog=CATALOG,
    )
    assert update["resource"]["id"] == "za-draft-1"
    delete = build_action(
        ActionSpec("delete", target=PROLIA_DRAFT_REF),
        patient_id=PATIENT_ID,
        drafts_by_ref=drafts,
        catalog=CATALOG,
    )
    assert delete["resourceId"] == PROLIA_DRAFT_REF and "resource" not in delete


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        (
            ActionSpec("delete", target="MedicationRequest/other"),
            UnknownDraftOrder,
            "not among the request's draft",
        ),
        (
            ActionSpec("update", order_key="zoledronic_acid_3mg", target="MedicationRequest/x"),
            UnknownDraftOrder,
            "x",
        ),
        (ActionSpec("delete"), ValueError, "needs target"),
        (ActionSpec("create"), ValueError, "needs order_key"),
        (ActionSpec("create", order_key="aspirin"), LookupError, "no entry 'aspirin'"),
        (ActionSpec("delete", target="za-draft-1"), ValueError, "not a relative reference"),
        (ActionSpec("update", order_key="lab_calcium", target=ZA_DRAFT_REF), ValueError, "not a medication"),
    ],
)
def test_a_bad_action_spec_is_a_programming_error(spec: ActionSpec, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build_action(
            spec,
            patient_id=PATIENT_ID,
            drafts_by_ref={ZA_DRAFT_REF: zoledronic_acid_draft()},
            catalog=CATALOG,
        )


def test_an_invalid_patient_id_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid FHIR id"):
        create_resource(CATALOG.entry("lab_calcium"), patient_id="a/b")


def test_a_site_file_replaces_an_entry_by_key_and_may_add_one(tmp_path: Path) -> None:
    (tmp_path / "orders.yaml").write_text(
        """
medications:
  denosumab_120mg_q4w:
    code: {system: "urn:oid:2.16.840.1.113883.6.x", code: "XGEVA-120", display: "Xgeva 120 mg vial"}
    text: "Xgeva 120 mg SC every 4 weeks"
    dose: {value: 120, unit: mg}
    route: {system: "http://snomed.info/sct", code: "34206005", display: "Subcutaneous route"}
    timing: {frequency: 1, period: 4, periodUnit: wk}
    instruction: "120 mg SC every 4 weeks"
services:
  lab_ctx:
    category: laboratory
    code: {system: "http://loinc.org", code: "41171-0", display: "CTX"}
""",
        encoding="utf-8",
    )
    site = load_order_catalog(tmp_path)
    assert site.medications["denosumab_120mg_q4w"].code["code"] == "XGEVA-120"
    assert site.medications["zoledronic_acid_4mg"] == CATALOG.medications["zoledronic_acid_4mg"]
    assert isinstance(site.entry("lab_ctx"), ServiceOrder) and site.entry("lab_ctx").text == "CTX"
    _validate(create_resource(site.entry("denosumab_120mg_q4w"), patient_id=PATIENT_ID))


def test_no_site_file_means_the_shipped_catalog(tmp_path: Path) -> None:
    assert load_order_catalog(tmp_path) == CATALOG


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drugs: {}\n", "unknown section"),
        ("medications: [a]\n", "section 'medications' must be a mapping"),
        ("services:\n  x: {category: nowhere, code: {system: s, code: c, display: d}}\n", "unknown category"),
        (
            "services:\n  x: {category: imaging, code: {system: s, code: 123, display: d}}\n",
            r"services.x.code.code",
        ),
        (
            "services:\n  x: {category: imaging, priority: soon, code: {system: s, code: c, display: d}}\n",
            "priority",
        ),
        ("medications:\n  lab_calcium: {}\n", "medications.lab_calcium"),
        ("medications:\n  calcium_500mg_daily: {dose: {value: 0, unit: mg}}\n", "dose.value"),
        ("categories:\n  imaging: {system: s}\n", "categories.imaging.code"),
        (": [\n", "not valid YAML"),
    ],
)
def test_a_malformed_site_file_names_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "orders.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(OrderCatalogError, match=message) as caught:
        load_order_catalog(tmp_path)
    assert "orders.yaml" in str(caught.value)


def test_a_bad_timing_unit_is_refused(tmp_path: Path) -> None:
    entry = CATALOG.medications["calcium_500mg_daily"]
    raw = {
        "code": entry.code,
        "text": entry.text,
        "dose": {"value": 1250, "unit": "mg"},
        "route": entry.route,
        "timing": {"frequency": 1, "period": 1, "periodUnit": "day"},
        "instruction": entry.instruction,
    }
    import yaml

    (tmp_path / "orders.yaml").write_text(
        yaml.safe_dump({"medications": {"calcium_500mg_daily": raw}}), "utf-8"
    )
    with pytest.raises(OrderCatalogError, match="periodUnit"):
        load_order_catalog(tmp_path)
    assert isinstance(entry, MedicationOrder)
