"""The default engine: one machine, every core, no extra service.

The export is partitioned into bucket files by patient (`ndjson.partition`, one streaming pass in this
process), then a pool of worker processes takes one bucket at a time: group it by patient, run
`evaluate_patient` on each chart, send the results back. Each worker builds its `RuntimeParts` and reads
the Medications once. Memory: the parent holds the results of the buckets that finished out of order (at
most two buckets per worker are in flight); each worker holds one bucket. Progress (patients, rate,
buckets done) goes to stderr about every two seconds. A worker that dies stops the run with `WorkerDied`:
a run that lost patients must not report on the others as if it were whole.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from cds_service.population.engine import EngineRun
from cds_service.population.ndjson import (
    DEFAULT_BUCKET_BYTES,
    load_medications,
    partition,
    patients_in_bucket,
)
from cds_service.population.patient_result import (
    PatientResult,
    RuntimeParts,
    evaluate_patient,
    load_runtime_parts,
)

PROGRESS_EVERY_S = 2.0
IN_FLIGHT_PER_WORKER = 2
"""Buckets queued per worker: keeps every core busy while results come back in bucket order, and bounds
the results the parent holds for buckets that finished early."""
_worker: dict[str, Any] = {}


def run(
    export_dir: Path,
    as_of: date,
    *,
    workers: int | None = None,
    work_dir: Path,
    progress: bool = True,
    bucket_bytes: int = DEFAULT_BUCKET_BYTES,
    site_dir: Path | None = None,
) -> EngineRun:
    load_runtime_parts(site_dir)  # a malformed site file stops the run here, before the long partition
    count = workers or os.cpu_count() or 1
    began = time.monotonic()
    buckets, stats = partition(export_dir, work_dir / "buckets", bucket_bytes=bucket_bytes)
    if progress:
        print(
            f"population: {stats.resources} resources from {stats.files} files in {len(buckets)} buckets "
            f"({stats.malformed} malformed lines) in {time.monotonic() - began:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    results = _evaluate(
        buckets, work_dir / "buckets", as_of, count, site_dir, sys.stderr if progress else None
    )
    return EngineRun("local", count, results, stats.to_json)


def _evaluate(
    buckets: list[Path], work: Path, as_of: date, workers: int, site_dir: Path | None, out: TextIO | None
) -> Iterator[PatientResult]:
    tasks = [(bucket, as_of) for bucket in buckets]
    meter = _Progress(len(buckets), out)
    if workers == 1:  # no pool: simpler to debug and to profile
        _init(work, site_dir)
        for task in tasks:
            batch = _bucket_results(task)
            meter.note(len(batch))
            yield from batch
        return
    # fork: the parent holds no lock or thread here, and it works whatever __main__ is (a test, stdin)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=(work, site_dir)
    ) as pool:
        pending: deque[Future[list[PatientResult]]] = deque()
        queued = iter(tasks)
        for task in islice(queued, IN_FLIGHT_PER_WORKER * workers):
            pending.append(pool.submit(_bucket_results, task))
        while pending:
            try:
                batch = pending.popleft().result()
            except BrokenProcessPool:
                raise WorkerDied(
                    "a worker process died (killed, or out of memory): the run is incomplete"
                ) from None
            following = next(queued, None)
            if following is not None:
                pending.append(pool.submit(_bucket_results, following))
            meter.note(len(batch))
            yield from batch


class WorkerDied(RuntimeError):
    """A worker process ended without a result: the run stops, it never reports the patients it lost."""


def _init(work: Path, site_dir: Path | None) -> None:
    _worker["parts"] = load_runtime_parts(site_dir)
    _worker["medications"] = load_medications(work)


def _bucket_results(task: tuple[Path, date]) -> list[PatientResult]:
    bucket, as_of = task
    parts: RuntimeParts = _worker["parts"]
    return [
        evaluate_patient(parts, patient_id, chart, as_of)
        for patient_id, chart in patients_in_bucket(bucket, _worker["medications"])
    ]


class _Progress:
    def __init__(self, buckets: int, out: TextIO | None) -> None:
        self.buckets, self.out = buckets, out
        self.done_buckets = self.patients = 0
        self.began = self.last = time.monotonic()

    def note(self, patients: int) -> None:
        self.done_buckets += 1
        self.patients += patients
        now = time.monotonic()
        if self.out is not None and (
            now - self.last >= PROGRESS_EVERY_S or self.done_buckets == self.buckets
        ):
            self.last = now
            rate = self.patients / max(now - self.began, 1e-9)
            print(
                f"population: {self.patients} patients, {self.done_buckets}/{self.buckets} buckets, "
                f"{rate:.0f} patients/s",
                file=self.out,
                flush=True,
            )
