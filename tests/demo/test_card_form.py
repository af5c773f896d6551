"""Every demo patient's cards, as the HTTP API returns them, have the short form of issue 12
(tests/cards/card_form.py): at most three detail lines, one evidence table, one source line, no raw codes or
internal words, one SMART link naming the rule and the card, one rounding of CrCl."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cds_service.demo_catalog import demo_bundles, patient_view_request
from tests.cards.card_form import problems
from tests.conftest import make_settings

TODAY = datetime.now(UTC).date()
BUNDLES = {patient.id: (patient, bundle) for patient, bundle in demo_bundles(today=TODAY)}
PUBLIC_URL = "https://cds.hospital.example/bonemet"


@pytest.fixture(scope="module")
def demo_cards(tmp_path_factory) -> dict[str, list[dict]]:
    """Each demo patient's cards, from one app (module scope: the calls only read)."""
    from cds_service.app import create_app

    app = create_app(make_settings(tmp_path_factory.mktemp("card-form")))
    client = app.test_client()
    runtime = app.extensions["bonemet"]
    service = runtime.services["bonemet-patient-view"]
    cards = {}
    for patient_id, (patient, bundle) in BUNDLES.items():
        body = patient_view_request(bundle, patient.id, service.prefetch(runtime.prefetch_templates))
        response = client.post("/cds-services/bonemet-patient-view", json=body)
        assert response.status_code == 200
        cards[patient_id] = response.get_json()["cards"]
    return cards


def test_the_demo_patients_have_cards_to_check(demo_cards):
    assert sum(len(cards) for cards in demo_cards.values()) >= 15


@pytest.mark.parametrize("patient_id", list(BUNDLES))
def test_every_card_has_the_short_form(demo_cards, patient_id):
    found = {card["source"]["topic"]["code"]: problems(card) for card in demo_cards[patient_id]}
    assert {rule: issues for rule, issues in found.items() if issues} == {}


def test_the_smart_link_points_to_the_launch_url_of_the_url_called(demo_cards):
    card = demo_cards["demo-02-za-kidney"][0]
    smart = next(link for link in card["links"] if link["type"] == "smart")
    assert smart["url"] == "http://localhost/smart/launch"  # Flask's test client calls http://localhost/
    assert smart["label"] == "Bone health review"
    assert json.loads(smart["appContext"]) == {"rule": "ZA-RENAL-DOSING", "card": card["uuid"]}
    assert [link["type"] for link in card["links"]] == ["smart"]  # the DOI is card.source.url, once
    assert card["source"]["url"] == "https://doi.org/10.1016/j.jncc.2023.08.004"


def test_bonemet_public_url_sets_the_smart_link_behind_a_proxy(app_factory):
    client = app_factory(public_url=PUBLIC_URL).test_client()
    patient, bundle = BUNDLES["demo-09-mirels"]
    runtime = client.application.extensions["bonemet"]
    service = runtime.services["bonemet-patient-view"]
    body = patient_view_request(bundle, patient.id, service.prefetch(runtime.prefetch_templates))
    cards = client.post("/cds-services/bonemet-patient-view", json=body).get_json()["cards"]
    assert [link["url"] for link in cards[0]["links"] if link["type"] == "smart"] == [
        PUBLIC_URL + "/smart/launch"
    ]


def test_crcl_reads_the_same_in_the_text_and_the_table(demo_cards):
    """demo-01: CrCl 81.1 mL/min, once 81 in the table; its row names its inputs, not "not recorded", and
    their records; the creatinine and weight rows it would only repeat are folded into it."""
    card = next(c for c in demo_cards["demo-01-new-bm"] if c["source"]["topic"]["code"] == "BMA-INITIATION")
    row = next(line for line in card["detail"].splitlines() if line.startswith("| Creatinine clearance"))
    assert "| 81.1 mL/min (from creatinine 0.9 mg/dL" in row and "74 kg, age 69, male)" in row
    inputs = "Observation/demo-01-new-bm-obs7, Observation/demo-01-new-bm-obs9"
    assert row.endswith(f"| calculated from {inputs} |")
    assert "| Creatinine |" not in card["detail"] and "| Body weight |" not in card["detail"]
    assert "CrCl 81.1" in card["detail"]


def test_a_score_reads_as_a_number(demo_cards):
    """demo-08's pain score was "5 {score}" (a UCUM annotation) and demo-09's Mirels score "10 {score}"."""
    pain = demo_cards["demo-08-cn-hospital"][0]["detail"]
    mirels = demo_cards["demo-09-mirels"][0]["detail"]
    assert "| Pain score (0-10) | 5 |" in pain
    assert "| Mirels score (Table 3, of 12) | 10 |" in mirels


def test_the_corrected_calcium_the_text_grades_is_in_the_table(demo_cards):
    """demo-03 grades corrected calcium 8.06 mg/dL; the table once showed only total 7.9 and albumin 3.8."""
    detail = demo_cards["demo-03-hypocalcemia"][0]["detail"]
    assert "8.06 mg/dL" in detail.split("\n|", 1)[0]
    row = "| Calcium (total) | 7.9 mg/dL (corrected for albumin 3.8 g/dL\\: 8.06 mg/dL) |"
    assert row in detail and "| Albumin |" not in detail
    assert "Observation/demo-03-hypocalcemia-obs8, Observation/demo-03-hypocalcemia-obs9 |" in detail
