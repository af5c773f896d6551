"""One small generated export (split files, malformed lines, every archetype of the mix) and its local
engine run, shared by the population tests (building it once keeps them fast)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cds_service.population import local_engine
from cds_service.population.generator import generate
from cds_service.population.patient_result import PatientResult

PATIENTS = 160
SEED = 11
MALFORMED = 6


@pytest.fixture(scope="session")
def as_of() -> date:
    return datetime.now(UTC).date()


@pytest.fixture(scope="session")
def export(tmp_path_factory: pytest.TempPathFactory, as_of: date) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("export")
    manifest = generate(PATIENTS, out, seed=SEED, split_files=3, malformed_lines=MALFORMED, as_of=as_of)
    return out, manifest


@pytest.fixture(scope="session")
def local_run(
    export: tuple[Path, dict[str, Any]], as_of: date, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, PatientResult], dict[str, Any]]:
    """Results by patient id and the input counts; small buckets so the run has several."""
    run = local_engine.run(
        export[0],
        as_of,
        workers=2,
        work_dir=tmp_path_factory.mktemp("work"),
        progress=False,
        bucket_bytes=512 * 1024,
    )
    results = {r.patient_id: r for r in run.results}
    return results, run.input_stats()
