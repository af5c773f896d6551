"""Each demo patient's rule list (the bone health review, issue 12) names exactly the rules of the cards the
patient-view hook returns, with a reason for every rule that did not fire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_service.demo_catalog import demo_bundles, patient_view_request
from cds_service.pipeline import explain_resolved
from cds_service.prefetch import resolve
from hooks.explain import UNEXPLAINED
from tests.demo.helpers import rule_ids

TODAY = datetime.now(UTC).date()
BUNDLES = {patient.id: (patient, bundle) for patient, bundle in demo_bundles(today=TODAY)}


@pytest.mark.parametrize("patient_id", list(BUNDLES))
def test_rule_list_matches_the_cards(client, app, patient_id):
    patient, bundle = BUNDLES[patient_id]
    runtime = app.extensions["bonemet"]
    service = runtime.services["bonemet-patient-view"]
    body = patient_view_request(bundle, patient.id, service.prefetch(runtime.prefetch_templates))
    response = client.post("/cds-services/bonemet-patient-view", json=body)
    assert response.status_code == 200
    resolved = resolve(service.prefetch(runtime.prefetch_templates), body, runtime.fhir_client)
    verdicts = explain_resolved(
        runtime, service, body["context"], resolved.by_type, resolved.unavailable_types
    )
    assert len({v.rule_id for v in verdicts}) == len(verdicts)
    assert sorted(v.rule_id for v in verdicts if v.status == "fired") == rule_ids(
        response.get_json()["cards"]
    )
    assert all(v.reason.strip() and v.reason != UNEXPLAINED for v in verdicts)
