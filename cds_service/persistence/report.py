"""Per-rule feedback report: which cards clinicians act on, which they override, and why.

Health IT answers for the service after go-live with this table. It is built from two grouped queries,
cards per rule and feedback per rule, outcome and reason, so a rule whose cards got no feedback at all
still shows (an ignored card is a finding too), and a date range or one service narrows both sides alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from cds_service.persistence.models import CardRecord, Feedback

NO_REASON = "(no reason given)"
UNKNOWN_RULE = "(card not recorded by this store)"


@dataclass(frozen=True)
class ReasonCount:
    reason: str  # the display, else the code, else NO_REASON
    count: int


@dataclass(frozen=True)
class RuleReport:
    rule_id: str
    cards_issued: int
    accepted: int
    overridden: int
    top_reasons: tuple[ReasonCount, ...]

    @property
    def override_rate(self) -> float | None:
        """Overridden among the cards that got an answer; None when none did (a rate of nothing)."""
        answered = self.accepted + self.overridden
        return self.overridden / answered if answered else None

    def as_dict(self) -> dict[str, Any]:
        rate = self.override_rate
        return {
            "rule_id": self.rule_id,
            "cards_issued": self.cards_issued,
            "accepted": self.accepted,
            "overridden": self.overridden,
            "override_rate": None if rate is None else round(rate, 4),
            "top_override_reasons": [{"reason": r.reason, "count": r.count} for r in self.top_reasons],
        }


@dataclass(frozen=True)
class ReportFilter:
    service_id: str | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


def rule_report(engine: Engine, where: ReportFilter = ReportFilter(), top: int = 3) -> list[RuleReport]:
    """One row per rule that issued a card or got feedback in the range, sorted by rule ID."""
    cards = _cards_per_rule(engine, where)
    outcomes: dict[str, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "overridden": 0})
    reasons: dict[str, list[ReasonCount]] = defaultdict(list)
    for rule_id, outcome, code, display, count in _feedback_groups(engine, where):
        rule = rule_id or UNKNOWN_RULE
        outcomes[rule][outcome] = outcomes[rule].get(outcome, 0) + count
        if outcome == "overridden":
            reasons[rule].append(ReasonCount(display or code or NO_REASON, count))
    return [
        RuleReport(
            rule_id=rule,
            cards_issued=cards.get(rule, 0),
            accepted=outcomes[rule]["accepted"],
            overridden=outcomes[rule]["overridden"],
            top_reasons=tuple(sorted(reasons[rule], key=lambda r: (-r.count, r.reason))[:top]),
        )
        for rule in sorted({*cards, *outcomes})
    ]


def _cards_per_rule(engine: Engine, where: ReportFilter) -> dict[str, int]:
    statement = select(CardRecord.rule_id, func.count(CardRecord.id)).group_by(CardRecord.rule_id)
    statement = filtered(statement, CardRecord.service_id, CardRecord.created_at, where)
    with engine.connect() as connection:
        return {rule or UNKNOWN_RULE: count for rule, count in connection.execute(statement)}


def _feedback_groups(engine: Engine, where: ReportFilter) -> list[Any]:
    statement = select(
        Feedback.rule_id,
        Feedback.outcome,
        Feedback.override_reason_code,
        func.min(Feedback.override_reason_display),
        func.count(Feedback.id),
    ).group_by(Feedback.rule_id, Feedback.outcome, Feedback.override_reason_code)
    statement = filtered(statement, Feedback.service_id, Feedback.received_at, where)
    with engine.connect() as connection:
        return list(connection.execute(statement))


def filtered(statement: Any, service_column: Any, time_column: Any, where: ReportFilter) -> Any:
    """`where` applied to a query of cards (created_at) or feedback (received_at): one service, a range."""
    if where.service_id is not None:
        statement = statement.where(service_column == where.service_id)
    if where.since is not None:
        statement = statement.where(time_column >= where.since)
    if where.until is not None:
        statement = statement.where(time_column < where.until)
    return statement
