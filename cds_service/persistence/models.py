"""Tables of the card, feedback and replay store (SQLAlchemy 2 declarative models).

Nothing here can identify a patient on its own: a card record holds an HMAC of the patient id, never the
id, and a feedback row holds the clinician's free-text comment only when the operator has opted in.
Column sizes are at least the limits of `cds_service/schemas/feedback.schema.json`, so a body that passed
validation always fits (PostgreSQL refuses an over-long VARCHAR; SQLite would silently keep it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite has no time zone type and would return naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times as aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class CardRecord(Base):
    """One card this service returned, so feedback about it can be tied back to the rule that fired."""

    __tablename__ = "card_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[str] = mapped_column(String(128))
    rule_id: Mapped[str | None] = mapped_column(String(128), index=True)
    indicator: Mapped[str | None] = mapped_column(String(16))
    hook_instance: Mapped[str] = mapped_column(String(64))
    patient_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Feedback(Base):
    """One clinician interaction with a card, as the CDS Client reported it."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_rule_outcome", "rule_id", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_uuid: Mapped[str] = mapped_column(String(64), index=True)
    service_id: Mapped[str] = mapped_column(String(128))
    rule_id: Mapped[str | None] = mapped_column(String(128))
    card_known: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(16))
    override_reason_system: Mapped[str | None] = mapped_column(String(1024))
    override_reason_code: Mapped[str | None] = mapped_column(String(256))
    override_reason_display: Mapped[str | None] = mapped_column(String(1024))
    user_comment: Mapped[str | None] = mapped_column(Text)
    accepted_suggestion_ids: Mapped[list[Any]] = mapped_column(JsonDocument, default=list)
    outcome_timestamp: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class JtiSeen(Base):
    """A JWT id already accepted; the unique key makes "first use" atomic across processes and hosts."""

    __tablename__ = "jti_seen"
    __table_args__ = (UniqueConstraint("issuer", "jti", name="uq_jti_seen_issuer_jti"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(512))
    jti: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class ServiceSecret(Base):
    """A secret the service generated for itself, shared by every instance that uses this database."""

    __tablename__ = "service_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
