"""Every scenario chart, through the HTTP API: RULES.md 7.4 holds for every response of the suite.

27: no order is suggested on two cards of one response (the card with the higher indicator, then the
earlier one in the 7.4 list, keeps it; the other points to it). 28: cards come critical, warning, info,
and within an indicator in the 7.4 order, data cards last.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from hooks.findings import INDICATOR_ORDER
from hooks.response_order import card_ranks
from tests.scenarios.scenario_files import load_scenarios, rule_ids

SCENARIOS = load_scenarios()


@pytest.fixture(params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def scenario(request):
    return request.param


def created_orders(card):
    """A signature per order a card offers to create: what is ordered, whatever the reason text."""
    for suggestion in card.get("suggestions", []):
        for action in suggestion.get("actions", []):
            if action["type"] == "create":
                resource = {
                    k: v for k, v in action["resource"].items() if k not in ("id", "reasonCode", "authoredOn")
                }
                yield json.dumps(resource, sort_keys=True)


def test_no_order_is_suggested_on_two_cards(scenario, call_scenario):
    cards_by_order = defaultdict(list)
    for card in call_scenario(scenario)["cards"]:
        for order in set(created_orders(card)):
            cards_by_order[order].append(card["source"]["topic"]["code"])
    assert {order: rules for order, rules in cards_by_order.items() if len(rules) > 1} == {}


def test_cards_come_in_the_7_4_order(scenario, call_scenario):
    ranks, unlisted = card_ranks()
    cards = call_scenario(scenario)["cards"]
    keys = [
        (INDICATOR_ORDER[c["indicator"]], ranks.get(c["source"]["topic"]["code"], unlisted)) for c in cards
    ]
    assert keys == sorted(keys), rule_ids(cards)


def test_cord_compression_spine_mri_is_offered_once_and_the_workup_card_points_to_it(call_scenario):
    """Cord compression with no known bone metastasis: SPINAL-CORD-COMPRESSION and BONE-IMAGING-WORKUP
    both call for the urgent spine MRI; it is offered on the compression card only."""
    scenario = next(s for s in SCENARIOS if s.name == "pv_cord_compression_without_known_bone_metastasis")
    cards = {c["source"]["topic"]["code"]: c for c in call_scenario(scenario)["cards"]}
    mri = [o for o in created_orders(cards["SPINAL-CORD-COMPRESSION"]) if "mri-spine" in o]
    assert len(mri) == 1
    assert not [o for o in created_orders(cards["BONE-IMAGING-WORKUP"]) if "mri-spine" in o]
    workup = cards["BONE-IMAGING-WORKUP"]["detail"]
    assert "order offered on the SPINAL-CORD-COMPRESSION card" in workup
