"""`python -m bench.slow_clients`, shrunk (20 slow clients, 2 s / 3 s deadlines): the documented command
runs, passes its own checks and writes the JSON the README figures come from. No timing thresholds: the
speed depends on the machine; the full run's figures are in the README."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PHASES = ("unloaded_before_headers", "headers", "unloaded_before_body", "body")


def test_the_slow_client_benchmark_runs_and_reports_every_phase(tmp_path: Path) -> None:
    out = tmp_path / "slow.json"
    command = [sys.executable, "-m", "bench.slow_clients", "--clients", "20", "--header-timeout", "2"]
    command += ["--body-timeout", "3", "--calls", "20", "--unloaded-seconds", "3", "--warmup", "3"]
    done = subprocess.run(
        [*command, "--json-out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "slow clients PASSED" in done.stdout
    report = json.loads(out.read_text())
    assert report["failures"] == []
    for name in PHASES:
        assert report[name]["calls"] > 0 and report[name]["failed"] == 0
        assert 0 < report[name]["p50_ms"] <= report[name]["p95_ms"]
    for name in ("headers", "body"):
        assert report[name]["slow_cut_off"] == 20
        assert report[name]["slow_open_when_calls_ended"] == 20
        assert report[name]["p95_ratio_to_unloaded"] > 0
