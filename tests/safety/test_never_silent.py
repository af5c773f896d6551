"""Known-bad data always reaches the clinician as a data card, or the EHR as a 412 (issue 11 item 1).

Before, the lung-cancer gate returned `[]` before data cards were added, so `200 {"cards": []}` came back
when the only lung-cancer Condition was invalid FHIR, when every Condition belonged to another patient,
when the conditions Bundle's `entry` was malformed, and when the conditions search held only a fatal
OperationOutcome. An empty card list reads as "nothing to do"; each case below must say what went wrong.
Prefetch mode through the HTTP API, and FHIR-server mode with the server's faults injected (`responses`);
the cases a real server can produce run against Medplum in tests/fhir_server_mode/.
"""

from __future__ import annotations

import copy

import pytest

from tests.fhir_faults.conftest import FHIR_BASE, FakeEhr, answering, search_url
from tests.fhir_server_mode.chart import condition, hook_body, prefetch_for, rule_ids, searchset

URL = "/cds-services/bonemet-patient-view"
TOO_COSTLY = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "fatal", "code": "too-costly", "diagnostics": "search too costly"}],
}
INFORMATION = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "information", "code": "informational"}],
}


def call(app, body):
    response = app.test_client().post(URL, json=body)
    return response.status_code, response.get_json()


def prefetched(app, ehr, **replace_keys):
    """The EHR's chart as a complete prefetch, with some keys replaced (no fhirServer to fall back on)."""
    prefetch = prefetch_for(app.extensions["bonemet"], ehr.resources)
    prefetch.update(replace_keys)
    return hook_body(ehr.pid, server=None, prefetch=prefetch)


def conditions_of(ehr):
    return [r for r in ehr.resources if r["resourceType"] == "Condition"]


def cards_by_rule(answer):
    return {card["source"]["topic"]["code"]: card for card in answer["cards"]}


# --- prefetch mode ---------------------------------------------------------------------------------------


def test_control_a_valid_chart_gets_clinical_cards(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    status, answer = call(app, prefetched(app, ehr))
    assert status == 200 and "ZA-RENAL-DOSING" in rule_ids(answer["cards"])


def test_an_invalid_lung_cancer_condition_is_named_on_a_data_quality_card(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    broken = copy.deepcopy(conditions_of(ehr))
    broken[0]["onsetDateTime"] = "last spring"  # the lung cancer: not a FHIR dateTime
    status, answer = call(app, prefetched(app, ehr, conditions=searchset(broken)))
    assert status == 200
    assert rule_ids(answer["cards"]) == ["DATA-QUALITY"]
    assert f"Condition/{broken[0]['id']}" in answer["cards"][0]["detail"]


def test_conditions_of_another_patient_only_are_dropped_and_counted(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    theirs = [
        condition("someone-else", "other-lung", "C34.90", 100),
        condition("someone-else", "other-bone", "C79.51", 50),
    ]
    status, answer = call(app, prefetched(app, ehr, conditions=searchset(theirs)))
    assert status == 200
    assert rule_ids(answer["cards"]) == ["DATA-QUALITY"]
    card = answer["cards"][0]
    assert card["summary"].startswith("2 resources of another patient dropped")
    assert "Condition/other-lung" in card["detail"] and "Condition/other-bone" in card["detail"]


def test_another_patients_condition_never_decides_a_card(fault_app, mock):
    """Her own chart has no bone metastasis; a foreign confirmed bone metastasis must not make her cards."""
    app, ehr = fault_app(), FakeEhr(mock)
    mine = [c for c in conditions_of(ehr) if c["code"]["coding"][0]["code"] == "C34.90"]
    foreign = condition("someone-else", "other-bone", "C79.51", 50)
    _, alone = call(app, prefetched(app, ehr, conditions=searchset(mine)))
    status, mixed = call(app, prefetched(app, ehr, conditions=searchset([*mine, foreign])))
    assert status == 200
    clinical = [r for r in rule_ids(mixed["cards"]) if r != "DATA-QUALITY"]
    assert clinical == rule_ids(alone["cards"])
    assert "BMA-INITIATION" not in clinical
    assert "1 resources of another patient" in cards_by_rule(mixed)["DATA-QUALITY"]["summary"]


@pytest.mark.parametrize(
    "entry", [0, "x", {}, [1], [{"resource": "x"}]], ids=["0", "x", "object", "[1]", "resource-x"]
)
def test_a_malformed_conditions_bundle_is_a_412_not_an_empty_answer(fault_app, mock, entry):
    app, ehr = fault_app(), FakeEhr(mock)
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entry}
    status, answer = call(app, prefetched(app, ehr, conditions=bundle))
    assert status == 412, answer
    assert "Condition" in answer["message"] and "Bundle" in answer["message"]


@pytest.mark.parametrize("value", ["x", 0, [], {"entry": []}], ids=["string", "number", "list", "no-type"])
def test_a_conditions_prefetch_that_is_not_a_resource_is_refused(fault_app, mock, value):
    """The request schema already refuses a prefetch value that is not a JSON object with a type: 400."""
    app, ehr = fault_app(), FakeEhr(mock)
    status, answer = call(app, prefetched(app, ehr, conditions=value))
    assert status == 400 and "prefetch" in answer["message"]


def test_a_conditions_search_holding_only_a_fatal_outcome_is_a_412(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": TOO_COSTLY, "search": {"mode": "outcome"}}],
    }
    status, answer = call(app, prefetched(app, ehr, conditions=bundle))
    assert status == 412 and "too-costly" in answer["message"]


def test_an_informational_outcome_beside_the_conditions_changes_nothing(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    bundle = searchset(conditions_of(ehr))
    bundle["entry"].append({"resource": INFORMATION, "search": {"mode": "outcome"}})
    _, expected = call(app, prefetched(app, ehr))
    status, answer = call(app, prefetched(app, ehr, conditions=bundle))
    assert status == 200 and rule_ids(answer["cards"]) == rule_ids(expected["cards"])


def test_a_malformed_observations_bundle_skips_only_the_rules_that_need_them(fault_app, mock):
    """Not essential: the clinician gets the other cards and a DATA-UNAVAILABLE card, never silence."""
    app, ehr = fault_app(), FakeEhr(mock)
    status, answer = call(app, prefetched(app, ehr, observations={"resourceType": "Bundle", "entry": {}}))
    assert status == 200
    notice = cards_by_rule(answer)["DATA-UNAVAILABLE"]
    assert "Observation" in notice["summary"] and "ZA-RENAL-DOSING" in notice["detail"]


# --- FHIR-server mode, the server's faults injected ------------------------------------------------------


def server_call(app, ehr):
    return call(app, hook_body(ehr.pid, server=FHIR_BASE))


def templates(app):
    return app.extensions["bonemet"].prefetch_templates


def test_server_answering_with_another_patients_conditions_gets_a_data_quality_card(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    theirs = [condition("someone-else", "other-lung", "C34.90", 100)]
    theirs_answer = lambda: mock.add_callback("GET", search_url("Condition"), answering(theirs))  # noqa: E731
    ehr.serve(templates(app), {"Condition": theirs_answer})
    status, answer = server_call(app, ehr)
    assert status == 200
    assert rule_ids(answer["cards"]) == ["DATA-QUALITY"]
    assert "Condition/other-lung" in answer["cards"][0]["detail"]


def test_server_conditions_search_answered_with_an_outcome_and_an_error_status_is_a_412(fault_app, mock):
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(
        templates(app), {"Condition": lambda: mock.get(search_url("Condition"), json=TOO_COSTLY, status=403)}
    )
    status, answer = server_call(app, ehr)
    assert status == 412 and "Condition" in answer["message"]


def test_prefetch_outcome_for_conditions_is_fetched_from_the_server_instead(fault_app, mock):
    """CDS Hooks: a key filled with an OperationOutcome may be fetched; the server's answer is used."""
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app))
    body = prefetched(app, ehr, conditions=TOO_COSTLY)
    body.update({k: v for k, v in hook_body(ehr.pid, server=FHIR_BASE).items() if k.startswith("fhir")})
    status, answer = call(app, body)
    assert status == 200 and "ZA-RENAL-DOSING" in rule_ids(answer["cards"])
