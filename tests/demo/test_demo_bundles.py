"""The demo bundles are valid FHIR R4, loadable twice with the same result, synthetic, and indexed."""

from __future__ import annotations

import importlib
import json
from datetime import date, timedelta

import pytest
from fhir.resources.R4B.practitioner import Practitioner

from cds_service.demo_catalog import (
    DEMO_DIR,
    demo_bundles,
    load_bundle,
    patient_view_request,
    rebase_dates,
    shared_bundles,
)
from tests.demo.helpers import INDEX

BUNDLES = {patient.id: json.loads(patient.path.read_text()) for patient in INDEX.patients}


def test_there_are_at_least_twelve_stories_and_every_file_is_indexed():
    files = {path.name for path in DEMO_DIR.glob("*.json")}
    assert len(INDEX.patients) >= 12
    assert files == {patient.file for patient in INDEX.patients} | set(INDEX.shared)
    assert len({p.id for p in INDEX.patients}) == len(INDEX.patients)


@pytest.mark.parametrize("patient_id", list(BUNDLES))
def test_every_resource_validates_as_fhir_r4(patient_id):
    bundle = BUNDLES[patient_id]
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        module = importlib.import_module(f"fhir.resources.R4B.{resource['resourceType'].lower()}")
        getattr(module, resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("patient_id", list(BUNDLES))
def test_entries_are_puts_with_stable_ids_of_one_patient(patient_id):
    """PUT Type/id makes loading idempotent; every resource points at the bundle's own patient."""
    for entry in BUNDLES[patient_id]["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        if resource["resourceType"] == "Patient":
            assert resource["id"] == patient_id
            assert resource["name"][0]["family"] == "Demo"
            assert "synthetic" in resource["name"][0]["text"]
        else:
            assert resource["subject"] == {"reference": f"Patient/{patient_id}"}


def test_the_shared_bundle_holds_the_synthetic_clinician_of_the_demo_hook_requests():
    """The SMART launcher's provider login lists Practitioners and loops when there are none; the one
    it lists is the userId the demo requests name."""
    [(name, bundle)] = shared_bundles()
    assert name == "00-demo-clinician.json" and bundle["type"] == "transaction"
    [entry] = bundle["entry"]
    practitioner = entry["resource"]
    Practitioner.model_validate(practitioner)
    assert entry["request"] == {"method": "PUT", "url": "Practitioner/demo-clinician"}
    assert "synthetic" in practitioner["name"][0]["text"]
    request = patient_view_request(BUNDLES["demo-01-new-bm"], "demo-01-new-bm", {})
    assert request["context"]["userId"] == "Practitioner/demo-clinician"


def test_resource_ids_are_unique_across_patients():
    ids = [
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for b in BUNDLES.values() for e in b["entry"]
    ]
    assert len(ids) == len(set(ids))


def test_rebasing_moves_dates_and_datetimes_but_nothing_else():
    value = {"a": "2026-11-20", "b": "2026-11-20T08:30:00+08:00", "c": "C79.51", "d": ["2024-02-28"], "n": 5}
    moved = rebase_dates(value, timedelta(days=2))
    assert moved == {
        "a": "2026-11-22",
        "b": "2026-11-22T08:30:00+08:00",
        "c": "C79.51",
        "d": ["2024-03-01"],
        "n": 5,
    }


def test_loaded_bundles_put_the_newest_event_a_few_days_before_today():
    today = date(2027, 3, 15)
    for patient, bundle in demo_bundles(today=today):
        dates = [
            date.fromisoformat(value[:10])
            for entry in bundle["entry"]
            for key, value in entry["resource"].items()
            if key in ("authoredOn", "effectiveDateTime", "recordedDate", "started", "performedDateTime")
        ]
        assert today - timedelta(days=14) <= max(dates) < today, patient.id


def test_rebasing_keeps_the_age_the_story_needs():
    path = INDEX.patient("demo-02-za-kidney").path
    original, moved = load_bundle(path), load_bundle(path, timedelta(days=400))
    born = date.fromisoformat(original["entry"][0]["resource"]["birthDate"])
    assert date.fromisoformat(moved["entry"][0]["resource"]["birthDate"]) == born + timedelta(days=400)
