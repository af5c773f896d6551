"""The bone health review's rule list (`hooks/explain.py`) for every scenario chart: it names exactly the
rules whose cards the hook returned, every catalog rule once, and a reason for every rule that did not fire.

The cards come from the HTTP route; the verdicts from the same request's resources through
`cds_service.pipeline.explain_resolved`. A rule that returned None without saying why would show here as
the explainer's UNEXPLAINED text, on whichever scenario chart reaches that line.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from cds_service.pipeline import explain_resolved
from cds_service.prefetch import resolve
from hooks.data_notices import DATA_CARD_IDS
from hooks.explain import UNEXPLAINED, RuleVerdict, catalog_rules
from tests.scenarios.scenario_files import (
    SERVICE_BY_HOOK,
    Scenario,
    days_to_today,
    hook_request,
    load_scenarios,
    rule_ids,
)

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


SCAN_ONLY_AS_EVENT = [s for s in SCENARIOS if s.name.startswith("rev2_06_bone_scan_only_as_completed_")]


def scan_event(scenario: Scenario) -> tuple[str, str]:
    """The chart's one bone scan (a completed ServiceRequest or Procedure): reference, date as of today."""
    event = next(r for r in scenario.resources() if r["resourceType"] in ("ServiceRequest", "Procedure"))
    written = event.get("performedDateTime") or event["occurrenceDateTime"]
    day = date.fromisoformat(written) + timedelta(days=days_to_today(scenario))
    return f"{event['resourceType']}/{event['id']}", day.isoformat()


@pytest.mark.parametrize("scenario", SCAN_ONLY_AS_EVENT, ids=[s.name for s in SCAN_ONLY_AS_EVENT])
def test_follow_up_from_a_scan_on_record_only_as_done_order(
    scenario: Scenario, scenario_client: FlaskClient
) -> None:
    """BONE-SCAN-FOLLOWUP counts from a bone scan recorded only as a completed order or procedure: overdue,
    its card shows that resource as the last scan; not yet due, the reason names its date."""
    _, verdicts = cards_and_verdicts(
        scenario_client, SERVICE_BY_HOOK["patient-view"], patient_view_body(scenario)
    )
    verdict = next(v for v in verdicts if v.rule_id == "BONE-SCAN-FOLLOWUP")
    reference, day = scan_event(scenario)
    if "BONE-SCAN-FOLLOWUP" in scenario.expected:
        assert verdict.finding is not None
        assert [(e.reference, e.when and e.when.isoformat()) for e in verdict.finding.evidence] == [
            (reference, day)
        ]
    else:
        assert verdict.status == "not-fired"
        assert verdict.reason.startswith(f"Last bone scan on {day} ({reference.split('/')[0]} completed")
