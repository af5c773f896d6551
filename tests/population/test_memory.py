"""Grouping memory does not grow with the export: measured on a subprocess (its peak RSS) that groups a
small and a four-times larger export with the same bucket size. Held in memory whole, the larger export
would add several times its NDJSON size as parsed Python objects; grouped a bucket at a time, the peak
barely moves. Only a robust bound is asserted: the growth of the peak is under a quarter of the growth
of the raw export, and no bucket holds more than a small share of the patients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cds_service.population.generator import generate

REPO = Path(__file__).resolve().parents[2]
BUCKET_BYTES = 256 * 1024


def _group(export: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cds_service.population.ndjson",
            str(export),
            "--bucket-bytes",
            str(BUCKET_BYTES),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    return json.loads(done.stdout)


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("*.ndjson"))


def test_peak_memory_of_grouping_does_not_follow_the_export_size(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    generate(300, small, seed=5, split_files=2)
    generate(1200, large, seed=5, split_files=2)
    measured = {name: _group(path) for name, path in (("small", small), ("large", large))}
    assert measured["small"]["patients"] == 300 and measured["large"]["patients"] == 1200
    growth_bytes = _size(large) - _size(small)
    growth_rss = (measured["large"]["peak_rss_kib"] - measured["small"]["peak_rss_kib"]) * 1024
    assert growth_bytes > 30 * 1024 * 1024  # the test would prove nothing on a tiny export
    assert growth_rss < growth_bytes / 4, measured
    assert measured["large"]["buckets"] > 3 * measured["small"]["buckets"]
    assert measured["large"]["most_patients_in_a_bucket"] < 1200 / 10


@pytest.mark.parametrize("patients", [0])
def test_an_empty_export_groups_to_nothing(tmp_path: Path, patients: int) -> None:
    generate(patients, tmp_path, seed=1)
    assert _group(tmp_path)["patients"] == 0
