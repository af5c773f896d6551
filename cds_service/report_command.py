"""`bonemet-cds report`: the per-rule feedback report as a table, CSV or JSON.

It reads the database the service writes (`BONEMET_DATABASE_URL`, or `--database-url`), never a live
service, so it can run on a copy of the database or from a cron job. Dates are whole UTC days: `--since`
is inclusive, `--until` inclusive too (the report covers the whole last day).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

from tabulate import tabulate

from cds_service.persistence.engine import build_engine
from cds_service.persistence.models import Base
from cds_service.persistence.report import ReportFilter, RuleReport, rule_report
from cds_service.settings import Settings

COLUMNS = ("rule", "cards issued", "accepted", "overridden", "override rate", "top override reasons")


def add_report_command(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="per rule: cards issued, accepted, overridden, and why")
    report.add_argument("--database-url", help="default: BONEMET_DATABASE_URL, as the service uses")
    report.add_argument("--since", type=date.fromisoformat, help="first day (YYYY-MM-DD, UTC)")
    report.add_argument("--until", type=date.fromisoformat, help="last day (YYYY-MM-DD, UTC), included")
    report.add_argument("--service", help="one service id, e.g. bonemet-order-sign")
    report.add_argument("--top", type=int, default=3, help="override reasons shown per rule (default 3)")
    shape = report.add_mutually_exclusive_group()
    shape.add_argument("--csv", action="store_true", help="CSV on stdout")
    shape.add_argument("--json", action="store_true", help="JSON on stdout")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    engine = build_engine(args.database_url or Settings.from_env().database_url)
    Base.metadata.create_all(engine)  # a database the service never wrote to is an empty report
    where = ReportFilter(
        service_id=args.service,
        since=_day_start(args.since),
        until=_day_start(args.until + timedelta(days=1)) if args.until else None,
    )
    rows = rule_report(engine, where, top=args.top)
    if args.json:
        print(json.dumps({"filter": _filter_json(args), "rules": [r.as_dict() for r in rows]}, indent=2))
    elif args.csv:
        print(as_csv(rows), end="")
    else:
        print(as_table(rows) if rows else "no cards and no feedback in this range")
    return 0


def as_table(rows: list[RuleReport]) -> str:
    return tabulate([_cells(r, "; ") for r in rows], headers=COLUMNS, tablefmt="simple")


def as_csv(rows: list[RuleReport]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.replace(" ", "_") for c in COLUMNS])
    writer.writerows(_cells(r, " | ") for r in rows)
    return out.getvalue()


def _cells(row: RuleReport, joiner: str) -> list[object]:
    rate = row.override_rate
    reasons = joiner.join(f"{r.reason} ({r.count})" for r in row.top_reasons)
    shown_rate = "" if rate is None else f"{rate:.0%}"
    return [row.rule_id, row.cards_issued, row.accepted, row.overridden, shown_rate, reasons]


def _day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def _filter_json(args: argparse.Namespace) -> dict[str, str | None]:
    return {
        "service": args.service,
        "since": args.since.isoformat() if args.since else None,
        "until": args.until.isoformat() if args.until else None,
    }
