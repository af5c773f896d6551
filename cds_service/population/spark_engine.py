"""`--engine spark`: the same per-patient pipeline on Apache Spark, for exports one machine cannot hold.

The export is read where Spark reads (a local directory, `hdfs://`, `s3a://`...) as text, one record per
line (`.ndjson.gz` decompressed by Spark). Why each step is what it is:

- Every line is parsed once, with the local engine's own `ndjson.parse_line` and `ndjson.patient_key`, so a
  malformed line or a resource with no patient is counted exactly as the local engine counts it (and never
  stops the run). The classified lines are persisted on disk (not in memory), because two actions read
  them: the small one (counts, Medications) and the per-patient one.
- Medications have no patient; orders reference them. They are collected on the driver and broadcast (a
  formulary is thousands of resources), and `ndjson.chart_of` joins them to each chart, as locally.
- Lines are keyed by (patient id, file name, file block, row: Spark's `_metadata` columns) and
  `repartitionAndSortWithinPartitions` sends each patient to one partition (crc32 of the id: stable
  across Python workers, unlike `hash`) and sorts there with Spark's spilling sorter. A patient's
  resources then arrive together and in file order, the order the local engine reads them (so a
  duplicated resource keeps the same copy in both engines); memory per task is one chart plus the
  sorter's bounded buffer.
- `evaluate_patient` runs per patient inside `mapPartitions`; the `RuntimeParts` (code sets, thresholds,
  card templates, order catalog) are built once per Python worker process, which Spark reuses across
  tasks, not once per patient.
- All partitions are evaluated in one job (results kept on the executors' disks), then the driver
  receives the `PatientResult`s one partition at a time (`toLocalIterator`): the CLI, the report and the
  aggregation (`aggregate.Summary`) are the local engine's, and the driver never holds them all.

On a cluster the executors need this package installed (or shipped with `--py-files`) and `site_dir`
readable at the same path. Two differences from the local engine's counts, both about broken input: a
malformed line past a file's first block (128 MB by default) is reported by its row after the block's
byte offset, not its line number (Spark does not number lines), and bytes that
are not UTF-8 are read by Spark as U+FFFD rather than rejected, so such a line counts as malformed only if
it is also not valid JSON.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from cds_service.population.engine import EngineRun
from cds_service.population.ndjson import MALFORMED_KEPT, chart_of, parse_line, patient_key
from cds_service.population.patient_result import (
    PatientResult,
    RuntimeParts,
    evaluate_patient,
    load_runtime_parts,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FILE_GLOB = "*.{ndjson,ndjson.gz}"
"""The names `ndjson.export_files` reads; anything else in the directory is not part of the export."""
JSON_WHITESPACE = " \t\r\n\x0b\x0c"
"""What `bytes.strip()` removes in the local engine: the same lines are blank in both engines."""
PROGRESS_EVERY_S = 2.0
PATIENT, MEDICATION, COUNTS = "p", "m", "c"
_parts_by_site: dict[str | None, RuntimeParts] = {}

Position = tuple[str, int, int]
"""(file name, byte offset of the file block Spark read, row in that block): orders the lines of a file as
the file does; in the first block (offset 0) the row is the line number."""


def run(
    export_dir: Path | str,
    as_of: date,
    *,
    workers: int | None = None,
    work_dir: Path,
    progress: bool = True,
    site_dir: Path | None = None,
    spark: SparkSession | None = None,
    master: str | None = None,
    partitions: int | None = None,
) -> EngineRun:
    """Evaluate every patient of the export on Spark. Uses `spark`, else the active session (spark-submit,
    a notebook), else starts `master` (default `local[workers]`, every core without `workers`) and stops
    it once the results are consumed."""
    load_runtime_parts(site_dir)  # a malformed site file stops the run here, before any Spark job
    own = spark is None and _active_session() is None
    session = spark or _active_session() or _start_session(master or f"local[{workers or '*'}]", work_dir)
    if own and not progress:
        session.sparkContext.setLogLevel("ERROR")
    try:
        counts, medications, keyed = _read(session, _location(export_dir))
    except BaseException:
        if own:
            session.stop()
        raise
    site = str(site_dir) if site_dir is not None else None
    results = _results(session, keyed, medications, as_of, site, partitions, own, progress)
    return EngineRun("spark", session.sparkContext.defaultParallelism, results, lambda: counts)


def _active_session() -> SparkSession | None:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _start_session(master: str, work_dir: Path) -> SparkSession:
    from pyspark.sql import SparkSession

    scratch = work_dir / "spark"
    scratch.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("bonemet-cds population").master(master)
    builder = builder.config("spark.local.dir", str(scratch))
    builder = builder.config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
    builder = builder.config("spark.ui.showConsoleProgress", "false")  # our progress lines instead
    if master.startswith("local"):
        use_this_interpreter()
        builder = stay_on_loopback(builder)
    return builder.getOrCreate()


def stay_on_loopback(builder: Any) -> Any:
    """Local mode talks only to itself: on 127.0.0.1, and with no web UI listening on every interface.
    Left alone, Spark binds the driver to the machine's first network address."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = builder.config("spark.driver.host", "127.0.0.1")
    builder = builder.config("spark.driver.bindAddress", "127.0.0.1")
    return builder.config("spark.ui.enabled", "false")


def use_this_interpreter() -> None:
    """Local Python workers run this interpreter (its venv holds this package and its dependencies), not
    whatever `python3` is first on PATH; PySpark reads the variable when the context starts."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _location(export_dir: Path | str) -> str:
    """A local path made absolute (Spark resolves relative paths against its own working directory); a
    URI (`hdfs://`, `s3a://`, `file:`) as given."""
    text = str(export_dir)
    return text if "://" in text or text.startswith("file:") else str(Path(text).resolve())


def _read(
    session: SparkSession, location: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], tuple[Any, Any]]:
    from pyspark import StorageLevel
    from pyspark.sql.functions import col

    frame = session.read.option("pathGlobFilter", FILE_GLOB).text(location)
    files = frame.inputFiles()
    lines = frame.select(
        col("_metadata.file_name").alias("file"), col("_metadata.file_block_start").alias("start"), "value"
    ).rdd
    classified = lines.mapPartitions(_classify).persist(StorageLevel.DISK_ONLY)
    small = classified.filter(lambda record: record[0] != PATIENT).collect()
    counts = _counts(len(files), [r[1] for r in small if r[0] == COUNTS])
    medications = _medications([(r[1], r[2]) for r in small if r[0] == MEDICATION])
    counts["medications"] = sum(1 for r in small if r[0] == MEDICATION)
    keyed = classified.filter(lambda record: record[0] == PATIENT).map(lambda record: (record[1], record[2]))
    return counts, medications, (classified, keyed)


def _classify(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """One input partition: (PATIENT, (patient, *position), line) per attributable resource,
    (MEDICATION, position, line) per Medication, then one (COUNTS, ...) record for the partition."""
    lines = resources = 0
    malformed: list[tuple[Position, str]] = []
    unattributed: Counter[str] = Counter()
    rows_in_block: Counter[tuple[str, int]] = Counter()
    for row in rows:
        rows_in_block[(row.file, row.start)] += 1  # blank lines count: they are lines of the file
        line = row.value.strip(JSON_WHITESPACE)
        if not line:
            continue
        lines += 1
        position = (row.file, row.start, rows_in_block[(row.file, row.start)])
        resource = parse_line(line)
        if isinstance(resource, str):
            malformed.append((position, resource))
            continue
        resources += 1
        if resource["resourceType"] == "Medication":
            yield MEDICATION, position, line
            continue
        key = patient_key(resource)
        if key is None:
            unattributed[resource["resourceType"]] += 1
            continue
        yield PATIENT, (key, *position), line
    yield (
        COUNTS,
        {"lines": lines, "resources": resources, "malformed": malformed, "unattributed": unattributed},
    )


def _counts(files: int, partials: list[dict[str, Any]]) -> dict[str, Any]:
    """The `ndjson.PartitionStats.to_json()` keys, so the report reads either engine's counts."""
    malformed = sorted(m for partial in partials for m in partial["malformed"])
    unattributed: Counter[str] = Counter()
    for partial in partials:
        unattributed.update(partial["unattributed"])
    return {
        "files": files,
        "lines": sum(p["lines"] for p in partials),
        "resources": sum(p["resources"] for p in partials),
        "malformed_lines": len(malformed),
        "malformed_examples": [f"{_where(position)}: {why}" for position, why in malformed[:MALFORMED_KEPT]],
        "resources_without_a_patient": dict(sorted(unattributed.items())),
        "medications": 0,
        "buckets": 0,
        "largest_bucket_bytes": 0,
    }


def _where(position: Position) -> str:
    """`file:line` as the local engine says it; past a file's first block Spark does not know the line."""
    name, start, row = position
    return f"{name}:{row}" if start == 0 else f"{name}: line {row} after byte {start}"


def _medications(found: list[tuple[Position, str]]) -> dict[str, dict[str, Any]]:
    """`Medication/<id>` -> the first such resource in file order, as `ndjson.load_medications` keeps."""
    medications: dict[str, dict[str, Any]] = {}
    for _, line in sorted(found):
        resource = orjson.loads(line)
        if isinstance(resource.get("id"), str):
            medications.setdefault(f"Medication/{resource['id']}", resource)
    return medications


def _patient_partition(key: tuple[Any, ...]) -> int:
    return zlib.crc32(key[0].encode("utf-8"))


def _results(
    session: SparkSession,
    persisted_and_keyed: tuple[Any, Any],
    medications: dict[str, dict[str, Any]],
    as_of: date,
    site: str | None,
    partitions: int | None,
    own: bool,
    progress: bool,
) -> Iterator[PatientResult]:
    """Evaluates every partition in one job (every core busy; the results kept on the executors' disks),
    then streams the results to the driver one partition at a time (`toLocalIterator` alone would run one
    partition after the other). Unpersists, and stops a session it started, when the caller has read them
    all or stops reading."""
    classified, keyed = persisted_and_keyed
    context = session.sparkContext
    shared = context.broadcast(medications)
    count = partitions or max(keyed.getNumPartitions(), 2 * context.defaultParallelism)

    def evaluate(records: Iterable[tuple[tuple[Any, ...], str]]) -> Iterator[PatientResult]:
        parts = _runtime_parts(site)
        for patient_id, group in itertools.groupby(records, key=lambda record: record[0][0]):
            chart = chart_of((orjson.loads(line) for _, line in group), shared.value)
            yield evaluate_patient(parts, patient_id, chart, as_of)

    from pyspark import StorageLevel

    grouped = keyed.repartitionAndSortWithinPartitions(count, _patient_partition)
    results = grouped.mapPartitions(evaluate).persist(StorageLevel.DISK_ONLY)
    try:
        _evaluate_all(context, results, sys.stderr if progress else None)
        yield from results.toLocalIterator()
    finally:
        results.unpersist()
        classified.unpersist()
        shared.unpersist()
        if own:
            session.stop()


def _evaluate_all(context: Any, results: Any, out: Any) -> None:
    began = time.monotonic()
    if out is None:
        results.count()
        return
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(context, stop, out), daemon=True)
    watcher.start()
    try:
        patients = results.count()
    finally:
        stop.set()
        watcher.join()
    seconds = time.monotonic() - began
    rate = patients / max(seconds, 1e-9)
    print(f"population (spark): {patients} patients in {seconds:.1f} s ({rate:.0f}/s)", file=out, flush=True)


def _watch(context: Any, stop: threading.Event, out: Any) -> None:
    """Progress on long runs: the running stages' finished tasks, every couple of seconds."""
    tracker = context.statusTracker()
    while not stop.wait(PROGRESS_EVERY_S):
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is not None:
                print(
                    f"population (spark): stage {stage_id}: {info.numCompletedTasks}/{info.numTasks} tasks",
                    file=out,
                    flush=True,
                )


def _runtime_parts(site: str | None) -> RuntimeParts:
    """Once per Python worker process: Spark reuses the process for the next task."""
    parts = _parts_by_site.get(site)
    if parts is None:
        parts = _parts_by_site[site] = load_runtime_parts(Path(site) if site is not None else None)
    return parts
