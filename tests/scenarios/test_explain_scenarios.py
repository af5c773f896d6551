"""The bone health review's rule list (`hooks/explain.py`) for every scenario chart: it names exactly the
rules whose cards the hook returned, every catalog rule once, and a reason for every rule that did not fire.

The cards come from the HTTP route; the verdicts from the same request's resources through
`cds_service.pipeline.explain_resolved`. A rule that returned None without saying why would show here as
the explainer's UNEXPLAINED text, on whichever of the 179 charts reaches that line.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from cds_service.pipeline import explain_resolved
from cds_service.prefetch import resolve
from hooks.data_notices import DATA_CARD_IDS
from hooks.explain import UNEXPLAINED, RuleVerdict, catalog_rules
from tests.scenarios.scenario_files import SERVICE_BY_HOOK, Scenario, hook_request, load_scenarios, rule_ids

SCENARIOS = load_scenarios()
ORDER_SCENARIOS = [s for s in SCENARIOS if s.hook != "patient-view"]
EVERY_RULE = [r.rule_id for r in catalog_rules()] + list(DATA_CARD_IDS)


def patient_view_body(scenario: Scenario) -> dict[str, Any]:
    """The scenario's chart opened at patient-view (an order scenario's drafts left out)."""
    body = copy.deepcopy(hook_request(scenario))
    body["hook"] = "patient-view"
    body["context"] = {k: v for k, v in body["context"].items() if k in ("userId", "patientId")}
    return body


def cards_and_verdicts(
    client: FlaskClient, service_id: str, body: dict[str, Any]
) -> tuple[list[str], list[RuleVerdict]]:
    response = client.post(f"/cds-services/{service_id}", json=body)
    assert response.status_code == 200, response.get_json()
    runtime = client.application.extensions["bonemet"]
    service = runtime.services[service_id]
    resolved = resolve(service.prefetch(runtime.prefetch_templates), body, runtime.fhir_client)
    verdicts = explain_resolved(
        runtime, service, body["context"], resolved.by_type, resolved.unavailable_types
    )
    return rule_ids(response.get_json()["cards"]), verdicts


def assert_consistent(cards: list[str], verdicts: list[RuleVerdict]) -> None:
    assert [v.rule_id for v in verdicts] == EVERY_RULE, "every rule once, in catalog order"
    assert {v.rule_id for v in verdicts if v.status == "fired"} == set(cards)
    for verdict in verdicts:
        assert verdict.reason.strip() and verdict.reason != UNEXPLAINED, verdict
        assert (verdict.finding is not None) == (verdict.status == "fired"), verdict
        assert verdict.title.strip(), verdict


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_patient_view_verdicts_match_the_cards(scenario: Scenario, scenario_client: FlaskClient) -> None:
    cards, verdicts = cards_and_verdicts(
        scenario_client, SERVICE_BY_HOOK["patient-view"], patient_view_body(scenario)
    )
    assert_consistent(cards, verdicts)


@pytest.mark.parametrize("scenario", ORDER_SCENARIOS, ids=[s.name for s in ORDER_SCENARIOS])
def test_order_hook_verdicts_match_the_cards(scenario: Scenario, scenario_client: FlaskClient) -> None:
    cards, verdicts = cards_and_verdicts(scenario_client, scenario.service_id, hook_request(scenario))
    assert_consistent(cards, verdicts)
    assert set(cards) == scenario.expected, scenario.doc["description"]
