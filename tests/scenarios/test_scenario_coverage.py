"""The scenario set exercises every rule the services run, both ways: each rule ID is expected to fire for
at least one patient, and at least one patient was built to narrowly miss it (and must not get it)."""

from __future__ import annotations

import pytest

from hooks.data_notices import DATA_CARD_IDS
from hooks.service_registry import services
from tests.scenarios.scenario_files import SERVICE_BY_HOOK, load_scenarios

SCENARIOS = load_scenarios()
MIN_SCENARIOS = 45
ORDER_HOOKS = ("order-select", "order-sign")


def _family(hook: str) -> tuple[str, ...]:
    return ORDER_HOOKS if hook in ORDER_HOOKS else (hook,)


def _rules_by_family() -> list[tuple[str, tuple[str, ...]]]:
    registered = services()
    pairs = {
        (rule_id, _family(service.hook))
        for service in registered.values()
        for rule_id in service.rule_ids
        if service.id in SERVICE_BY_HOOK.values()
    }
    return sorted(pairs)


RULES = _rules_by_family()


def test_enough_patients_across_all_hooks():
    assert len(SCENARIOS) >= MIN_SCENARIOS
    assert {s.hook for s in SCENARIOS} == set(SERVICE_BY_HOOK)


@pytest.mark.parametrize("rule_id,hooks", RULES, ids=[f"{r}-{h[0]}" for r, h in RULES])
def test_rule_fires_for_some_patient(rule_id, hooks):
    assert [s.name for s in SCENARIOS if s.hook in hooks and rule_id in s.expected]


@pytest.mark.parametrize("rule_id,hooks", RULES, ids=[f"{r}-{h[0]}" for r, h in RULES])
def test_rule_narrowly_missed_by_some_patient(rule_id, hooks):
    assert [s.name for s in SCENARIOS if s.hook in hooks and rule_id in s.near_misses]


def test_near_misses_are_not_expected_to_fire():
    assert [s.name for s in SCENARIOS if s.near_misses & s.expected] == []


def test_expectations_name_only_known_rules():
    """Catalog rules, and the data cards every service may add (DATA-UNAVAILABLE, DATA-QUALITY,
    UNMAPPED-CODES: `hooks/data_notices.py`)."""
    known = {rule_id for rule_id, _ in RULES} | set(DATA_CARD_IDS)
    assert {s.name: sorted(s.expected - known) for s in SCENARIOS if s.expected - known} == {}


def test_every_scenario_is_described_and_dated():
    for s in SCENARIOS:
        assert s.doc["description"].strip().endswith("."), s.name
        assert s.doc["now"] and s.doc["bundle"]["type"] == "collection", s.name
        assert s.patient["id"].startswith("scn-"), s.name
