"""The soak benchmark, shortened to 10 seconds: the documented command runs and its checks hold.

`python -m bench.soak` (see its docstring) starts the production server with JWT auth and SQLite,
sends hook calls and feedback at a steady rate, and fails on any error, lost feedback, patient data in
the server log, a dead worker or growing worker memory. The full run is 3 minutes; this one proves the
harness and the service in CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ten_second_soak_passes(tmp_path: Path) -> None:
    report_path = tmp_path / "soak.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--seconds",
            "10",
            "--warmup",
            "3",
            "--json-out",
            str(report_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["passed"] is True and report["failures"] == [] and report["errors"] == {}
    assert report["hook_calls"]["count"] >= 100
    assert report["cards_returned"] > 0
    assert report["feedback_acknowledged"] >= 20
    assert report["feedback_persisted"] == report["feedback_acknowledged"]
    assert report["card_records_persisted"] == report["cards_returned"]  # written behind, none lost
    assert len(report["rss_kib_start"]) == 2 and all(v > 0 for v in report["rss_kib_end"].values())
