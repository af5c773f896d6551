"""Slow clients against the production server: are normal calls still served, how fast, and how soon is
a slow client cut off?

    .venv/bin/python -m bench.slow_clients                 # 200 + 200 slow clients, default deadlines
    .venv/bin/python -m bench.slow_clients --json-out bench/results/slow_clients.json
    .venv/bin/python -m bench.slow_clients --clients 20 --header-timeout 2 --body-timeout 3   # smoke

It starts `bonemet-cds serve` (2 workers x 4 threads, JWT on, SQLite; deadlines from
BONEMET_HEADER_TIMEOUT_SECONDS / BONEMET_BODY_TIMEOUT_SECONDS, 10 s and 30 s unless given) and makes
patient-view calls for the typical patient (bench/patients.py, about 190 KiB) one after another:

1. while `--clients` connections trickle a request's headers, one byte every `--interval` seconds;
2. while as many send whole headers and trickle the body.

Each phase is compared with unloaded calls made just before it (the machine's speed drifts by tens of
percent within minutes, README: Performance). Under load the normal calls are measured during the first
70% of the deadline, while every slow client is still connected; then the run waits until the server has
cut every slow client off and reports when. The promise (SECURITY.md): every normal call answered, p95
within 2x of the unloaded p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.patients import hook_request, patient_resources
from bench.soak import ProductionServer
from bench.trickle import Call, NormalCalls, Tricklers, body_opening, header_opening, p95_ms

WINDOW_SHARE = 0.7  # measure normal calls while no slow client is near its deadline
PHASES = ("unloaded_before_headers", "headers", "unloaded_before_body", "body")


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    body = orjson.dumps(hook_request("patient-view", patient_resources("typical", datetime.now(UTC))))
    with ProductionServer(
        directory,
        database_url=f"sqlite:///{directory / 'slow.sqlite3'}",
        workers=args.workers,
        threads=args.threads,
        extra_env={
            "BONEMET_HEADER_TIMEOUT_SECONDS": str(args.header_timeout),
            "BONEMET_BODY_TIMEOUT_SECONDS": str(args.body_timeout),
        },
    ) as server:
        normal = NormalCalls(server.base_url, body, server.signer.authorization, timeout=30.0)
        normal.run(args.warmup, max_seconds=60)
        phases = {}
        for name, opening, deadline in (
            ("headers", header_opening(server.port), args.header_timeout),
            ("body", body_opening(server.port), args.body_timeout),
        ):
            base = _summary(normal.run(args.calls, args.unloaded_seconds))
            loaded = _phase(args, server, normal, opening, deadline)
            if base["p95_ms"] and loaded["p95_ms"]:
                loaded["p95_ratio_to_unloaded"] = round(loaded["p95_ms"] / base["p95_ms"], 2)
            phases[f"unloaded_before_{name}"], phases[name] = base, loaded
    return {
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": list(os.getloadavg()),
        "server": f"bonemet-cds serve, {args.workers} workers x {args.threads} threads, JWT on, SQLite",
        "body_kib": round(len(body) / 1024, 1),
        "slow_clients": args.clients,
        "trickle_interval_s": args.interval,
        "header_timeout_s": args.header_timeout,
        "body_timeout_s": args.body_timeout,
        **phases,
    }


def _phase(
    args: argparse.Namespace, server: ProductionServer, normal: NormalCalls, opening: bytes, deadline: float
) -> dict[str, Any]:
    give_up = deadline + 60
    slow = Tricklers(server.port, args.clients, opening, interval=args.interval, give_up_after=give_up)
    slow.start()
    try:
        open_at_start = slow.open_count()
        calls = normal.run(args.calls * 10, max_seconds=deadline * WINDOW_SHARE)
        open_at_end = slow.open_count()
        slow.wait(timeout=give_up + 5)
    finally:
        slow.stop()
    cut = slow.cut_times()
    statuses = [client.status for client in slow.clients]
    return {
        **_summary(calls),
        "slow_open_when_calls_began": open_at_start,
        "slow_open_when_calls_ended": open_at_end,
        "slow_cut_off": len(cut),
        "slow_answered_408": statuses.count(408),
        "cut_off_after_s": {
            "min": round(cut[0], 2),
            "median": round(statistics.median(cut), 2),
            "max": round(cut[-1], 2),
        }
        if cut
        else None,
    }


def _summary(calls: list[Call]) -> dict[str, Any]:
    served = [c for c in calls if c.status == 200 and c.cards > 0]
    ordered = sorted(c.seconds * 1000 for c in calls)
    return {
        "calls": len(calls),
        "served_with_cards": len(served),
        "failed": len(calls) - len(served),
        "p50_ms": round(statistics.median(ordered), 2) if ordered else None,
        "p95_ms": p95_ms(calls),
        "max_ms": round(ordered[-1], 2) if ordered else None,
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"slow clients: {report['server']}; typical patient-view body {report['body_kib']} KiB")
    print(
        f"{report['slow_clients']} slow clients per phase, one byte every {report['trickle_interval_s']} s; "
        f"deadlines: headers {report['header_timeout_s']} s, body {report['body_timeout_s']} s"
    )
    print(
        f"{'phase':<24}{'calls':>7}{'served':>8}{'p50 ms':>9}{'p95 ms':>9}{'x unl.':>8}  slow cut off after s"
    )
    for name in PHASES:
        row = report[name]
        ratio = row.get("p95_ratio_to_unloaded")
        cut = row.get("cut_off_after_s")
        cut_text = f"{cut['min']} / {cut['median']} / {cut['max']} (min/median/max)" if cut else ""
        if "slow_cut_off" in row:
            cut_text += f"; {row['slow_cut_off']} cut off, {row['slow_answered_408']} with 408"
        print(
            f"{name.replace('_before_', ' before '):<24}{row['calls']:>7}{row['served_with_cards']:>8}"
            f"{row['p50_ms'] or '-':>9}{row['p95_ms'] or '-':>9}{ratio or '-':>8}  {cut_text}"
        )


def failures(report: dict[str, Any]) -> list[str]:
    found = []
    for name in PHASES:
        row = report[name]
        loaded = not name.startswith("unloaded")
        if row["failed"] or not row["calls"]:
            found.append(f"{name}: {row['failed']} of {row['calls']} normal calls failed")
        if loaded and row["slow_cut_off"] != report["slow_clients"]:
            found.append(f"{name}: only {row['slow_cut_off']} slow clients were cut off")
        if loaded and row["slow_open_when_calls_ended"] != report["slow_clients"]:
            found.append(f"{name}: slow clients were cut off while the normal calls were measured")
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.slow_clients", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--clients", type=int, default=200, help="slow clients per phase (default 200)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a slow client's bytes")
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--body-timeout", type=float, default=30.0)
    parser.add_argument("--calls", type=int, default=300, help="unloaded calls per phase (default 300)")
    parser.add_argument("--unloaded-seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json-out", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bonemet-slow-") as directory:
        report = run(args, Path(directory))
    report["failures"] = failures(report)
    print_report(report)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        "slow clients " + ("PASSED" if not report["failures"] else "FAILED: " + "; ".join(report["failures"]))
    )
    return 0 if not report["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
