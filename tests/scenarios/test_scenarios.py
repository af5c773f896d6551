"""Every clinical scenario in patients/, through the Flask app: exactly the expected cards, well formed.

The expectations were written from RULES.md and the consensus, patient by patient; a failure here means
either the service or the expectation is clinically wrong, and the description says which patient it is.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.scenarios.scenario_files import RULE_SYSTEM, load_scenarios, resource_references, rule_ids

SCENARIOS = load_scenarios()
MAX_SUMMARY = 140
INDICATOR_RANK = {"critical": 0, "warning": 1, "info": 2}


@pytest.fixture(params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def scenario(request):
    return request.param


def test_exactly_the_expected_rules_fire(scenario, call_scenario):
    cards = call_scenario(scenario)["cards"]
    assert set(rule_ids(cards)) == scenario.expected, scenario.doc["description"]


PINNED = [s for s in SCENARIOS if s.doc.get("expected_indicators")]


@pytest.mark.parametrize("pinned", PINNED, ids=[s.name for s in PINNED])
def test_expected_indicators(pinned, call_scenario):
    scenario = pinned
    wanted = scenario.doc["expected_indicators"]
    got = {c["source"]["topic"]["code"]: c["indicator"] for c in call_scenario(scenario)["cards"]}
    assert {rule: got.get(rule) for rule in wanted} == wanted, scenario.doc["description"]


def test_cards_are_well_formed(scenario, call_scenario, response_validator):
    body = call_scenario(scenario)
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message[:160]}"
        for e in response_validator.iter_errors(body)
    ]
    assert errors == []
    codes = rule_ids(body["cards"])
    assert [code for code, n in Counter(codes).items() if n > 1] == [], "one card per rule per response"
    references = resource_references(scenario)
    for card in body["cards"]:
        rule = card["source"]["topic"]["code"]
        assert card["source"]["topic"]["system"] == RULE_SYSTEM
        assert len(card["summary"]) <= MAX_SUMMARY, rule
        assert card["source"]["label"].strip() and card["source"]["url"].startswith("https://"), rule
        assert any(ref in card["detail"] for ref in references), f"{rule}: detail cites no chart resource"
    order = [INDICATOR_RANK[c["indicator"]] for c in body["cards"]]
    assert order == sorted(order), "cards are ordered critical, warning, info"
