"""The population run predicts what the EHR gets: for every patient of a generated export (split files,
malformed lines, US, Chinese and local coding, missing and stale data), the per-patient result equals the
cards the patient-view hook returns over HTTP for the same chart, and the order-sign cards equal the
order-sign hook's answer with the patient's active bone-modifying-agent orders as the draft orders."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from cds_service import pipeline
from cds_service.population.generator import ZA_MEDICATION, patient_chart
from cds_service.population.patient_result import ORDER_SIGN, PATIENT_VIEW, PatientResult
from cds_service.prefetch import template_type
from fhir_mappings.codesets import load_codesets
from fhir_mappings.prefetch_queries import prefetch_templates
from tests.population.conftest import SEED

PATIENT_VIEW_URL = "/cds-services/bonemet-patient-view"
ORDER_SIGN_URL = "/cds-services/bonemet-order-sign"


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch, as_of: date) -> None:
    """The hook route evaluates at `datetime.now()`; the population run at noon UTC of --as-of. The same
    instant for both, so a result near a time limit cannot fall on different sides of it."""
    noon = datetime.combine(as_of, time(12), UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # noqa: ARG003 - same signature as datetime.now
            return noon

    monkeypatch.setattr(pipeline, "datetime", Frozen)


def _prefetch(resources: list[dict[str, Any]], patient_id: str) -> dict[str, Any]:
    """What an EHR answering the service's prefetch queries would send: one searchset per key; the
    orders' Medications are included with them (`_include=MedicationRequest:medication`)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    prefetch: dict[str, Any] = {}
    for key, template in prefetch_templates(load_codesets()).items():
        resource_type = template_type(template)
        if resource_type == "Patient":
            prefetch[key] = next(iter(by_type.get("Patient", [])), None)
            continue
        found = list(by_type.get(resource_type, []))
        if resource_type == "MedicationRequest":
            found += by_type.get("Medication", [])
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in found],
        }
    return prefetch


def _cards(client: FlaskClient, url: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    response = client.post(url, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted((c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"])


def _expected(result: PatientResult, service: str) -> list[tuple[str, str]]:
    return sorted((c.rule_id, c.indicator) for c in result.cards if c.service == service)


def _request(
    hook: str, patient_id: str, prefetch: dict[str, Any], drafts: list[dict[str, Any]]
) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/population-run", "patientId": patient_id}
    if hook == "order-sign":
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}


def _bma_drafts(resources: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The generator's active zoledronic acid order as a draft, and the chart without it."""
    drafts = [
        copy.deepcopy(r)
        for r in resources
        if r["resourceType"] == "MedicationRequest" and r["id"] == "za-active"
    ]
    for draft in drafts:
        draft["status"] = "draft"
    chart = [
        r for r in resources if not (r["resourceType"] == "MedicationRequest" and r["id"] == "za-active")
    ]
    return drafts, chart


@pytest.mark.usefixtures("frozen_clock")
def test_every_patient_gets_the_cards_the_hooks_return_over_http(
    client: FlaskClient,
    export: tuple[Path, dict[str, Any]],
    local_run: tuple[dict[str, PatientResult], dict[str, Any]],
    as_of: date,
) -> None:
    results, _ = local_run
    manifest = export[1]
    anchor = datetime.combine(as_of, time(12), UTC)
    assert set(results) == set(manifest["archetypes"])
    signed = 0
    for index, patient_id in enumerate(sorted(manifest["archetypes"])):
        archetype, resources = patient_chart(index, SEED, anchor)
        if any("medicationReference" in r for r in resources):  # the export's Medication.ndjson
            resources.append(ZA_MEDICATION)
        assert archetype == manifest["archetypes"][patient_id]
        result = results[patient_id]
        assert result.error is None
        body = _request("patient-view", patient_id, _prefetch(resources, patient_id), [])
        assert _expected(result, PATIENT_VIEW) == _cards(client, PATIENT_VIEW_URL, body), (
            patient_id,
            archetype,
        )
        drafts, chart = _bma_drafts(resources)
        assert result.orders_signed == len(drafts), patient_id
        if drafts:
            signed += 1
            body = _request("order-sign", patient_id, _prefetch(chart, patient_id), drafts)
            assert _expected(result, ORDER_SIGN) == _cards(client, ORDER_SIGN_URL, body), (
                patient_id,
                archetype,
            )
        else:
            assert _expected(result, ORDER_SIGN) == []
    assert signed == manifest["mix"]["on_bma"] > 0


def test_the_sample_covers_the_mix_and_the_cards_differ_between_archetypes(
    export: tuple[Path, dict[str, Any]], local_run: tuple[dict[str, PatientResult], dict[str, Any]]
) -> None:
    """The equivalence above means something only if the sample is varied: every archetype present, and
    the run's answers differ between them (lung cancer gate, unmapped codes, unit conflicts)."""
    results, _ = local_run
    archetypes = export[1]["archetypes"]
    assert set(export[1]["mix"]) >= {
        "lung_bone_us",
        "lung_no_bone",
        "lung_bone_cn",
        "other_cancer",
        "on_bma",
        "unmapped_local",
        "missing_labs",
        "stale_labs",
        "unit_conflict",
    }
    by_archetype: dict[str, list[PatientResult]] = {}
    for patient_id, archetype in archetypes.items():
        by_archetype.setdefault(archetype, []).append(results[patient_id])
    assert all("BMA-INITIATION" in r.rules(PATIENT_VIEW) for r in by_archetype["lung_bone_us"])
    assert all("BMA-INITIATION" in r.rules(PATIENT_VIEW) for r in by_archetype["lung_bone_cn"])
    assert all("BMA-INITIATION" not in r.rules() for r in by_archetype["other_cancer"])
    assert all(
        "UNMAPPED-CODES" in r.rules(PATIENT_VIEW) and r.unmapped for r in by_archetype["unmapped_local"]
    )
    assert all(any(d.kind == "unit_conflict" for d in r.data_findings) for r in by_archetype["unit_conflict"])
