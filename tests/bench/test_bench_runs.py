"""`python -m bench.run --quick` runs every section and writes the JSON the README table comes from.

No timing thresholds here: the numbers depend on the machine; only the shape and sanity are checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECTIONS = {
    "meta",
    "startup",
    "patients",
    "in_process",
    "http",
    "fhir_mode",
    "memory",
    "targets",
    "population",
}


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (Debian package 'wrk'; scripts/ensure-system-packages.sh)")
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    assert "| patient | service |" in completed.stdout
    return json.loads(out.read_text())


def test_every_section_is_there(quick_results: dict) -> None:
    assert SECTIONS <= set(quick_results)


def test_in_process_covers_every_patient_and_service(quick_results: dict) -> None:
    for size in ("small", "typical", "heavy"):
        for hook in ("patient-view", "order-select", "order-sign"):
            entry = quick_results["in_process"][size][hook]
            assert entry["calls"] > 0
            assert 0 < entry["p50_ms"] <= entry["p95_ms"] <= entry["p99_ms"]
            assert entry["cards"] > 0  # the synthetic patient has lung cancer and bone metastases


def test_http_has_floor_and_services_without_errors(quick_results: dict) -> None:
    for endpoints in quick_results["http"].values():
        assert {"floor", "patient-view", "order-select", "order-sign"} <= set(endpoints)
        for name, runs in endpoints.items():
            for run in runs:
                assert run["requests"] > 0 and run["errors"] == 0, (name, run)
                if name != "floor":
                    assert run["p50_ratio_to_floor"] > 0


def test_fhir_mode_reads_in_parallel_within_reason(quick_results: dict) -> None:
    fhir = quick_results["fhir_mode"]
    assert fhir["queries_per_call"] >= 2
    for entry in fhir["patients"].values():
        # Not a timing threshold: queries run in turn would take queries_per_call delays at least.
        assert entry["p50_ms"] >= fhir["delay_ms"]
        assert entry["cards"] > 0


def test_memory_has_two_checkpoints_for_each_worker(quick_results: dict) -> None:
    memory = quick_results["memory"]
    assert memory["workers"] == 2
    assert len(memory["checkpoints"]) == 2
    for checkpoint in memory["checkpoints"]:
        assert len(checkpoint["rss_mib"]) == 2 and all(v > 0 for v in checkpoint["rss_mib"])


def test_targets_are_reported(quick_results: dict) -> None:
    assert len(quick_results["targets"]) == 5
    assert all({"target", "value", "limit", "met"} <= set(t) for t in quick_results["targets"])


def test_population_section_counts_every_patient_and_malformed_line(quick_results: dict) -> None:
    runs = quick_results["population"]["runs"]
    assert [(r["engine"], r["patients"]) for r in runs] == [("local", 20), ("local", 40)]
    for run in runs:
        assert run["errors"] == 0
        assert run["malformed_lines"] == 10
        assert run["wall_s"] > 0 and run["peak_rss_mib"] > 0 and run["patients_per_s_per_core"] > 0
    assert quick_results["population"]["growth"]["local"] > 0
