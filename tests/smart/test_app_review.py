"""The review page for demo patients, from the facts the hooks build (the FHIR read is replaced by the
demo bundle; the real read is in test_app_launch_browser.py): plots hold every result, doses are marked,
the rule list's fired rules are the hook's cards, the card's rule comes first, calculators show inputs."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest
from cryptography.fernet import Fernet

from cds_service.demo_catalog import date_shift, load_bundle, load_index, patient_view_request
from cds_service.pipeline import evaluate_resolved
from cds_service.prefetch import resolve
from cds_service.smart_app import views
from cds_service.smart_app.chart import ChartReview
from cds_service.smart_app.page import parse_app_context
from cds_service.smart_app.session import SESSION_COOKIE, AppSession
from fhir_mappings.creatinine_clearance import format_clearance
from fhir_mappings.facts import ClinicalFacts

SVG = "{http://www.w3.org/2000/svg}"
CALCIUM_CODES = {"17861-6", "2000-8", "29265-6"}
ALP_CODES = {"6768-6"}
CREATININE_CODES = {"2160-0", "14682-9", "77140-2"}


@dataclass(frozen=True)
class HookAnswer:
    """What the patient-view hook answers for the chart the app reviewed: the app must agree with it."""

    facts: ClinicalFacts
    cards: list[dict]

    @property
    def fired_rule_ids(self) -> list[str]:
        return [card["source"]["topic"]["code"] for card in self.cards]


def demo_chart(app, patient_id: str) -> tuple[ChartReview, HookAnswer, dict]:
    rt = app.extensions["bonemet"]
    index = load_index()
    bundle = load_bundle(index.patient(patient_id).path, date_shift(index.reference_date))
    service = rt.services["bonemet-patient-view"]
    templates = service.prefetch(rt.prefetch_templates)
    body = patient_view_request(bundle, patient_id, templates)
    resolved = resolve(templates, body, rt.fhir_client)
    evaluation = evaluate_resolved(rt, service, body["context"], resolved.by_type)
    review = ChartReview(evaluation.facts, {}, frozenset())
    return review, HookAnswer(evaluation.facts, evaluation.cards), bundle


def observations_with(bundle: dict, codes: set[str]) -> int:
    return sum(
        1
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and {c["code"] for c in e["resource"]["code"]["coding"]} & codes
    )


def svg_of(html: str, key: str) -> ElementTree.Element:
    uri = re.search(rf'id="svg-{key}" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert uri, f"no plot {key}"
    return ElementTree.fromstring(base64.b64decode(uri.group(1)))


def marker_count(svg: ElementTree.Element, gid: str) -> int:
    group = svg.find(f".//{SVG}g[@id='{gid}']")
    return 0 if group is None else len(group.findall(f".//{SVG}use"))


def dose_marks(svg: ElementTree.Element, series: str) -> int:
    return sum(1 for g in svg.iter(f"{SVG}g") if g.get("id", "").startswith(f"bma-dose-{series}-"))


@pytest.fixture
def review(app_factory, monkeypatch):
    app = app_factory(
        fhir_allowed_hosts="https://ehr.example.org", session_key=Fernet.generate_key().decode()
    )

    def open_review(patient_id: str, app_context: str | None = None) -> tuple[str, HookAnswer, dict]:
        chart, answer, bundle = demo_chart(app, patient_id)
        monkeypatch.setattr(views, "read_chart", lambda *_args, **_kw: chart)
        sealer = app.extensions["bonemet_smart"].sealer
        session = AppSession("https://ehr.example.org/fhir", patient_id, "t", "", app_context, time.time())
        client = app.test_client()
        client.set_cookie(SESSION_COOKIE, sealer.seal_session(session), path="/smart")
        response = client.get("/smart/review")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_data(as_text=True), answer, bundle

    return open_review


def test_zoledronic_acid_patient_plots_every_result_with_each_dose_marked(review):
    html, chart, bundle = review("demo-02-za-kidney")
    calcium, creatinine, alp = (svg_of(html, k) for k in ("calcium", "creatinine", "alp"))
    assert marker_count(calcium, "calcium-points") == observations_with(bundle, CALCIUM_CODES) == 1
    assert marker_count(creatinine, "creatinine-points") == observations_with(bundle, CREATININE_CODES) == 2
    assert marker_count(alp, "alp-points") == observations_with(bundle, ALP_CODES) == 1
    # Zoledronic acid every 4 weeks since May: one mark per scheduled dose on every panel, and in the table
    doses = html.count('<tr class="dose">')
    assert doses >= 7
    assert dose_marks(calcium, "calcium") == dose_marks(alp, "alp") == doses
    assert dose_marks(creatinine, "creatinine") == dose_marks(creatinine, "crcl") == doses
    assert html.count('<tr class="point">') == 1 + 2 + 1 + 1  # calcium, creatinine, CrCl, ALP tables
    # Cockcroft-Gault result (about 35 mL/min), written as the ZA-RENAL-DOSING card writes it
    crcl = f"{format_clearance(round(chart.facts.crcl.value_ml_min, 1))} mL/min"
    assert 34 <= chart.facts.crcl.value_ml_min <= 36
    assert crcl in html
    assert any(crcl in card["detail"] for card in chart.cards)
    assert re.search(r"<td>Creatinine</td><td>1.6 mg/dL</td>", html)


def test_fired_rules_are_the_hooks_cards_and_the_cards_rule_comes_first(review):
    html, chart, _bundle = review("demo-01-new-bm", '{"rule": "ORAL-EXAM", "card": "c1"}')
    fired = re.findall(r'data-rule-id="([A-Z0-9-]+)" data-status="fired"', html)
    assert (
        sorted(fired)
        == sorted(chart.fired_rule_ids)
        == sorted(["BMA-INITIATION", "CALCIUM-VITAMIN-D", "ORAL-EXAM", "MDT-REFERRAL"])
    )
    listed = re.findall(r'data-rule-id="([A-Z0-9-]+)" data-status="([a-z-]+)"', html)
    assert listed[0] == ("ORAL-EXAM", "fired")
    assert 'id="highlighted-rule"' in html
    assert {status for _rule, status in listed} >= {"fired", "not-fired"}
    assert len(listed) >= 20  # every catalog rule, not only the fired ones


def test_a_patient_without_a_bma_has_no_dose_marks_and_says_so(review):
    html, _chart, _bundle = review("demo-01-new-bm")
    assert dose_marks(svg_of(html, "calcium"), "calcium") == 0
    assert "No BMA doses on record." in html
    assert 'id="highlighted-rule"' not in html
    timeline = re.findall(
        r'<tr class="entry" data-kind="([^"]+)"><td>([0-9-]+)</td><td>[^<]*</td><td>([^<]*)</td>', html
    )
    assert [(kind, text) for kind, _day, text in timeline] == [
        ("Bone imaging", "CT chest with contrast"),
        ("Bone imaging", "NM Whole-body bone scan (ECT): uptake T8, right iliac"),
    ]
    assert [day for _kind, day, _text in timeline] == sorted(day for _kind, day, _text in timeline)


@pytest.mark.parametrize(
    "raw",
    ['{"rule": "<script>", "card": "x"}', "not json", '["ORAL-EXAM"]', '{"rule": 5}', None],
)
def test_an_unusable_app_context_highlights_nothing(raw):
    assert parse_app_context(raw).rule is None


def test_an_app_context_names_the_rule_and_card():
    context = parse_app_context('{"rule": "ORAL-EXAM", "card": "7b6f4c1e"}')
    assert (context.rule, context.card) == ("ORAL-EXAM", "7b6f4c1e")


def test_the_page_has_no_script_and_draws_text_as_text(review):
    html, _chart, _bundle = review("demo-08-cn-hospital")
    assert "<script" not in html.lower()
    calcium = svg_of(html, "calcium")
    assert calcium.findall(f".//{SVG}text")  # svg.fonttype none: labels are text, not paths
    assert "mmol/L" in html  # the Chinese hospital's calcium stays in its own unit system


def test_the_long_explanation_a_card_leaves_out_is_shown_for_each_fired_rule(review):
    """Cards keep three lines; the variant's rationale (the old long detail) is one click away, here."""
    html, chart, _bundle = review("demo-01-new-bm", '{"rule": "ORAL-EXAM", "card": "c1"}')
    from_card = html.split('id="from-card"', 1)[1].split("</section>", 1)[0]
    assert 'class="explanation"' in from_card
    assert "osteonecrosis" in from_card.lower()
    assert html.count("<summary>Why this card</summary>") == len(chart.fired_rule_ids)
    initiation = next(c for c in chart.cards if c["source"]["topic"]["code"] == "BMA-INITIATION")
    explained = html.split('data-rule-id="BMA-INITIATION"', 1)[1].split("</tr>", 1)[0]
    assert len(explained) > 2 * len(initiation["detail"].split("| What", 1)[0])  # more than the card says


@pytest.mark.parametrize("patient", ["demo-01-new-bm", "demo-02-za-kidney", "demo-08-cn-hospital"])
def test_the_page_uses_no_catalog_jargon(review, patient):
    html, _chart, _bundle = review(patient)
    visible = re.sub(r'src="data:[^"]*"', "", html)  # the plots' own text is checked by the SVG tests
    assert "catalog default" not in visible


@pytest.mark.parametrize("patient", [p.id for p in load_index().patients])
def test_the_explanations_follow_the_cards_wording_rules(review, patient):
    """The long text moved from the cards to the app; the wording rules (no UCUM annotations, no
    "none on record)", no catalog jargon, no "every 1 days") move with it."""
    from tests.cards.card_form import FORBIDDEN

    html, _chart, _bundle = review(patient)
    explained = " ".join(re.findall(r'<div class="explanation">(.*?)</div>', html, re.S))
    explained += " ".join(re.findall(r'<details class="explanation">(.*?)</details>', html, re.S))
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(explained)]
    assert found == []
