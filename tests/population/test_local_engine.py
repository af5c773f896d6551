"""The local engine: every core, results in bucket order, and a worker that dies stops the run loudly."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cds_service.cli import main
from cds_service.population import local_engine
from cds_service.population.patient_result import PatientResult


def _die(task: Any) -> list[PatientResult]:
    os._exit(3)  # a worker killed mid-bucket (out of memory, a signal)


def test_one_worker_and_two_give_the_same_results(
    export: tuple[Path, dict[str, Any]],
    as_of: date,
    tmp_path: Path,
    local_run: tuple[dict[str, PatientResult], dict[str, Any]],
) -> None:
    run = local_engine.run(
        export[0], as_of, workers=1, work_dir=tmp_path, progress=False, bucket_bytes=512 * 1024
    )
    results = list(run.results)
    assert {r.patient_id: r for r in results} == local_run[0]
    assert len(results) == len(local_run[0])  # each patient once
    assert run.input_stats() == local_run[1]


def test_progress_goes_to_stderr(
    export: tuple[Path, dict[str, Any]], as_of: date, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = local_engine.run(
        export[0], as_of, workers=2, work_dir=tmp_path, progress=True, bucket_bytes=512 * 1024
    )
    count = sum(1 for _ in run.results)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"population: {count} patients" in captured.err
    assert "malformed lines" in captured.err


def test_a_worker_that_dies_stops_the_run_with_an_error(
    export: tuple[Path, dict[str, Any]],
    as_of: date,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(local_engine, "_bucket_results", _die)
    out = tmp_path / "out"
    code = main(
        [
            "population",
            str(export[0]),
            "--as-of",
            as_of.isoformat(),
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ]
    )
    assert code == 1
    assert "a worker process died" in capsys.readouterr().err
    assert not (out / "summary.json").exists() and not (out / "report.html").exists()
