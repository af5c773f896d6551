"""Each demo patient, sent through the HTTP API with its chart as prefetch, gets exactly the cards its
story calls for under RULES.md (the expected rule IDs in index.yaml were reasoned from the catalog)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_service.demo_catalog import demo_bundles, patient_view_request
from tests.demo.helpers import INDEX, rule_ids

TODAY = datetime.now(UTC).date()
BUNDLES = {patient.id: (patient, bundle) for patient, bundle in demo_bundles(today=TODAY)}


@pytest.mark.parametrize("patient_id", list(BUNDLES))
def test_patient_view_returns_exactly_the_expected_rule_ids(client, app, patient_id):
    patient, bundle = BUNDLES[patient_id]
    runtime = app.extensions["bonemet"]
    service = runtime.services["bonemet-patient-view"]
    body = patient_view_request(bundle, patient.id, service.prefetch(runtime.prefetch_templates))
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert rule_ids(response.get_json()["cards"]) == sorted(patient.patient_view)


@pytest.mark.parametrize(
    ("patient_id", "rule_id", "indicator"),
    [
        ("demo-04-cord-compression", "SPINAL-CORD-COMPRESSION", "critical"),
        ("demo-10-hypercalcemia", "HYPERCALCEMIA", "warning"),
        ("demo-09-mirels", "FRACTURE-RISK", "warning"),
        ("demo-02-za-kidney", "ZA-RENAL-DOSING", "warning"),
        ("demo-03-hypocalcemia", "HYPOCALCEMIA-CORRECTION", "warning"),
        ("demo-07-long-denosumab", "BMA-DURATION-REVIEW", "warning"),
        ("demo-05-bone-pain-alp", "BONE-IMAGING-WORKUP", "warning"),
        ("demo-11-scan-overdue", "BONE-SCAN-FOLLOWUP", "info"),
    ],
)
def test_the_story_card_has_the_catalog_indicator(client, app, patient_id, rule_id, indicator):
    patient, bundle = BUNDLES[patient_id]
    runtime = app.extensions["bonemet"]
    service = runtime.services["bonemet-patient-view"]
    body = patient_view_request(bundle, patient.id, service.prefetch(runtime.prefetch_templates))
    cards = client.post("/cds-services/bonemet-patient-view", json=body).get_json()["cards"]
    card = next(c for c in cards if c["source"]["topic"]["code"] == rule_id)
    assert card["indicator"] == indicator


def test_index_covers_the_stories_of_issue_4():
    """The twelve stories the tester path promises, each with its headline card."""
    headline = {p.id: set(p.patient_view) for p in INDEX.patients}
    assert "ZA-RENAL-DOSING" in headline["demo-02-za-kidney"]
    assert "ICI-BONE-METASTASIS" in headline["demo-06-pembrolizumab"]
    assert "RADIOTHERAPY-REFERRAL" in headline["demo-08-cn-hospital"]
    assert headline["demo-12-no-lung-cancer"] == set()
