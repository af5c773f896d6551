"""RULES.md section 3: every evidence value a rule used shows its resource reference on the card. Issue 12
folds input rows (CrCl's creatinine and weight, corrected calcium's albumin) into the calculated row; this
checks, over every demo patient and every scenario chart, that no reference disappeared in the folding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_service import pipeline
from cds_service.app import create_app
from cds_service.demo_catalog import demo_bundles, patient_view_request
from hooks.cards import NON_BREAKING_HYPHEN
from hooks.findings import Finding
from hooks.markdown import escape_markdown
from tests.conftest import make_settings
from tests.scenarios.scenario_files import hook_request, load_scenarios

Rendered = list[tuple[str, Finding, dict[str, Any]]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """Each finding with the card rendered from it, for every demo patient and scenario chart (one app;
    `render_card` is wrapped, not replaced, so the cards are the ones the service returns)."""
    found: Rendered = []
    chart = ""

    def keep(finding: Finding, *args: Any, **kwargs: Any) -> dict[str, Any]:
        card = render_card(finding, *args, **kwargs)
        found.append((chart, finding, card))
        return card

    render_card = pipeline.render_card
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "render_card", keep)
        app = create_app(make_settings(tmp_path_factory.mktemp("references")))
        client = app.test_client()
        runtime = app.extensions["bonemet"]
        service = runtime.services["bonemet-patient-view"]
        for patient, bundle in demo_bundles(today=datetime.now(UTC).date()):
            chart = patient.id
            body = patient_view_request(bundle, patient.id, service.prefetch(runtime.prefetch_templates))
            assert client.post("/cds-services/bonemet-patient-view", json=body).status_code == 200
        for scenario in load_scenarios():
            chart = scenario.name
            response = client.post(f"/cds-services/{scenario.service_id}", json=hook_request(scenario))
            assert response.status_code == 200, scenario.name
    yield found


def test_there_are_cards_with_evidence_and_calculated_values_to_check(rendered: Rendered) -> None:
    evidence = [e for _, finding, _ in rendered for e in finding.evidence]
    assert len(rendered) >= 100 and len(evidence) >= 200
    assert sum(1 for e in evidence if e.calculated_from) >= 20


def test_every_evidence_reference_is_in_the_card_detail(rendered: Rendered) -> None:
    lost = {
        (chart, finding.rule_id, reference)
        for chart, finding, card in rendered
        for item in finding.evidence
        for reference in (item.reference, *item.calculated_from)
        if reference and not _shown(reference, card["detail"])
    }
    assert lost == set()


def test_some_input_rows_were_folded(rendered: Rendered) -> None:
    """Guards the test above against a fold that never happens: demo-01's CrCl row names its inputs, whose
    own rows are gone."""
    details = [card["detail"] for chart, _, card in rendered if chart == "demo-01-new-bm"]
    assert any("| calculated from Observation/" in detail for detail in details)
    assert not any("| Body weight |" in detail or "| Albumin |" in detail for detail in details)


def _shown(reference: str, detail: str) -> bool:
    text = detail.replace(NON_BREAKING_HYPHEN, "-")
    return reference in text or escape_markdown(reference) in text
