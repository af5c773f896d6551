"""The series the analytics page plots, read from the card and feedback tables.

Rows are fetched with the filter applied in SQL and bucketed here by ISO week, so the same code runs on
SQLite and PostgreSQL (their date functions differ) and a week means the same thing on both.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select

from cds_service.persistence.models import CardRecord, Feedback
from cds_service.persistence.report import NO_REASON, ReportFilter, filtered

Week = date  # the Monday of an ISO week


@dataclass(frozen=True)
class WeeklyRate:
    rule_id: str
    week: Week
    overridden: int
    answered: int

    @property
    def rate(self) -> float:
        return self.overridden / self.answered


@dataclass(frozen=True)
class WeeklyCards:
    week: Week
    cards: int
    calls: int  # hook calls that returned at least one card (calls without cards leave no record)

    @property
    def per_call(self) -> float:
        return self.cards / self.calls


def week_of(moment: datetime) -> Week:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def override_rates_by_week(engine: Engine, where: ReportFilter) -> list[WeeklyRate]:
    statement = select(Feedback.rule_id, Feedback.outcome, Feedback.received_at)
    statement = filtered(statement, Feedback.service_id, Feedback.received_at, where)
    counts: dict[tuple[str, Week], Counter[str]] = defaultdict(Counter)
    with engine.connect() as connection:
        for rule_id, outcome, received in connection.execute(statement):
            counts[(rule_id or "(unknown card)", week_of(received))][outcome] += 1
    return [
        WeeklyRate(rule, week, c["overridden"], c["overridden"] + c["accepted"])
        for (rule, week), c in sorted(counts.items())
        if c["overridden"] + c["accepted"]
    ]


def cards_by_week(engine: Engine, where: ReportFilter) -> list[WeeklyCards]:
    statement = select(CardRecord.hook_instance, func.min(CardRecord.created_at), func.count(CardRecord.id))
    statement = filtered(statement, CardRecord.service_id, CardRecord.created_at, where)
    statement = statement.group_by(CardRecord.hook_instance)
    cards: Counter[Week] = Counter()
    calls: Counter[Week] = Counter()
    with engine.connect() as connection:
        for _instance, created, count in connection.execute(statement):
            cards[week_of(created)] += count
            calls[week_of(created)] += 1
    return [WeeklyCards(week, cards[week], calls[week]) for week in sorted(cards)]


def override_reasons(engine: Engine, where: ReportFilter) -> list[tuple[str, int]]:
    """Every override reason in the range, most frequent first, named by display where one is known."""
    statement = select(
        Feedback.override_reason_code, func.min(Feedback.override_reason_display), func.count(Feedback.id)
    ).where(Feedback.outcome == "overridden")
    statement = filtered(statement, Feedback.service_id, Feedback.received_at, where)
    statement = statement.group_by(Feedback.override_reason_code)
    with engine.connect() as connection:
        named = [(display or code or NO_REASON, n) for code, display, n in connection.execute(statement)]
    return sorted(named, key=lambda item: (-item[1], item[0]))
