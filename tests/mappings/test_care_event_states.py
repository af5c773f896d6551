"""RULES.md 7.1.6 (done / pending / not done) and 7.2.16 (body sites) in the mapping: what a Procedure,
Encounter, ServiceRequest, EpisodeOfCare or ImagingStudy status says, and which region a bodySite names."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.care_events import build_care_events
from fhir_mappings.codesets import load_codesets
from fhir_mappings.imaging import body_regions, build_imaging

CODESETS = load_codesets()
SCT, CDT = "http://snomed.info/sct", "http://www.ada.org/cdt"
ORDER = "https://bonemet-cds.org/fhir/CodeSystem/order"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"


def concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def resource(resource_type: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"resourceType": resource_type, "id": "r1", "status": status, **fields}


@pytest.mark.parametrize(
    ("item", "state"),
    [
        (resource("Procedure", "completed", code=concept(SCT, "122856003")), "done"),
        (resource("Procedure", "in-progress", code=concept(SCT, "122856003")), "ongoing"),
        (resource("Encounter", "finished", type=[concept(CDT, "D0120")]), "done"),
        (resource("Encounter", "finished", serviceType=concept(SCT, "34043003")), "done"),
        (resource("ServiceRequest", "completed", code=concept(ORDER, "stomatology-oral-exam")), "done"),
        (resource("ServiceRequest", "active", code=concept(ORDER, "stomatology-oral-exam")), "pending"),
        (resource("ServiceRequest", "on-hold", code=concept(ORDER, "stomatology-oral-exam")), "pending"),
        (resource("ServiceRequest", "draft", code=concept(ORDER, "stomatology-oral-exam")), "pending"),
        (resource("EpisodeOfCare", "active", type=[concept(SCT, "385763009")]), "ongoing"),
    ],
)
def test_status_gives_the_state(item, state):
    (event,) = build_care_events([item], CODESETS)
    assert event.state == state


@pytest.mark.parametrize(
    "item",
    [
        resource("Procedure", "not-done", code=concept(SCT, "122856003")),
        resource("Procedure", "entered-in-error", code=concept(SCT, "122856003")),
        resource("Encounter", "cancelled", type=[concept(CDT, "D0150")]),
        resource("Encounter", "planned", type=[concept(CDT, "D0150")]),
        resource("ServiceRequest", "revoked", code=concept(ORDER, "mdt-review")),
        resource("ServiceRequest", "entered-in-error", code=concept(ORDER, "mdt-review")),
        resource("ServiceRequest", "unknown", code=concept(ORDER, "mdt-review")),
    ],
)
def test_status_that_records_no_care_is_dropped(item):
    """A cancelled referral is not a referral asked for; a planned visit is not an exam done."""
    assert build_care_events([item], CODESETS) == []


def test_dental_visit_encounter_is_a_dental_exam_with_its_period():
    """Epic-style: a finished dental Encounter coded CDT D0120 on Encounter.type is a dental exam."""
    visit = resource(
        "Encounter",
        "finished",
        type=[concept(CDT, "D0120")],
        period={"start": "2026-09-01T09:00:00Z", "end": "2026-09-01T10:00:00Z"},
    )
    (event,) = build_care_events([visit], CODESETS)
    assert (event.kind, event.state, event.day.isoformat(), event.resource_type) == (
        "dental_exam",
        "done",
        "2026-09-01",
        "Encounter",
    )


def test_finished_hospice_stay_keeps_its_end_date():
    stay = resource(
        "Encounter",
        "finished",
        type=[concept(SCT, "305336008")],
        period={"start": "2023-01-05", "end": "2023-02-10"},
    )
    (event,) = build_care_events([stay], CODESETS)
    assert (event.kind, event.day.isoformat(), event.last_day.isoformat()) == (
        "hospice",
        "2023-01-05",
        "2023-02-10",
    )


def test_drafted_order_is_pending_whatever_its_status():
    draft = resource("ServiceRequest", "active", code=concept(ORDER, "mri-spine"))
    (event,) = build_care_events([draft], CODESETS, drafts=True)
    assert (event.kind, event.state, event.is_draft) == ("spine_mri", "pending", True)


def study(
    status: str, *, body_site: str | None = None, procedure: dict[str, Any] | None = None
) -> dict[str, Any]:
    series: dict[str, Any] = {"uid": "1.2.3", "modality": {"system": DICOM, "code": "MR"}}
    if body_site:
        series["bodySite"] = {"system": SCT, "code": body_site}
    item: dict[str, Any] = {"resourceType": "ImagingStudy", "id": "s1", "status": status, "series": [series]}
    if procedure:
        item["procedureCode"] = [procedure]
    item["started"] = "2026-11-01"
    return item


@pytest.mark.parametrize(("status", "state"), [("available", "done"), ("registered", "pending")])
def test_imaging_study_state(status, state):
    (fact,) = build_imaging([study(status, body_site="421060004")], [], CODESETS)
    assert (fact.state, fact.regions) == (state, frozenset({"spine"}))


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "unknown"])
def test_imaging_study_not_done_is_dropped(status):
    assert build_imaging([study(status)], [], CODESETS) == []


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("29836001", "pelvis_hip"),
        ("24136001", "pelvis_hip"),
        ("816094009", "chest"),
        ("38266002", "whole_body"),
    ],
)
def test_body_site_regions(code, region):
    """DICOM CID 4031 SNOMED codes as Condition.bodySite or series.bodySite map to one coarse region."""
    assert body_regions([concept(SCT, code)], CODESETS) == frozenset({region})


def test_chest_ct_by_loinc_procedure_code_is_chest_only():
    """A restaging chest CT (LOINC 24627-2) is a chest study: it does not show the hip."""
    ct = study("available", procedure=concept("http://loinc.org", "24627-2"))
    ct["series"][0]["modality"]["code"] = "CT"
    (fact,) = build_imaging([ct], [], CODESETS)
    assert fact.regions == frozenset({"chest"})
