"""Load over HTTP on loopback with wrk (a separate process, so the load generator takes little CPU).

wrk POSTs one fixed body per run (a Lua script reads it from the file named by BENCH_BODY) and, when done,
prints one JSON line with the request count, errors and latency percentiles; `--latency` is passed too so
wrk's own table is in the log. wrk is closed-loop: latency under load includes queueing, and it does not
correct for coordinated omission, so the p99 at 32 connections is a throughput-bound figure, not a promise.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = file:read("*a")
file:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (Debian package 'wrk': apt-get install wrk)")
    return found


def write_script(directory: Path) -> Path:
    path = directory / "post_body.lua"
    path.write_text(LUA)
    return path


def check_once(url: str, body: bytes) -> dict[str, Any]:
    """One request before the load: a benchmark of error responses would be worthless."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def run_wrk(url: str, body_path: Path, script: Path, connections: int, seconds: float) -> dict[str, Any]:
    threads = max(1, min(2, connections))
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    env = {**os.environ, "BENCH_BODY": str(body_path)}
    completed = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=seconds + 60, check=True
    )
    line = next(ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(
        raw[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return {
        "connections": connections,
        "requests": raw["requests"],
        "errors": errors,
        "req_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
    }


def median_run(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs at the same level: the median of each figure, the sum of requests
    and errors, and each round's p50 and req/s kept beside it (the spread is part of the result)."""
    merged: dict[str, Any] = {"connections": rounds[0]["connections"], "rounds": len(rounds)}
    for key in ("req_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms"):
        merged[key] = statistics.median(r[key] for r in rounds)
    merged["requests"] = sum(r["requests"] for r in rounds)
    merged["errors"] = sum(r["errors"] for r in rounds)
    merged["each_round"] = [{"p50_ms": r["p50_ms"], "req_per_s": r["req_per_s"]} for r in rounds]
    return merged
