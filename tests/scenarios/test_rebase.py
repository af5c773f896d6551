"""The date rebasing that keeps scenario windows stable whatever day the suite runs."""

from __future__ import annotations

from datetime import date

from tests.scenarios.scenario_files import Scenario, days_to_today, hook_request, rebase


def test_dates_and_datetimes_move_other_strings_do_not():
    value = {"a": "2026-12-01", "b": ["2026-11-20T08:30:00+08:00"], "c": "C34.90", "d": "2026", "e": 4}
    assert rebase(value, 10) == {
        "a": "2026-12-11",
        "b": ["2026-11-30T08:30:00+08:00"],
        "c": "C34.90",
        "d": "2026",
        "e": 4,
    }


def test_a_request_dated_today_keeps_the_scenario_intervals():
    doc = {
        "hook": "patient-view",
        "now": "2026-12-01",
        "bundle": {
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "scn-x", "birthDate": "1958-03-10"}},
                {"resource": {"resourceType": "Observation", "id": "o1", "effectiveDateTime": "2026-11-01"}},
            ],
        },
    }
    scenario = Scenario("x", doc)
    assert days_to_today(scenario, date(2027, 3, 1)) == 90
    body = hook_request(scenario, today=date(2027, 3, 1))
    assert body["prefetch"]["patient"]["birthDate"] == "1958-06-08"
    assert body["prefetch"]["observations"]["entry"][0]["resource"]["effectiveDateTime"] == "2027-01-30"
    assert body["prefetch"]["conditions"]["entry"] == []
