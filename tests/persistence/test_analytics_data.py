"""The analytics page's series on real stored cards and feedback (SQLite here, PostgreSQL through
tests/postgres/test_store_on_postgres.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import update

from cds_service.analytics.data import cards_by_week, override_rates_by_week, override_reasons
from cds_service.persistence import Store
from cds_service.persistence.models import CardRecord, Feedback
from cds_service.persistence.report import ReportFilter
from tests.persistence.factories import accepted, card, overridden, unique

SERVICE = "bonemet-patient-view"
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
NEXT_WEEK = datetime(2026, 3, 11, 9, tzinfo=UTC)  # the Wednesday after
RANGE = ReportFilter(since=datetime(2026, 3, 1, tzinfo=UTC), until=datetime(2026, 3, 20, tzinfo=UTC))


def at(store: Store, cards: list[dict], when: datetime) -> None:
    uuids = [c["uuid"] for c in cards]
    with store.engine.begin() as connection:
        connection.execute(update(CardRecord).where(CardRecord.card_uuid.in_(uuids)).values(created_at=when))
        connection.execute(update(Feedback).where(Feedback.card_uuid.in_(uuids)).values(received_at=when))


def test_override_rate_cards_per_call_and_reasons_by_week(store: Store) -> None:
    rule = unique("ORAL-EXAM")
    first_call = [card(rule), card(unique("MDT-REFERRAL"))]
    second_call = [card(rule)]
    later_call = [card(rule)]
    for cards in (first_call, second_call, later_call):
        store.record_cards(SERVICE, str(uuid.uuid4()), "analytics-patient", cards)
    store.record_feedback(
        SERVICE,
        [
            overridden(first_call[0]["uuid"], "patient-declined"),
            accepted(second_call[0]["uuid"]),
            overridden(later_call[0]["uuid"], "patient-declined"),
        ],
    )
    at(store, first_call + second_call, MONDAY)
    at(store, later_call, NEXT_WEEK)

    rates = {(r.rule_id, r.week): r for r in override_rates_by_week(store.engine, RANGE) if r.rule_id == rule}
    assert {week: (r.overridden, r.answered) for (_, week), r in rates.items()} == {
        date(2026, 3, 2): (1, 2),
        date(2026, 3, 9): (1, 1),
    }
    weeks = {w.week: (w.cards, w.calls) for w in cards_by_week(store.engine, RANGE)}
    assert weeks[date(2026, 3, 2)][0] >= 3 and weeks[date(2026, 3, 9)] >= (1, 1)
    assert dict(override_reasons(store.engine, RANGE))["patient declined"] >= 2


def test_a_range_before_the_data_is_empty(store: Store) -> None:
    rule = unique("BASELINE-BONE-SCAN")
    cards = [card(rule)]
    store.record_cards(SERVICE, str(uuid.uuid4()), "analytics-patient", cards)
    store.record_feedback(SERVICE, [overridden(cards[0]["uuid"], "x")])
    at(store, cards, MONDAY)
    before = ReportFilter(since=datetime(2020, 1, 1, tzinfo=UTC), until=datetime(2020, 2, 1, tzinfo=UTC))
    assert [r for r in override_rates_by_week(store.engine, before) if r.rule_id == rule] == []
    assert "x" not in dict(override_reasons(store.engine, before))
