"""FHIR-server mode against the real FHIR server (Medplum): charts coded the way real EHRs code them are
never answered with silence (RULES.md 7.1.1, 7.1.4; issue 11 item 1). The server faults a real server
does not produce (another patient's data, a fatal OperationOutcome) are injected in tests/safety/."""

from __future__ import annotations

import pytest

from tests.fhir_server_mode.chart import (
    chart,
    comparable,
    hook_body,
    new_patient_id,
    prefetch_for,
    rule_ids,
    transaction,
)

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]
URL = "/cds-services/bonemet-patient-view"
RESOLVED = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}]
}


def load(fhir_server, change):
    pid = new_patient_id()
    resources = chart(pid)
    change(pid, resources)
    fhir_server.load(transaction(resources))
    return pid, resources


def lung(resources):
    return next(r for r in resources if r["id"].endswith("-lung"))


def answers(app, fhir_server, pid, resources):
    from_server = app.test_client().post(URL, json=hook_body(pid, server=fhir_server.base_url))
    prefetch = prefetch_for(app.extensions["bonemet"], resources)
    from_prefetch = app.test_client().post(URL, json=hook_body(pid, server=None, prefetch=prefetch))
    assert from_server.status_code == from_prefetch.status_code == 200, from_server.get_json()
    cards = from_server.get_json()["cards"]
    assert comparable(cards) == comparable(from_prefetch.get_json()["cards"])
    return cards


def test_a_text_only_lung_cancer_read_from_the_server_gets_the_unmapped_codes_card(server_app, fhir_server):
    """The lung cancer carries only a hospital code and Chinese text: no check can run, and the card says so
    instead of an empty answer."""

    def local_code(pid, resources):
        lung(resources)["code"] = {
            "coding": [{"system": "urn:oid:1.2.156.112604.1.2.9", "code": "ZD-0451", "display": "右肺腺癌"}],
            "text": "右肺腺癌 IV期",
        }

    app = server_app()
    pid, resources = load(fhir_server, local_code)
    cards = answers(app, fhir_server, pid, resources)
    assert rule_ids(cards) == ["UNMAPPED-CODES"]
    assert f"Condition/{pid}-lung" in cards[0]["detail"] and "ZD-0451" in cards[0]["detail"]


def test_a_resolved_lung_cancer_with_an_active_bone_metastasis_still_gets_its_cards(server_app, fhir_server):
    """A recurrence after resection: the primary is recorded resolved, the bone metastasis is new."""

    def resolved(pid, resources):
        lung(resources)["clinicalStatus"] = RESOLVED

    app = server_app()
    pid, resources = load(fhir_server, resolved)
    cards = answers(app, fhir_server, pid, resources)
    assert {"ZA-RENAL-DOSING", "HYPERCALCEMIA"} <= set(rule_ids(cards))


def test_a_resolved_lung_cancer_without_bone_metastasis_gets_no_cards(server_app, fhir_server):
    def cured(pid, resources):
        lung(resources)["clinicalStatus"] = RESOLVED
        resources[:] = [r for r in resources if not r["id"].endswith("-bone")]

    app = server_app()
    pid, resources = load(fhir_server, cured)
    assert answers(app, fhir_server, pid, resources) == []
