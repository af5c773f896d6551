"""The performance benchmark of bonemet-cds: `make bench` (= `.venv/bin/python -m bench.run`).

    .venv/bin/python -m bench.run            # full run, several minutes; writes bench/results/latest.json
    .venv/bin/python -m bench.run --quick    # tiny counts, a smoke run of every section

Sections, for three synthetic patients (bench/patients.py: small, typical, heavy):
1. in process, parsed request to cards, p50/p95/p99 per patient and service, with the garbage-collector
   settings of a server worker (cds_service/gc_policy.py);
2. over HTTP on loopback, the production server (gunicorn via cds_service.server, 2 workers), loaded
   by wrk at 1, 8 and 32 connections: p50/p95/p99 and req/s, each the median of 3 rounds of 3 s that
   interleave the floor with the services;
3. the floor: an endpoint on the same stack that only parses the body (bench/floor.py); every HTTP
   result is also given as a ratio to it;
4. FHIR-server mode: no prefetch, a loopback FHIR server answering each query after 100 ms;
5. start-up time and resident memory per worker after 1,000 and 10,000 calls;
6. the population run (bench/population.py): 1,000 and 10,000 synthetic patients through
   `bonemet-cds population`, per engine (local; Spark when pyspark and Java are installed).
The CPU load average is recorded beside the numbers: on a shared machine they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import fhir_mode, http_load, in_process, memory, population
from bench.floor import FLOOR_PATH, bench_app
from bench.patients import HOOKS, SERVICES, SIZES, hook_request, patient_resources
from bench.processes import REPO, start_module
from bench.report import print_report, targets
from bench.serve import bench_settings
from cds_service import gc_policy
from cds_service.runtime import Runtime, build_runtime

RESULTS = REPO / "bench" / "results"


@dataclass(frozen=True)
class Plan:
    mode: str
    in_process_calls: int
    warmup: int
    http_sizes: tuple[str, ...]
    connections: tuple[int, ...]
    http_seconds: float
    http_rounds: int
    fhir_sizes: tuple[str, ...]
    fhir_calls: int
    memory_checkpoints: tuple[int, ...]
    population_sizes: tuple[int, ...]
    population_engines: tuple[str, ...]


FULL = Plan(
    "full",
    1000,
    50,
    tuple(SIZES),
    (1, 8, 32),
    3,
    3,
    tuple(SIZES),
    30,
    (1000, 10000),
    (1000, 10000),
    ("local", "spark"),
)
QUICK = Plan("quick", 10, 2, ("small",), (1,), 1, 1, ("small",), 2, (50, 100), (20, 40), ("local",))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that every section runs")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="bonemet-bench-") as tmp:
        results = run(plan, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_report(results)
    population.print_table(results["population"])
    print(f"\nwritten: {args.out}")
    return 0


def run(plan: Plan, work: Path) -> dict[str, Any]:
    anchor = datetime.now(UTC)
    prefetches = {size: patient_resources(size, anchor) for size in SIZES}
    database = f"sqlite:///{work / 'bench.sqlite3'}"
    results: dict[str, Any] = {"meta": _meta(plan, "before")}
    started = time.perf_counter()
    app = bench_app(bench_settings(database))
    results["startup"] = {"create_app_s": round(time.perf_counter() - started, 3)}
    runtime: Runtime = app.extensions["bonemet"]
    results["patients"] = {size: _chart_summary(prefetch) for size, prefetch in prefetches.items()}
    # This process now runs the app as a worker would: start-up objects frozen, the worker's GC thresholds.
    gc_policy.freeze_before_fork()
    gc_policy.apply_worker_policy()
    results["in_process"] = in_process.measure(runtime, prefetches, plan.in_process_calls, plan.warmup)
    results["fhir_mode"] = fhir_mode.measure(
        lambda origin: build_runtime(bench_settings(database, origin)),
        list(plan.fhir_sizes),
        0.1,
        plan.fhir_calls,
        work,
    )
    bodies = _write_bodies(prefetches, work)
    script = http_load.write_script(work)
    results["http"] = _http(plan, bodies, script, database, work)
    results["memory"] = _memory(plan, bodies, script, database, work)
    results["startup"]["server_ready_s"] = results["memory"]["server_ready_s"]
    results["population"] = population.measure(plan.population_sizes, plan.population_engines)
    results["meta"]["load_average_after"] = list(os.getloadavg())
    results["targets"] = targets(results)
    return results


def _http(
    plan: Plan, bodies: dict[tuple[str, str], Path], script: Path, database: str, work: Path
) -> dict[str, Any]:
    """Each result is the median of `http_rounds` runs, and the rounds interleave the floor with the
    services (floor, patient-view, order-select, order-sign, floor, ...): on a shared machine the speed
    drifts by tens of percent within minutes, and a floor measured minutes apart from the service it is
    compared with would carry that drift into the ratio."""
    server = _server(database, work / "http-server.log")
    found: dict[str, Any] = {}
    try:
        for size in plan.http_sizes:
            endpoints = {"floor": (server.base_url + FLOOR_PATH, bodies[(size, "patient-view")])}
            for hook in HOOKS:
                endpoints[hook] = (f"{server.base_url}/cds-services/{SERVICES[hook]}", bodies[(size, hook)])
            for url, body in endpoints.values():
                http_load.check_once(url, body.read_bytes())
            runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
            for _round in range(plan.http_rounds):
                for connections in plan.connections:
                    for name, (url, body) in endpoints.items():
                        run = http_load.run_wrk(url, body, script, connections, plan.http_seconds)
                        runs.setdefault((name, connections), []).append(run)
            found[size] = {
                name: [http_load.median_run(runs[(name, c)]) for c in plan.connections] for name in endpoints
            }
            _add_ratios(found[size])
    finally:
        server.stop()
    return found


def _add_ratios(endpoints: dict[str, list[dict[str, Any]]]) -> None:
    for name, measured_runs in endpoints.items():
        if name == "floor":
            continue
        for measured, floor in zip(measured_runs, endpoints["floor"], strict=True):
            measured["p50_ratio_to_floor"] = round(measured["p50_ms"] / floor["p50_ms"], 2)
            measured["req_per_s_ratio_to_floor"] = round(measured["req_per_s"] / floor["req_per_s"], 3)


def _memory(
    plan: Plan, bodies: dict[tuple[str, str], Path], script: Path, database: str, work: Path
) -> dict[str, Any]:
    server = _server(database, work / "memory-server.log")
    try:
        url = f"{server.base_url}/cds-services/{SERVICES['patient-view']}"
        return memory.measure(
            server, url, bodies[("typical", "patient-view")], script, list(plan.memory_checkpoints)
        )
    finally:
        server.stop()


def _server(database: str, log: Path) -> Any:
    return start_module("bench.serve", ["--workers", "2", "--database-url", database], "/healthz", log)


def _write_bodies(prefetches: dict[str, dict[str, Any]], work: Path) -> dict[tuple[str, str], Path]:
    paths = {}
    for size, prefetch in prefetches.items():
        for hook in HOOKS:
            path = work / f"{size}-{hook}.json"
            path.write_bytes(orjson.dumps(hook_request(hook, prefetch)))
            paths[(size, hook)] = path
    return paths


def _chart_summary(prefetch: dict[str, Any]) -> dict[str, Any]:
    counts = {key: len(v["entry"]) for key, v in prefetch.items() if v.get("resourceType") == "Bundle"}
    return {
        "resources": counts,
        "body_kib": round(len(orjson.dumps(hook_request("patient-view", prefetch))) / 1024, 1),
    }


def _meta(plan: Plan, when: str) -> dict[str, Any]:
    return {
        "mode": plan.mode,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        f"load_average_{when}": list(os.getloadavg()),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "server": "gunicorn via cds_service.server, 2 workers x 4 threads (buffering gthread), preload, "
        "auth off, SQLite",
    }


if __name__ == "__main__":
    raise SystemExit(main())
