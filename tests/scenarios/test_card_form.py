"""Every scenario's cards have the short form of issue 12 (tests/cards/card_form.py), over every hook."""

from __future__ import annotations

import pytest

from tests.cards.card_form import problems
from tests.scenarios.scenario_files import load_scenarios

SCENARIOS = load_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_card_has_the_short_form(call_scenario, scenario):
    cards = call_scenario(scenario)["cards"]
    found = {card["source"]["topic"]["code"]: problems(card) for card in cards}
    assert {rule: issues for rule, issues in found.items() if issues} == {}
