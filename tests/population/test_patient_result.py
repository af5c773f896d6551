"""The per-patient record both engines produce: comparable, serialisable, and never silent on an error."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from cds_service.population.generator import ZA_MEDICATION, patient_chart
from cds_service.population.patient_result import (
    ORDER_SIGN,
    PATIENT_VIEW,
    PatientResult,
    RuntimeParts,
    evaluate_patient,
    load_runtime_parts,
)

AS_OF = date(2026, 6, 1)


@pytest.fixture(scope="module")
def parts() -> RuntimeParts:
    return load_runtime_parts()


def _chart(resources: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    chart: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        chart.setdefault(resource["resourceType"], []).append(resource)
    return chart


def _generated(archetype: str) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    anchor = datetime.combine(AS_OF, time(12), UTC)
    for index in range(400):
        found, resources = patient_chart(index, 3, anchor)
        if found == archetype:
            if any("medicationReference" in r for r in resources):
                resources.append(ZA_MEDICATION)
            return f"pop-{index:06d}", _chart(resources)
    raise AssertionError(f"no {archetype} patient in 400")


def test_results_survive_pickle_and_json_and_compare_equal(parts: RuntimeParts) -> None:
    patient_id, chart = _generated("unmapped_local")
    result = evaluate_patient(parts, patient_id, chart, AS_OF)
    assert result.unmapped and result.cards
    assert pickle.loads(pickle.dumps(result)) == result
    assert PatientResult.from_json(result.to_json()) == result
    assert evaluate_patient(parts, patient_id, chart, AS_OF) == result  # deterministic
    assert replace(result, cards=result.cards[1:]) != result


def test_an_active_bma_order_is_signed_as_a_draft(parts: RuntimeParts) -> None:
    patient_id, chart = _generated("on_bma")
    result = evaluate_patient(parts, patient_id, chart, AS_OF)
    assert result.orders_signed == 1
    assert result.rules(ORDER_SIGN)
    assert "BMA-INITIATION" not in result.rules(PATIENT_VIEW)  # already on a BMA


def test_no_active_bma_order_no_order_sign(parts: RuntimeParts) -> None:
    patient_id, chart = _generated("lung_bone_us")
    result = evaluate_patient(parts, patient_id, chart, AS_OF)
    assert result.orders_signed == 0 and result.rules(ORDER_SIGN) == ()
    assert "BMA-INITIATION" in result.rules(PATIENT_VIEW)


def test_duplicates_across_files_are_read_once(parts: RuntimeParts) -> None:
    patient_id, chart = _generated("lung_bone_us")
    doubled = {t: items + items for t, items in chart.items()}
    once = evaluate_patient(parts, patient_id, chart, AS_OF)
    twice = evaluate_patient(parts, patient_id, doubled, AS_OF)
    assert twice == replace(once, resources=twice.resources)
    assert twice.resources == once.resources


def test_an_internal_error_is_reported_on_the_patient_never_as_no_cards(parts: RuntimeParts) -> None:
    patient_id, chart = _generated("lung_bone_us")
    broken = replace(parts, card_templates={})
    result = evaluate_patient(broken, patient_id, chart, AS_OF)
    assert result.error is not None and result.error.startswith("KeyError")
    assert result.cards == ()


def test_a_chart_without_its_patient_resource_is_a_data_finding(parts: RuntimeParts) -> None:
    patient_id, chart = _generated("no_patient_resource")
    result = evaluate_patient(parts, patient_id, chart, AS_OF)
    assert [d.kind for d in result.data_findings] == ["no_patient_resource"]
    patient_id, chart = _generated("lung_bone_us")
    assert evaluate_patient(parts, patient_id, chart, AS_OF).data_findings == ()
