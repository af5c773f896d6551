"""`bonemet-cds evaluate` (offline, same pipeline as the route) and `bonemet-cds load-demo`."""

from __future__ import annotations

import json

import pytest

from cds_service.cli import main
from cds_service.demo_catalog import load_bundle, patient_view_request
from tests.demo.helpers import INDEX, rule_ids

REFERENCE = INDEX.reference_date.isoformat()


def _evaluate(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["evaluate", "--hook", "patient-view", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("patient_id", ["demo-01-new-bm", "demo-08-cn-hospital", "demo-12-no-lung-cancer"])
def test_evaluate_a_demo_bundle_gives_the_expected_rule_ids(capsys, patient_id):
    patient = INDEX.patient(patient_id)
    code, out, _ = _evaluate(capsys, "--json", "--now", REFERENCE, str(patient.path))
    assert code == 0
    result = json.loads(out)
    assert result["patientId"] == patient_id
    assert rule_ids(result["cards"]) == sorted(patient.patient_view)


def test_readable_output_names_rule_indicator_summary_and_evidence(capsys):
    patient = INDEX.patient("demo-02-za-kidney")
    code, out, _ = _evaluate(capsys, "--now", REFERENCE, str(patient.path))
    assert code == 0
    assert "1 card(s)" in out
    assert "ZA-RENAL-DOSING" in out and "[warning" in out
    assert "evidence:" in out and "mg/dL" in out


def test_evaluate_a_hook_request_file_and_many_files_with_progress(capsys, tmp_path, app):
    runtime = app.extensions["bonemet"]
    templates = runtime.services["bonemet-patient-view"].prefetch(runtime.prefetch_templates)
    patient = INDEX.patient("demo-07-long-denosumab")
    request_file = tmp_path / "request.json"
    request_file.write_text(
        json.dumps(patient_view_request(load_bundle(patient.path), patient.id, templates))
    )
    other = INDEX.patient("demo-11-scan-overdue").path
    code, out, err = _evaluate(capsys, "--json", "--now", REFERENCE, str(request_file), str(other))
    assert code == 0
    results = json.loads(out)
    assert [rule_ids(r["cards"]) for r in results] == [["BMA-DURATION-REVIEW"], ["BONE-SCAN-FOLLOWUP"]]
    assert "[1/2]" in err and "[2/2]" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be an object"),
        ('{"resourceType": "Patient"}', "neither a hook request"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "exactly one Patient"),
        ('{"hook": "patient-view", "hookInstance": "x", "context": {}}', "not a valid patient-view request"),
    ],
)
def test_evaluate_bad_files_fail_with_a_clear_message(capsys, tmp_path, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    code, out, err = _evaluate(capsys, str(path))
    assert code == 1
    assert message in err and str(path) in err
    assert out == ""


def test_a_bundle_cannot_stand_for_an_order_hook(capsys):
    code = main(["evaluate", "--hook", "order-sign", str(INDEX.patient("demo-01-new-bm").path)])
    assert code == 1
    assert "draft orders" in capsys.readouterr().err


def test_offline_evaluate_and_the_http_route_give_the_same_cards(capsys, client, app):
    """Same pipeline: what a health IT team checks offline is what the EHR gets."""
    patient = INDEX.patient("demo-10-hypercalcemia")
    runtime = app.extensions["bonemet"]
    templates = runtime.services["bonemet-patient-view"].prefetch(runtime.prefetch_templates)
    online = client.post(
        "/cds-services/bonemet-patient-view",
        json=patient_view_request(load_bundle(patient.path), patient.id, templates),
    ).get_json()["cards"]
    code, out, _ = _evaluate(capsys, "--json", str(patient.path))
    offline = json.loads(out)["cards"]
    assert code == 0
    assert [(c["summary"], c["indicator"], c["detail"]) for c in offline] == [
        (c["summary"], c["indicator"], c["detail"]) for c in online
    ]


def test_evaluate_refuses_what_the_route_refuses(capsys, tmp_path):
    """Offline answers are the EHR's answers: too-deep JSON and invalid drafts are refused here too."""
    from tests.http.requests_factory import hook_request

    deep = hook_request("patient-view")
    deep["context"]["extension"] = json.loads('{"a":' * 70 + "1" + "}" * 70)
    invalid = hook_request("order-sign")
    invalid["context"]["draftOrders"]["entry"] = [
        {"resource": {"resourceType": "MedicationRequest", "id": "m1", "dosageInstruction": "twice"}}
    ]
    for hook, body, message in [
        ("patient-view", deep, "nested deeper than 64 levels"),
        ("order-sign", invalid, "/context/draftOrders/entry/0/resource is not valid FHIR R4"),
    ]:
        path = tmp_path / f"{hook}.json"
        path.write_text(json.dumps(body))
        assert main(["evaluate", "--hook", hook, str(path)]) == 1
        assert message in capsys.readouterr().err


def test_evaluate_links_cards_to_the_smart_app_only_when_bonemet_public_url_is_set(capsys, monkeypatch):
    """Offline there is no request to take a URL from: the deployment's URL, or no SMART link."""
    patient = INDEX.patient("demo-09-mirels")
    monkeypatch.delenv("BONEMET_PUBLIC_URL", raising=False)
    _, out, _ = _evaluate(capsys, "--json", "--now", REFERENCE, str(patient.path))
    assert "links" not in json.loads(out)["cards"][0]
    monkeypatch.setenv("BONEMET_PUBLIC_URL", "https://cds.hospital.example/")
    _, out, _ = _evaluate(capsys, "--json", "--now", REFERENCE, str(patient.path))
    smart = [link for link in json.loads(out)["cards"][0]["links"] if link["type"] == "smart"]
    assert [link["url"] for link in smart] == ["https://cds.hospital.example/smart/launch"]
