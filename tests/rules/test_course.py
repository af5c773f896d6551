"""The current continuous course of oncology BMA treatment (RULES.md 7.1.11, 7.3.21)."""

from __future__ import annotations

from dataclasses import replace

from hooks.rules._course import current_course, first_dose, order_end, stopped_within_gap_or_active
from tests.rules.factories import (
    NOW,
    THRESHOLDS,
    days_ago,
    denosumab,
    facts,
    medication,
    on_regimen,
    zoledronic_acid,
)

MONTH = 30.44


def test_switch_within_ninety_days_is_one_course():
    """Zoledronic acid ended 200 days ago after 10 months, denosumab started 150 days ago: one course."""
    za = on_regimen(zoledronic_acid(status="stopped", days=500), ended_days=200)
    dmab = on_regimen(denosumab(days=150))
    course = current_course(facts(medications=[dmab, za]), THRESHOLDS)
    assert course is not None and course.is_active
    assert course.first_dose == za.start
    assert [m.reference for m in course.orders] == [za.reference, dmab.reference]
    assert course.first_dose_of("denosumab") == dmab.start


def test_gap_over_ninety_days_starts_a_new_course():
    """Zoledronic acid ended 400 days ago, denosumab restarted 100 days ago: the course starts there."""
    za = on_regimen(zoledronic_acid(status="stopped", days=900), ended_days=400)
    dmab = on_regimen(denosumab(days=100))
    course = current_course(facts(medications=[za, dmab]), THRESHOLDS)
    assert course is not None and course.first_dose == dmab.start
    assert [m.reference for m in course.orders] == [dmab.reference]


def test_gap_of_exactly_ninety_days_is_continuous():
    """The threshold is inclusive: an order starting exactly 90 days after the last one ended continues it."""
    old = on_regimen(zoledronic_acid(status="stopped", days=400), ended_days=190)
    new = on_regimen(zoledronic_acid(days=100))
    assert first_dose(facts(medications=[old, new]), THRESHOLDS) == old.start
    newer = on_regimen(zoledronic_acid(days=99))
    assert first_dose(facts(medications=[old, newer]), THRESHOLDS) == newer.start


def test_stopped_within_ninety_days_is_current():
    """Denosumab ended 60 days ago: stopped within 90 days, so a new draft is not a first dose."""
    stopped = on_regimen(denosumab(status="stopped", days=400), ended_days=60)
    patient = facts(medications=[stopped])
    course = current_course(patient, THRESHOLDS)
    assert course is not None and not course.is_active and course.ended == days_ago(60).date()
    assert stopped_within_gap_or_active(patient, THRESHOLDS)


def test_stopped_long_ago_is_no_course():
    """Zoledronic acid ended 200 days ago: no current course (a new order is a first dose)."""
    stopped = on_regimen(zoledronic_acid(status="stopped", days=700), ended_days=200)
    patient = facts(medications=[stopped])
    assert current_course(patient, THRESHOLDS) is None
    assert not stopped_within_gap_or_active(patient, THRESHOLDS)


def test_osteoporosis_regimen_is_not_part_of_the_course():
    """Prolia for 3 years, then Xgeva 2 months ago: the oncology course starts with Xgeva."""
    prolia = on_regimen(
        denosumab(product="prolia", dose_mg=60, status="stopped", days=3 * 365), "osteoporosis", ended_days=70
    )
    xgeva = on_regimen(denosumab(days=60))
    assert first_dose(facts(medications=[prolia, xgeva]), THRESHOLDS) == xgeva.start
    assert current_course(facts(medications=[prolia]), THRESHOLDS) is None


def test_unknown_and_unfilled_regimens_count_as_oncology():
    """An order whose regimen is unknown (or not yet read) counts, for safety (7.1.5)."""
    for regimen in ("unknown", None):
        order = on_regimen(zoledronic_acid(days=40), regimen)
        assert first_dose(facts(medications=[order]), THRESHOLDS) == order.start


def test_stopped_order_without_end_ends_one_interval_after_start():
    """A stopped 4-weekly order with no end date supplied doses until one interval after its start."""
    order = on_regimen(zoledronic_acid(status="stopped", days=200, interval_days=28))
    assert order_end(order, NOW.date()) == days_ago(172).date()
    assert order_end(replace(order, interval_days=None), NOW.date()) == order.start


def test_monthly_single_dose_orders_chain_into_one_course():
    """Twelve monthly one-dose orders (Epic-style infusion orders), all completed, then an active one."""
    orders = [on_regimen(zoledronic_acid(status="completed", days=30 * k)) for k in range(1, 13)]
    active = on_regimen(zoledronic_acid(days=2))
    course = current_course(facts(medications=[*orders, active]), THRESHOLDS)
    assert course is not None and course.first_dose == days_ago(360).date() and course.is_active


def test_cancelled_and_draft_orders_never_start_a_course():
    """A cancelled order was never given; a draft is not on the chart: neither is a course."""
    cancelled = on_regimen(zoledronic_acid(status="cancelled", days=30))
    assert current_course(facts(medications=[cancelled]), THRESHOLDS) is None
    draft = on_regimen(zoledronic_acid(draft=True, days=0))
    assert current_course(facts(drafts=[draft]), THRESHOLDS) is None


def test_undated_active_order_is_a_course_with_unknown_first_dose():
    """An active order with no date: treatment is going on, its first dose is unknown."""
    undated = on_regimen(replace(denosumab(), start=None, authored=None))
    course = current_course(facts(medications=[undated]), THRESHOLDS)
    assert course is not None and course.is_active and course.first_dose is None


def test_long_active_order_bridges_later_gaps():
    """An active order started 3 years ago keeps the course continuous whatever stopped around it."""
    long_active = on_regimen(zoledronic_acid(days=3 * 365))
    short = on_regimen(denosumab(status="stopped", days=400), ended_days=380)
    assert first_dose(facts(medications=[short, long_active]), THRESHOLDS) == long_active.start


def test_non_bma_orders_are_ignored():
    """Calcium supplements are not part of a BMA course."""
    calcium = medication("calcium_supplement", agent_class="supplement", days=900)
    assert current_course(facts(medications=[calcium]), THRESHOLDS) is None
