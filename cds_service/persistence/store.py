"""`Store`: what the service writes down about its cards and the feedback on them, and the replay cache.

Built once per process from the database URL. Patient ids are stored only as a keyed hash; clinicians'
free-text comments only when the operator opts in (`store_comments=True`), because free text can carry
patient data. Nothing in here logs an id, a hash or a comment.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Insert, insert, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import StaticPool

from cds_service.persistence.card_log import CardLog
from cds_service.persistence.engine import build_engine, create_schema
from cds_service.persistence.models import CardRecord, Feedback, utc_now
from cds_service.persistence.patient_hash import load_or_create_key, patient_pseudonym
from cds_service.persistence.replay import SqlReplayCache
from cds_service.persistence.summary import OverrideCount, override_summary
from cds_service.settings import DEFAULT_DATABASE_URL

log = logging.getLogger(__name__)


class Store:
    def __init__(
        self,
        database_url: str = DEFAULT_DATABASE_URL,
        *,
        hash_key: str | None = None,
        store_comments: bool = False,
        card_log_delay_s: float = 0.05,
        reason_displays: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.engine: Engine = build_engine(database_url)
        create_schema(self.engine)
        self._hash_key = hash_key.encode("utf-8") if hash_key else load_or_create_key(self.engine)
        self._store_comments = store_comments
        self._reason_displays = dict(reason_displays or {})
        """(system, code) -> the display the cards offered: the sandbox sends overrides without one."""
        self._replay_cache: SqlReplayCache | None = None
        self._card_log = CardLog(self._write_card_rows, max_delay_s=card_log_delay_s)
        # Start with an empty pool: a gunicorn master that built the store before forking must not hand
        # the same open connection to several workers. (An in-memory database lives in its one connection.)
        if not isinstance(self.engine.pool, StaticPool):
            self.engine.dispose()
        comments = "kept" if store_comments else "dropped"
        log.info("store ready (%s, feedback comments %s)", self.engine.dialect.name, comments)

    def patient_hash(self, patient_id: str) -> str:
        """The pseudonym stored instead of the patient id; stable for one key, useless without it."""
        return patient_pseudonym(self._hash_key, patient_id)

    def record_cards(
        self, service_id: str, hook_instance: str, patient_id: str, cards: list[dict[str, Any]]
    ) -> int:
        """Remember each card with a uuid (only those can receive feedback), committed before this returns;
        returns how many. The hook route uses `log_cards` instead, which writes behind the answer."""
        rows = self._card_rows(service_id, hook_instance, patient_id, cards)
        self._write_card_rows(rows)
        return len(rows)

    def log_cards(
        self, service_id: str, hook_instance: str, patient_id: str, cards: list[dict[str, Any]]
    ) -> int:
        """Queue the card records for this worker's writer (`card_log`); returns how many were queued."""
        rows = self._card_rows(service_id, hook_instance, patient_id, cards)
        self._card_log.submit(rows)
        return len(rows)

    def flush_cards(self, timeout_s: float = 10.0) -> bool:
        """Wait until this process's queued card records are written; False if that took too long."""
        return self._card_log.flush(timeout_s)

    def record_feedback(self, service_id: str, items: list[dict[str, Any]]) -> int:
        """Store feedback entries; committed (and on disk) before this returns, so a 200 is a promise.

        Each entry gets the rule ID of the card it names when this service recorded that card
        (`card_known`); a uuid this service never issued (another service's card, a card from before the
        store existed, a client's mistake) is still stored, with `card_known` false and no rule ID.
        """
        if not items:
            return 0
        self.flush_cards()  # a card this worker logged a moment ago is known, not "never issued"
        uuids = {str(item["card"]).lower() for item in items}
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL synchronous_commit = on"))  # even if the server relaxed it
            query = select(CardRecord.card_uuid, CardRecord.rule_id).where(
                CardRecord.card_uuid.in_(uuids), CardRecord.service_id == service_id
            )
            known = {row.card_uuid: row.rule_id for row in connection.execute(query)}
            rows = [self._feedback_row(item, service_id, known) for item in items]
            connection.execute(insert(Feedback), rows)
        return len(rows)

    def replay_cache(self) -> SqlReplayCache:
        """The JWT replay cache on this database (one per store, shared by the threads of a worker)."""
        if self._replay_cache is None:
            self._replay_cache = SqlReplayCache(self.engine)
        return self._replay_cache

    def override_summary(self, service_id: str | None = None) -> list[OverrideCount]:
        """Per rule, outcome and override reason: how many feedback entries, and how many cards issued."""
        self.flush_cards()
        return override_summary(self.engine, service_id)

    def ping(self) -> bool:
        """True when the database answers; for health checks."""
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1

    def close(self) -> None:
        self.flush_cards()
        self.engine.dispose()

    def _card_rows(
        self, service_id: str, hook_instance: str, patient_id: str, cards: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        patient_hash = self.patient_hash(patient_id)
        return [row for card in cards if (row := _card_row(card, service_id, hook_instance, patient_hash))]

    def _write_card_rows(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.engine.begin() as connection:
            connection.execute(_insert_ignoring_duplicates(self.engine, CardRecord), rows)

    def _offered_display(self, reason: Mapping[str, Any]) -> str | None:
        system, code = reason.get("system"), reason.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            return None
        return self._reason_displays.get((system, code))

    def _feedback_row(
        self, item: Mapping[str, Any], service_id: str, known: Mapping[str, str | None]
    ) -> dict[str, Any]:
        card_uuid = str(item["card"]).lower()
        override = item.get("overrideReason") or {}
        reason = override.get("reason") or {}
        return {
            "card_uuid": card_uuid,
            "service_id": service_id,
            "rule_id": known.get(card_uuid),
            "card_known": card_uuid in known,
            "outcome": item["outcome"],
            "override_reason_system": reason.get("system"),
            "override_reason_code": reason.get("code"),
            "override_reason_display": reason.get("display") or self._offered_display(reason),
            "user_comment": override.get("userComment") if self._store_comments else None,
            "accepted_suggestion_ids": _suggestion_ids(item.get("acceptedSuggestions") or []),
            "outcome_timestamp": parse_timestamp(item.get("outcomeTimestamp")),
            "received_at": utc_now(),
        }


def _card_row(
    card: Mapping[str, Any], service_id: str, hook_instance: str, patient_hash: str
) -> dict[str, Any] | None:
    card_uuid = card.get("uuid")
    if not isinstance(card_uuid, str) or not card_uuid:
        return None
    source = card.get("source")
    topic = source.get("topic") if isinstance(source, Mapping) else None
    rule_id = topic.get("code") if isinstance(topic, Mapping) else None
    return {
        "card_uuid": card_uuid.lower(),
        "service_id": service_id,
        "rule_id": rule_id if isinstance(rule_id, str) else None,
        "indicator": indicator if isinstance(indicator := card.get("indicator"), str) else None,
        "hook_instance": hook_instance,
        "patient_hash": patient_hash,
        "created_at": utc_now(),
    }


def _insert_ignoring_duplicates(engine: Engine, model: type[CardRecord]) -> Insert:
    """A card uuid recorded twice (a retried request) is not an error: the first record stands."""
    if engine.dialect.name == "postgresql":
        return postgresql_insert(model).on_conflict_do_nothing(index_elements=["card_uuid"])
    return sqlite_insert(model).on_conflict_do_nothing(index_elements=["card_uuid"])


def _suggestion_ids(suggestions: Iterable[Any]) -> list[str]:
    return [str(s["id"]).lower() for s in suggestions if isinstance(s, Mapping) and "id" in s]


_LEAP_SECOND = re.compile(r"(T\d\d:\d\d):60")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 date-time as aware UTC; a leap second (…:60) becomes …:59, Python cannot hold it."""
    if not isinstance(value, str):
        return None
    normalised = _LEAP_SECOND.sub(r"\1:59", value.strip().upper())
    try:
        parsed = datetime.fromisoformat(normalised)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
