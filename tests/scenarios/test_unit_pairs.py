"""The same patient from a Chinese laboratory (WHO ICD-10, ATC, mmol/L, umol/L, g/L) and from a US one
(ICD-10-CM, RxNorm, mg/dL, g/dL) must get the same cards with the same indicators (RULES.md section 6:
never compare a value with a threshold in another unit)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.scenarios.scenario_files import Scenario, load_scenarios, rule_indicators

PAIRS: dict[str, list[Scenario]] = defaultdict(list)
for _scenario in load_scenarios():
    if "pair" in _scenario.doc:
        PAIRS[_scenario.doc["pair"]].append(_scenario)


def test_every_pair_has_a_chinese_and_a_us_version():
    assert len(PAIRS) >= 5
    for name, members in PAIRS.items():
        assert sorted(s.name.rsplit("_", 1)[1] for s in members) == ["cn", "us"], name


def _units(scenario: Scenario) -> set[str]:
    return {
        r["valueQuantity"]["unit"]
        for r in scenario.resources()
        if r["resourceType"] == "Observation" and "valueQuantity" in r
    }


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_both_unit_systems_get_the_same_cards(pair, call_scenario):
    members = sorted(PAIRS[pair], key=lambda s: s.name)
    cn, us = members
    assert "mmol/L" in _units(cn) or "umol/L" in _units(cn), "the Chinese version reports molar units"
    assert "mg/dL" in _units(us) and not {"mmol/L", "umol/L", "g/L"} & _units(us)
    cn_cards, us_cards = (rule_indicators(call_scenario(s)["cards"]) for s in (cn, us))
    assert cn_cards == us_cards
    assert {rule for rule, _ in us_cards} == us.expected == cn.expected
