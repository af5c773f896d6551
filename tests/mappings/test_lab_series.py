"""Lab results are converted and validated when a rule reads them, and a rule can read as far back as it
needs: the zoledronic acid baseline creatinine is found however many results came after it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fhir_mappings import model_check
from fhir_mappings.facts import LabResult, UnusableResult
from fhir_mappings.lab_series import LabSeries, Raw
from hooks.rules._renal import creatinine_rise as rise_since_baseline
from hooks.rules._renal import za_baseline
from hooks.rules.za_renal_dosing import za_renal_dosing
from tests.fhir_server_mode.chart import zoledronic_acid
from tests.mappings.fhir_builders import PID, condition, observation
from tests.mappings.test_units_and_calculators import NOW, T, facts_of


def creatinine_rise(facts, t):
    """The zoledronic acid creatinine rise against the current course's baseline (hooks/rules/_renal.py)."""
    return rise_since_baseline(facts, za_baseline(facts, t), t)

CREATININE = "2160-0"


class CountingConvert:
    """Converts raw (when, {"value": x}) items; a None value is unusable. Counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[float | None] = []

    def __call__(self, raw: Raw, issues: list[UnusableResult]) -> LabResult | None:
        when, obs = raw
        self.asked.append(obs["value"])
        if obs["value"] is None:
            issues.append(UnusableResult("creatinine", "no numeric value", obs["id"], ""))
            return None
        value = float(obs["value"])
        return LabResult("creatinine", value, "mg/dL", value, "mg/dL", when, obs["id"], "", None, None)


def raw_series(*values: float | None) -> list[Raw]:
    """Newest first, one day apart."""
    return [(NOW - timedelta(days=i), {"id": f"Observation/{i}", "value": v}) for i, v in enumerate(values)]


def test_only_the_newest_usable_result_is_read_when_the_series_is_made() -> None:
    convert, issues = CountingConvert(), []
    series = LabSeries(raw_series(None, 1.1, 1.0, 0.9), convert, issues)
    assert convert.asked == [None, 1.1]  # the unusable newest, then the newest usable
    assert [i.reference for i in issues] == ["Observation/0"]  # reported for the cards
    assert series and series[0].value == 1.1 and convert.asked == [None, 1.1]


def test_walking_back_reads_each_result_once_and_reports_late_problems_aside() -> None:
    convert, issues = CountingConvert(), []
    series = LabSeries(raw_series(1.2, None, 1.0), convert, issues)
    assert [r.value for r in series] == [1.2, 1.0]
    assert [r.value for r in series] == [1.2, 1.0] and len(series) == 2 and series[1].value == 1.0
    assert convert.asked == [1.2, None, 1.0]  # memoised: never converted twice
    assert issues == [] and [i.reference for i in series.skipped] == ["Observation/1"]
    with pytest.raises(IndexError):
        series[2]


def test_on_or_before_passes_newer_results_over_unread() -> None:
    convert = CountingConvert()
    series = LabSeries(raw_series(1.5, 1.4, 1.3, 1.2, 1.1), convert, [])
    older = series.on_or_before(NOW - timedelta(days=3))
    assert [r.value for r in older] == [1.2, 1.1]
    assert convert.asked == [1.5, 1.2, 1.1]  # 1.4 and 1.3 were never converted


def test_an_empty_or_wholly_unusable_series_is_false() -> None:
    assert not LabSeries([], CountingConvert(), [])
    assert not LabSeries(raw_series(None, None), CountingConvert(), [])


def _weekly_creatinines(count: int, *, baseline_days_ago: int, baseline: float, current: float) -> list[Any]:
    """`count` weekly results ending 3 days ago at `current`, plus the baseline `baseline_days_ago`."""
    resources = [
        observation(CREATININE, current, "mg/dL", when=(NOW - timedelta(days=3 + 7 * i)).date().isoformat())
        for i in range(count)
    ]
    when = (NOW - timedelta(days=baseline_days_ago)).date().isoformat()
    resources.append(observation(CREATININE, baseline, "mg/dL", when=when))
    return resources


def _za_started(days_ago: int) -> dict[str, Any]:
    order = zoledronic_acid(PID, "za-1")
    order["authoredOn"] = (NOW - timedelta(days=days_ago)).date().isoformat()
    return order


def test_a_baseline_creatinine_behind_180_later_results_is_still_found() -> None:
    """Zoledronic acid started ~3.5 years ago, weekly creatinine since: the baseline is 180 results back.
    (A history capped at 50 results used to miss it, and the rise was never assessed.)"""
    started = 7 * 180 + 10
    labs = _weekly_creatinines(180, baseline_days_ago=started + 5, baseline=0.8, current=1.6)
    facts = facts_of(condition("C34.1"), condition("C79.51"), _za_started(started), *labs)
    rise = creatinine_rise(facts, T)
    assert rise is not None and (rise.baseline.value, rise.current.value) == (0.8, 1.6)
    assert rise.baseline.day == date.fromordinal(NOW.date().toordinal() - started - 5)
    finding = za_renal_dosing(facts, T)
    assert finding is not None and finding.variant == "creatinine-rise"


def test_no_rise_is_claimed_when_the_baseline_is_not_raised_from() -> None:
    """The other side: the same long history with a flat creatinine gives no rise."""
    started = 7 * 180 + 10
    labs = _weekly_creatinines(180, baseline_days_ago=started + 5, baseline=0.9, current=1.0)
    facts = facts_of(condition("C34.1"), condition("C79.51"), _za_started(started), *labs)
    assert creatinine_rise(facts, T) is None


def test_results_no_rule_reads_are_never_validated(monkeypatch) -> None:
    """200 creatinines and no zoledronic acid: the newest is validated, the other 199 are not touched."""
    validated: list[str] = []
    real = model_check._validate

    def counting(resource_type: str, resource: dict[str, Any]) -> str | None:
        validated.append(resource["id"])
        return real(resource_type, resource)

    monkeypatch.setattr(model_check, "_validate", counting)
    model_check.forget_verdicts()
    labs = _weekly_creatinines(199, baseline_days_ago=2000, baseline=0.9, current=1.0)
    facts = facts_of(condition("C34.1"), *labs)
    assert facts.latest("creatinine") is not None
    assert [v for v in validated if v.startswith("o")] == [labs[0]["id"]]


def test_a_baseline_that_is_not_valid_fhir_is_refused_and_the_next_older_one_used() -> None:
    """Every result a rule reads is validated: an invalid baseline is skipped with its reason."""
    started = 200
    good = observation(CREATININE, 0.8, "mg/dL", when=(NOW - timedelta(days=started + 20)).date().isoformat())
    bad = observation(CREATININE, 0.5, "mg/dL", when=(NOW - timedelta(days=started + 2)).date().isoformat())
    bad["issued"] = "not a date"  # fhir.resources refuses it; the raw reader does not look at `issued`
    current = observation(CREATININE, 1.5, "mg/dL", when=(NOW - timedelta(days=3)).date().isoformat())
    facts = facts_of(condition("C34.1"), condition("C79.51"), _za_started(started), current, bad, good)
    rise = creatinine_rise(facts, T)
    assert rise is not None and rise.baseline.reference == f"Observation/{good['id']}"
    series = facts.labs["creatinine"]
    assert isinstance(series, LabSeries)
    assert [i.reference for i in series.skipped] == [f"Observation/{bad['id']}"]
    assert "not valid FHIR R4" in series.skipped[0].reason
