"""Cards and feedback: recorded, joined by card uuid, summarised, and free of patient identifiers."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cds_service.persistence import CardRecord, Feedback, Store
from tests.persistence.factories import accepted, card, overridden, unique

SERVICE = "bonemet-order-sign"
PATIENT = "lung-42"


def feedback_rows(store: Store, *card_uuids: str) -> list[Feedback]:
    with Session(store.engine) as session:
        query = select(Feedback).where(Feedback.card_uuid.in_(card_uuids)).order_by(Feedback.id)
        return list(session.scalars(query))


def test_feedback_is_joined_to_the_recorded_card_by_uuid(store: Store) -> None:
    rule = unique("ZA-RENAL-DOSING")
    shown = card(rule)
    assert store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [shown]) == 1
    stranger = str(uuid.uuid4())
    # The client may echo the uuid in upper case; it is the same card.
    recorded = store.record_feedback(
        SERVICE, [overridden(shown["uuid"].upper(), "renal-team-dosed"), accepted(stranger)]
    )
    assert recorded == 2
    known, unknown = feedback_rows(store, shown["uuid"], stranger)
    assert (known.rule_id, known.card_known, known.override_reason_code) == (rule, True, "renal-team-dosed")
    assert (unknown.rule_id, unknown.card_known) == (None, False)


def test_a_card_of_another_service_is_not_taken_as_known(store: Store) -> None:
    shown = card(unique("BMA-INITIATION"))
    store.record_cards("bonemet-patient-view", str(uuid.uuid4()), PATIENT, [shown])
    store.record_feedback(SERVICE, [overridden(shown["uuid"])])
    (row,) = feedback_rows(store, shown["uuid"])
    assert (row.card_known, row.rule_id) == (False, None)


def test_feedback_fields_are_stored_as_sent(store: Store) -> None:
    shown = card(unique("DENTAL-REVIEW"))
    store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [shown])
    suggestion = str(uuid.uuid4())
    store.record_feedback(SERVICE, [accepted(shown["uuid"], suggestion)])
    (row,) = feedback_rows(store, shown["uuid"])
    assert row.outcome == "accepted"
    assert row.accepted_suggestion_ids == [suggestion]
    assert row.outcome_timestamp == datetime(2026, 3, 1, 0, 31, 0, 250000, tzinfo=UTC)
    assert row.received_at.tzinfo is not None


def test_a_leap_second_timestamp_is_kept_not_refused(store: Store) -> None:
    item = overridden(str(uuid.uuid4()))
    item["outcomeTimestamp"] = "2016-12-31T23:59:60Z"
    store.record_feedback(SERVICE, [item])
    (row,) = feedback_rows(store, item["card"])
    assert row.outcome_timestamp == datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_cards_without_uuid_are_skipped_and_a_repeated_uuid_is_not_an_error(store: Store) -> None:
    shown = card(unique("CALCIUM-VITD"))
    no_uuid = {k: v for k, v in card("X").items() if k != "uuid"}
    assert store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [shown, no_uuid]) == 1
    store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [shown])  # a retried request
    with store.engine.connect() as connection:
        count = len(
            list(connection.execute(select(CardRecord.id).where(CardRecord.card_uuid == shown["uuid"])))
        )
    assert count == 1
    assert store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, []) == 0
    assert store.record_feedback(SERVICE, []) == 0


def test_override_summary_counts_outcomes_and_reasons_per_rule_in_one_query(store: Store) -> None:
    renal, dental = unique("ZA-RENAL-DOSING"), unique("DENTAL-REVIEW")
    renal_cards = [card(renal) for _ in range(3)]
    dental_cards = [card(dental, "info") for _ in range(2)]
    store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, renal_cards + dental_cards)
    store.record_feedback(
        SERVICE,
        [
            overridden(renal_cards[0]["uuid"], "renal-team-dosed"),
            overridden(renal_cards[1]["uuid"], "renal-team-dosed"),
            overridden(renal_cards[2]["uuid"], "crcl-outdated"),
            accepted(renal_cards[2]["uuid"]),
            overridden(dental_cards[0]["uuid"]),
        ],
    )
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    summary = [row for row in store.override_summary() if row.rule_id in (renal, dental)]
    assert len(statements) == 1
    as_tuples = [(r.rule_id, r.outcome, r.reason_code, r.feedback_count, r.cards_issued) for r in summary]
    assert sorted(as_tuples, key=str) == sorted(
        [
            (renal, "overridden", "renal-team-dosed", 2, 3),
            (renal, "overridden", "crcl-outdated", 1, 3),
            (renal, "accepted", None, 1, 3),
            (dental, "overridden", None, 1, 2),
        ],
        key=str,
    )
    displays = {r.reason_code: r.reason_display for r in summary}
    assert displays["renal-team-dosed"] == "renal team dosed"


def test_override_summary_can_be_limited_to_one_service(store: Store) -> None:
    rule = unique("MDT-REFERRAL")
    here, there = card(rule), card(rule)
    store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [here])
    store.record_cards("bonemet-patient-view", str(uuid.uuid4()), PATIENT, [there])
    store.record_feedback(SERVICE, [overridden(here["uuid"], "not-a-candidate")])
    store.record_feedback("bonemet-patient-view", [overridden(there["uuid"], "not-a-candidate")])
    (row,) = [r for r in store.override_summary(SERVICE) if r.rule_id == rule]
    assert (row.feedback_count, row.cards_issued) == (1, 1)


def test_comments_are_not_stored_by_default(database_url: str) -> None:
    default, keeping = Store(database_url), Store(database_url, store_comments=True)
    dropped, kept = str(uuid.uuid4()), str(uuid.uuid4())
    default.record_feedback(SERVICE, [overridden(dropped, "other", comment="Mr Zhang prefers oral therapy")])
    keeping.record_feedback(SERVICE, [overridden(kept, "other", comment="Mr Zhang prefers oral therapy")])
    (row,) = feedback_rows(default, dropped)
    assert row.user_comment is None and row.override_reason_code == "other"
    (row,) = feedback_rows(keeping, kept)
    assert row.user_comment == "Mr Zhang prefers oral therapy"


def test_patient_hash_is_keyed_stable_and_not_the_id(database_url: str) -> None:
    first, again = Store(database_url, hash_key="key-one"), Store(database_url, hash_key="key-one")
    other = Store(database_url, hash_key="key-two")
    digest = first.patient_hash(PATIENT)
    assert digest == again.patient_hash(PATIENT)
    assert digest != other.patient_hash(PATIENT)
    assert digest != first.patient_hash("lung-43")
    assert PATIENT not in digest and len(digest) == 64


def test_a_generated_hash_key_is_shared_by_every_store_on_the_database(database_url: str) -> None:
    first, second = Store(database_url), Store(database_url)
    assert first.patient_hash(PATIENT) == second.patient_hash(PATIENT)
    assert first.patient_hash(PATIENT) != Store(database_url, hash_key="configured").patient_hash(PATIENT)


def test_card_records_hold_the_hash_never_the_patient_id(store: Store) -> None:
    shown = card(unique("BONE-PAIN-WORKUP"))
    store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [shown])
    with store.engine.connect() as connection:
        row = connection.execute(select(CardRecord).where(CardRecord.card_uuid == shown["uuid"])).one()
    assert row.patient_hash == store.patient_hash(PATIENT)
    assert PATIENT not in [str(value) for value in row]


def test_nothing_logged_carries_the_patient_id_or_the_comment(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = Store(database_url, store_comments=True)
    shown = card(unique("HYPOCALCAEMIA"))
    store.record_cards(SERVICE, str(uuid.uuid4()), PATIENT, [shown])
    store.record_feedback(SERVICE, [overridden(shown["uuid"], "other", comment="Zhang Wei declined")])
    store.override_summary()
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert PATIENT not in logged and "Zhang" not in logged and store.patient_hash(PATIENT) not in logged


def test_stores_built_at_the_same_moment_on_a_new_database_both_start(database_url: str) -> None:
    """Two gunicorn workers starting together both run create_all and the key generation."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: Store(database_url), range(4)))
    assert len({s.patient_hash(PATIENT) for s in stores}) == 1
    assert all(s.ping() for s in stores)
