"""The benchmark's printed tables (Markdown, ready for the README) and its targets (issue 6)."""

from __future__ import annotations

from typing import Any

from bench.patients import SERVICES

HEAVY_P95_MS = 10.0
FLOOR_RATIO = 2.0
TYPICAL_REQ_PER_S = 500.0
FHIR_DELAY_RATIO = 1.5
RSS_GROWTH_MIB = 5.0


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it was met; None when the run did not measure it."""
    found = []
    heavy = results["in_process"].get("heavy", {})
    found.append(
        _target(
            "heavy patient in process p95 < 10 ms (worst service)",
            _max(heavy, "p95_ms"),
            HEAVY_P95_MS,
            below=True,
        )
    )
    typical = results["http"].get("typical")
    ratio = (
        max(
            (runs[0]["p50_ratio_to_floor"] for hook, runs in typical.items() if hook != "floor"), default=None
        )
        if typical
        else None
    )
    found.append(
        _target(
            "typical over HTTP p50 within 2x of the floor (1 connection, worst service)",
            ratio,
            FLOOR_RATIO,
            below=True,
        )
    )
    rate = (
        min(
            (max(r["req_per_s"] for r in runs) for hook, runs in typical.items() if hook != "floor"),
            default=None,
        )
        if typical
        else None
    )
    found.append(
        _target(
            "typical >= 500 req/s with 2 workers (best level, worst service)",
            rate,
            TYPICAL_REQ_PER_S,
            below=False,
        )
    )
    fhir = results["fhir_mode"]["patients"].get("typical")
    found.append(
        _target(
            "FHIR mode p50 within 1.5x of one delay (typical)",
            fhir and fhir["ratio_to_one_delay"],
            FHIR_DELAY_RATIO,
            below=True,
        )
    )
    found.append(
        _target(
            "RSS per worker flat (growth from first to last checkpoint, MiB)",
            results["memory"]["rss_growth_mib"],
            RSS_GROWTH_MIB,
            below=True,
        )
    )
    return found


def _max(by_hook: dict[str, Any], key: str) -> float | None:
    """Worst of the three services (the first-sight row is reported beside them, not in the target)."""
    return max((entry[key] for name, entry in by_hook.items() if name in SERVICES), default=None)


def _target(name: str, value: float | None, limit: float, *, below: bool) -> dict[str, Any]:
    """`value_over_limit` says how far from the target: above 1 is a miss by that factor either way."""
    met = None if value is None else (value < limit if below else value >= limit)
    distance = None if not value else round(value / limit if below else limit / value, 2)
    return {"target": name, "value": value, "limit": limit, "met": met, "miss_factor": distance}


def print_report(results: dict[str, Any]) -> None:
    meta = results["meta"]
    print(
        f"bonemet-cds benchmark ({meta['mode']}), {meta['started_utc']}, "
        f"{meta['cpus']} CPUs, Python {meta['python']}"
    )
    print(
        f"load average before {_load(meta['load_average_before'])}, after {_load(meta['load_average_after'])}"
    )
    print(f"server: {meta['server']}\n")
    _table(
        "Patients",
        ["patient", "resources", "body KiB"],
        [
            [s, ", ".join(f"{k} {n}" for k, n in p["resources"].items() if n), p["body_kib"]]
            for s, p in results["patients"].items()
        ],
    )
    rows = [
        [size, hook, e["calls"], e["p50_ms"], e["p95_ms"], e["p99_ms"], e["cards"]]
        for size, hooks in results["in_process"].items()
        for hook, e in hooks.items()
    ]
    _table(
        "In process: parsed request to cards (ms)",
        ["patient", "service", "calls", "p50", "p95", "p99", "cards"],
        rows,
    )
    rows = []
    for size, endpoints in results["http"].items():
        for name, runs in endpoints.items():
            for r in runs:
                ratio_p50 = r.get("p50_ratio_to_floor", 1.0)
                ratio_rps = r.get("req_per_s_ratio_to_floor", 1.0)
                rows.append(
                    [
                        size,
                        name,
                        r["connections"],
                        r["p50_ms"],
                        r["p95_ms"],
                        r["p99_ms"],
                        r["req_per_s"],
                        ratio_p50,
                        ratio_rps,
                        r["errors"],
                    ]
                )
    _table(
        "HTTP on loopback, wrk (ms; ratios to the floor)",
        [
            "patient",
            "endpoint",
            "conns",
            "p50",
            "p95",
            "p99",
            "req/s",
            "p50 x floor",
            "req/s x floor",
            "errors",
        ],
        rows,
    )
    fhir = results["fhir_mode"]
    rows = [
        [s, e["calls"], e["p50_ms"], e["p95_ms"], e["p99_ms"], e["ratio_to_one_delay"]]
        for s, e in fhir["patients"].items()
    ]
    _table(
        f"FHIR-server mode, patient-view, {fhir['queries_per_call']} queries "
        f"of {fhir['delay_ms']:.0f} ms each (ms)",
        ["patient", "calls", "p50", "p95", "p99", "p50 x one delay"],
        rows,
    )
    mem = results["memory"]
    rows = [["start", "", ", ".join(str(v) for v in mem["rss_mib_at_start"])]]
    rows += [
        [c["calls"], c["same_workers"], ", ".join(str(v) for v in c["rss_mib"])] for c in mem["checkpoints"]
    ]
    start = results["startup"]
    print(
        f"Start-up: create_app {start['create_app_s']} s; "
        f"server ready (master + {mem['workers']} workers) {start['server_ready_s']} s\n"
    )
    _table(
        "RSS per worker (MiB), typical patient-view", ["after calls", "same workers", "RSS per worker"], rows
    )
    _table(
        "Targets",
        ["target", "value", "limit", "met", "x of the target (above 1: missed by that factor)"],
        [
            [
                t["target"],
                t["value"],
                t["limit"],
                {True: "yes", False: "NO", None: "not measured"}[t["met"]],
                t["miss_factor"],
            ]
            for t in results["targets"]
        ],
    )


def _load(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    print(f"{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(_cell(v) for v in row) + " |")
    print()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
