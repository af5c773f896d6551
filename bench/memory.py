"""Worker start-up time and resident memory per worker after 1,000 and 10,000 calls."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.http_load import run_wrk
from bench.processes import Started, child_pids, rss_mib


def measure(
    server: Started, url: str, body_path: Path, script: Path, checkpoints: list[int]
) -> dict[str, Any]:
    """Load in short wrk runs until each checkpoint's call count is passed; then read each worker's RSS."""
    workers = _workers(server.process.pid, expected=2)
    result: dict[str, Any] = {
        "server_ready_s": round(server.ready_seconds, 3),
        "workers": len(workers),
        "rss_mib_at_start": [round(rss_mib(pid), 1) for pid in workers],
        "checkpoints": [],
    }
    done = 0
    for target in checkpoints:
        while done < target:
            seconds = 1 if target - done < 2000 else 3
            done += run_wrk(url, body_path, script, connections=8, seconds=seconds)["requests"]
        alive = child_pids(server.process.pid)
        result["checkpoints"].append(
            {
                "calls": done,
                "rss_mib": [round(rss_mib(pid), 1) for pid in alive],
                "same_workers": alive == workers,
            }
        )
    first, last = result["checkpoints"][0], result["checkpoints"][-1]
    result["rss_growth_mib"] = round(
        max(b - a for a, b in zip(first["rss_mib"], last["rss_mib"], strict=False)), 1
    )
    return result


def _workers(master: int, expected: int, timeout: float = 15) -> list[int]:
    """The master answers as soon as its first worker is up: wait until every worker is."""
    deadline = time.monotonic() + timeout
    found = child_pids(master)
    while len(found) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        found = child_pids(master)
    return found
