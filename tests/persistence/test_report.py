"""The per-rule feedback report (`bonemet-cds report`) on real stored cards and feedback.

Run on SQLite here and on PostgreSQL by tests/postgres/test_store_on_postgres.py (same `database_url`).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from cds_service.cli import main
from cds_service.persistence import Store
from cds_service.persistence.models import CardRecord, Feedback
from cds_service.persistence.report import NO_REASON, ReportFilter, rule_report
from tests.persistence.factories import accepted, card, overridden, unique

SERVICE = "bonemet-order-sign"
PATIENT = "report-patient"


def issue(store: Store, rule: str, n: int, service: str = SERVICE) -> list[dict]:
    cards = [card(rule) for _ in range(n)]
    store.record_cards(service, str(uuid.uuid4()), PATIENT, cards)
    return cards


def rows_for(store: Store, *rules: str, where: ReportFilter = ReportFilter()):
    return {r.rule_id: r for r in rule_report(store.engine, where) if r.rule_id in rules}


def test_each_rule_gets_cards_outcomes_rate_and_top_reasons(store: Store) -> None:
    renal, silent = unique("ZA-RENAL-DOSING"), unique("BASELINE-BONE-SCAN")
    renal_cards = issue(store, renal, 4)
    issue(store, silent, 2)
    store.record_feedback(
        SERVICE,
        [
            overridden(renal_cards[0]["uuid"], "renal-team-dosed"),
            overridden(renal_cards[1]["uuid"], "renal-team-dosed"),
            overridden(renal_cards[2]["uuid"]),
            accepted(renal_cards[3]["uuid"]),
        ],
    )
    rows = rows_for(store, renal, silent)
    got = rows[renal]
    assert (got.cards_issued, got.accepted, got.overridden) == (4, 1, 3)
    assert got.override_rate == 0.75
    assert [(r.reason, r.count) for r in got.top_reasons] == [("renal team dosed", 2), (NO_REASON, 1)]
    quiet = rows[silent]
    assert (quiet.cards_issued, quiet.accepted, quiet.overridden, quiet.override_rate) == (2, 0, 0, None)


def test_a_date_range_and_a_service_narrow_cards_and_feedback_alike(store: Store) -> None:
    rule = unique("MDT-REFERRAL")
    old, new = issue(store, rule, 1), issue(store, rule, 1)
    issue(store, rule, 1, service="bonemet-patient-view")
    store.record_feedback(SERVICE, [overridden(old[0]["uuid"], "x"), overridden(new[0]["uuid"], "y")])
    long_ago = datetime(2024, 1, 10, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(
            update(CardRecord).where(CardRecord.card_uuid == old[0]["uuid"]).values(created_at=long_ago)
        )
        connection.execute(
            update(Feedback).where(Feedback.card_uuid == old[0]["uuid"]).values(received_at=long_ago)
        )
    since_2025 = ReportFilter(since=datetime(2025, 1, 1, tzinfo=UTC))
    row = rows_for(store, rule, where=since_2025)[rule]
    assert (row.cards_issued, row.overridden) == (2, 1)  # the old card and its feedback are out
    assert [r.reason for r in row.top_reasons] == ["y"]
    only_sign = rows_for(store, rule, where=ReportFilter(service_id=SERVICE, since=since_2025.since))[rule]
    assert only_sign.cards_issued == 1


def test_the_command_prints_csv_json_and_a_table(store: Store, database_url: str, capsys) -> None:
    rule = unique("ORAL-EXAM")
    cards = issue(store, rule, 2)
    store.record_feedback(SERVICE, [overridden(cards[0]["uuid"], "patient-declined")])
    store.flush_cards()

    assert main(["report", "--database-url", database_url, "--csv"]) == 0
    parsed = {r["rule"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert parsed[rule]["cards_issued"] == "2" and parsed[rule]["override_rate"] == "100%"
    assert parsed[rule]["top_override_reasons"] == "patient declined (1)"

    assert main(["report", "--database-url", database_url, "--json", "--service", SERVICE]) == 0
    document = json.loads(capsys.readouterr().out)
    (entry,) = [r for r in document["rules"] if r["rule_id"] == rule]
    assert (entry["overridden"], entry["override_rate"], document["filter"]["service"]) == (1, 1.0, SERVICE)

    assert main(["report", "--database-url", database_url, "--until", "2020-01-01"]) == 0
    assert rule not in capsys.readouterr().out  # nothing was issued before 2020

    assert main(["report", "--database-url", database_url]) == 0
    table = capsys.readouterr().out
    assert rule in table and "override rate" in table


def test_an_override_sent_without_display_gets_the_display_the_card_offered(database_url: str) -> None:
    system = "https://bonemet-cds.org/fhir/CodeSystem/override-reason"
    offered = {(system, "already-addressed"): "Already addressed"}
    store = Store(database_url, hash_key="test-key", reason_displays=offered)
    try:
        rule = unique("CALCIUM-VITAMIN-D")
        (shown,) = issue(store, rule, 1)
        item = overridden(shown["uuid"])
        item["overrideReason"] = {"reason": {"system": system, "code": "already-addressed"}}
        unknown = overridden(issue(store, rule, 1)[0]["uuid"])
        unknown["overrideReason"] = {"reason": {"system": system, "code": "site-local-code"}}
        store.record_feedback(SERVICE, [item, unknown])
        row = rows_for(store, rule)[rule]
        assert sorted(r.reason for r in row.top_reasons) == ["Already addressed", "site-local-code"]
    finally:
        store.close()
