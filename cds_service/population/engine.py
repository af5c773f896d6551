"""What an engine hands the report: the per-patient results, streamed, and the input's counts.

Both engines' `run(export_dir, as_of, *, workers, work_dir, progress) -> EngineRun` (local:
`cds_service.population.local_engine.run`; Spark: `cds_service.population.spark_engine.run`) return this,
so the CLI and the report do not know which engine ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cds_service.population.patient_result import PatientResult


@dataclass
class EngineRun:
    engine: str
    workers: int
    results: Iterable[PatientResult]
    """Each patient once; consumed once (the local engine streams them bucket by bucket)."""
    input_stats: Callable[[], dict[str, Any]]
    """The input's counts (`ndjson.PartitionStats.to_json()` keys: files, lines, resources,
    malformed_lines, malformed_examples, resources_without_a_patient, medications...); called after
    `results` is consumed, so an engine may count while it reads."""
