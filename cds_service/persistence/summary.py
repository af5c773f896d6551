"""How often each rule's cards are accepted or overridden, and why: the question feedback exists to answer.

One grouped query over `feedback`, with the number of cards each rule produced alongside (a correlated
count over `card_record`), so a reviewer can read "ZA-RENAL-DOSING: 40 cards, 12 overridden, 9 of them
'already dosed by renal team'" from one result and compare rates between rules.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Engine, func, select

from cds_service.persistence.models import CardRecord, Feedback


class OverrideCount(NamedTuple):
    rule_id: str | None  # None for feedback about a card this store never recorded
    outcome: str  # "accepted" or "overridden"
    reason_system: str | None
    reason_code: str | None  # None: overridden without a coded reason (or accepted)
    reason_display: str | None  # one display seen for the code, for reading the report
    feedback_count: int  # feedback entries with this rule, outcome and reason
    cards_issued: int  # cards this rule produced (in this store), the denominator of a rate


def override_summary(engine: Engine, service_id: str | None = None) -> list[OverrideCount]:
    cards = select(func.count(CardRecord.id)).where(CardRecord.rule_id == Feedback.rule_id)
    if service_id is not None:
        cards = cards.where(CardRecord.service_id == service_id)
    cards_issued = cards.scalar_subquery()
    statement = select(
        Feedback.rule_id,
        Feedback.outcome,
        Feedback.override_reason_system,
        Feedback.override_reason_code,
        func.min(Feedback.override_reason_display),
        func.count(Feedback.id).label("n"),
        cards_issued,
    ).group_by(
        Feedback.rule_id, Feedback.outcome, Feedback.override_reason_system, Feedback.override_reason_code
    )
    if service_id is not None:
        statement = statement.where(Feedback.service_id == service_id)
    statement = statement.order_by(
        Feedback.rule_id, Feedback.outcome, func.count(Feedback.id).desc(), Feedback.override_reason_code
    )
    with engine.connect() as connection:
        return [OverrideCount(*row) for row in connection.execute(statement)]
