"""Two engines, one result: the local engine and the Spark engine give identical per-patient results on the
same export, one with malformed lines, one resource type split over several files (one of them gzipped),
US and Chinese coding, a duplicated resource, a resource with no patient and a patient without a Patient.

One local Spark session (local[2], no UI, loopback only, scratch under pytest's temporary directory) serves
every Spark test of the run; `xdist_group("spark")` keeps them on one xdist worker.
"""

from __future__ import annotations

import gzip
import os
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds_service.population import local_engine, spark_engine
from cds_service.population.aggregate import summarize, tables
from cds_service.population.generator import generate
from cds_service.population.patient_result import PatientResult

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

AS_OF = date(2026, 11, 1)
PATIENTS = 80
GENERATED_MALFORMED = 4
ADDED_MALFORMED = 2  # the array and the truncated object written into the .gz file below
EDITED = "pop-000003"
"""A patient given a duplicated Observation (same id, different value) in two files."""


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from pyspark.sql import SparkSession

    spark_engine.use_this_interpreter()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, from the JVM's first look
    scratch = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("bonemet-cds tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The generator's export (3 files per type, malformed lines), plus by hand: a fourth Observation file
    gzipped, holding one patient's newest calcium again under the same id with another value and a
    blank line; a Condition with no patient; two more malformed lines."""
    out = tmp_path_factory.mktemp("export")
    manifest = generate(
        PATIENTS, out, seed=11, split_files=3, malformed_lines=GENERATED_MALFORMED, as_of=AS_OF
    )
    calcium = next(
        r
        for name in sorted(out.glob("Observation.*.ndjson"))
        for r in _lines(name)
        if isinstance(r, dict)
        and r.get("subject", {}).get("reference") == f"Patient/{EDITED}"
        and r["code"]["coding"][0]["code"] == "17861-6"
    )
    duplicate = {**calcium, "valueQuantity": {**calcium["valueQuantity"], "value": 13.9}}
    orphan = {"resourceType": "Condition", "id": "orphan", "code": {"text": "no subject"}}
    with gzip.open(out / "Observation.003.ndjson.gz", "wb") as extra:
        extra.write(b"[1, 2]\n\n" + orjson.dumps(duplicate) + b"\n" + b'{"resourceType": "Obs\n')
    (out / "Condition.003.ndjson").write_bytes(orjson.dumps(orphan) + b"\n")
    (out / "README.txt").write_text("not part of the export\n")
    return out, manifest


@pytest.fixture(scope="module")
def both(export: tuple[Path, dict[str, Any]], spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory, _ = export
    work = tmp_path_factory.mktemp("work")
    local = local_engine.run(directory, AS_OF, workers=1, work_dir=work / "local", progress=False)
    local_results = list(local.results)
    remote = spark_engine.run(
        directory, AS_OF, work_dir=work / "spark", progress=False, spark=spark, partitions=3
    )
    spark_results = list(remote.results)
    return (local_results, local.input_stats()), (spark_results, remote.input_stats())


def _by_patient(results: list[PatientResult]) -> dict[str, PatientResult]:
    assert len({r.patient_id for r in results}) == len(results), "a patient evaluated twice"
    return {r.patient_id: r for r in results}


def test_both_engines_give_identical_per_patient_results(both: Any, export: Any) -> None:
    (local, _), (spark, _) = both
    _, manifest = export
    assert len(local) == PATIENTS
    assert _by_patient(spark) == _by_patient(local)
    assert sorted(spark, key=lambda r: r.patient_id) == sorted(local, key=lambda r: r.patient_id)


def test_the_agreement_is_not_vacuous_mixed_coding_and_findings_reach_both(both: Any, export: Any) -> None:
    """US-coded and Chinese-coded patients with bone metastasis get cards, the unit conflict and the
    missing Patient are found, an active zoledronic acid order goes through order-sign: the identical
    results above are identical non-empty results."""
    (_, _), (spark, _) = both
    _, manifest = export
    results = _by_patient(spark)
    kinds = manifest["archetypes"]
    by_kind: dict[str, list[PatientResult]] = {}
    for pid, kind in kinds.items():
        by_kind.setdefault(kind, []).append(results[pid])
    for kind in ("lung_bone_us", "lung_bone_cn"):
        assert by_kind[kind] and all(r.rules("patient-view") for r in by_kind[kind]), kind
    assert all(r.error is None for r in spark)
    assert any(r.orders_signed and r.rules("order-sign") for r in by_kind["on_bma"])
    found = Counter(d.kind for r in spark for d in r.data_findings)
    assert found["unit_conflict"] >= len(by_kind.get("unit_conflict", []))
    assert found["no_patient_resource"] == len(by_kind.get("no_patient_resource", []))
    assert any(r.unmapped for r in by_kind["unmapped_local"])


def test_the_duplicated_resource_keeps_the_same_copy_in_both_engines(both: Any) -> None:
    (local, _), (spark, _) = both
    assert _by_patient(spark)[EDITED] == _by_patient(local)[EDITED]
    assert _by_patient(spark)[EDITED].resources == _by_patient(local)[EDITED].resources


def test_both_engines_count_the_input_alike(both: Any, export: tuple[Path, dict[str, Any]]) -> None:
    """Malformed lines (generated, and in the gzipped file) are counted and never fatal; the resource
    without a patient is counted by type; only NDJSON files are read."""
    (_, local_counts), (_, spark_counts) = both
    same = ("files", "lines", "resources", "malformed_lines", "resources_without_a_patient", "medications")
    assert {k: spark_counts[k] for k in same} == {k: local_counts[k] for k in same}
    assert spark_counts["malformed_lines"] == GENERATED_MALFORMED + ADDED_MALFORMED
    assert spark_counts["resources_without_a_patient"] == {"Condition": 1}
    directory, manifest = export
    assert spark_counts["files"] == len(manifest["files"]) + 2 == len(list(directory.glob("*.ndjson*")))
    assert spark_counts["malformed_examples"] == local_counts["malformed_examples"]
    assert any(e.startswith("Observation.003.ndjson.gz:1:") for e in spark_counts["malformed_examples"])


def test_the_summary_tables_are_the_same_from_either_engine(both: Any) -> None:
    (local, _), (spark, _) = both
    assert tables(summarize(spark)) == tables(summarize(local))
    assert tables(summarize(spark))["rules"]


def test_a_file_read_in_several_blocks_gives_the_same_results(
    export: tuple[Path, dict[str, Any]], both: Any, spark: Any, tmp_path: Path
) -> None:
    """With 64 KB blocks every Observation file is split over several Spark tasks: a patient's lines
    from different blocks are still brought together, in file order."""
    directory, _ = export
    (local, local_counts), _ = both
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(64 * 1024))
    try:
        remote = spark_engine.run(directory, AS_OF, work_dir=tmp_path, progress=False, spark=spark)
        results = list(remote.results)
        counts = remote.input_stats()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert _by_patient(results) == _by_patient(local)
    assert counts["malformed_lines"] == local_counts["malformed_lines"]
    assert counts["lines"] == local_counts["lines"]


def test_the_spark_engine_leaves_a_session_it_did_not_start_running(both: Any, spark: Any) -> None:
    assert spark.sparkContext.parallelize([1, 2]).sum() == 3
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"


def test_the_command_writes_the_same_tables_with_either_engine(
    export: tuple[Path, dict[str, Any]], spark: Any, tmp_path: Path
) -> None:
    """`bonemet-cds population --engine spark` (on the active session) and the default engine write the
    same per-patient table and summary tables."""
    from cds_service.cli import main

    directory, _ = export
    for engine in ("local", "spark"):
        argv = ["population", str(directory), "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine, "--workers", "1", "--quiet"]) == 0
    for table in ("rules.csv", "services.csv", "unmapped_codes.csv", "data_quality.csv"):
        assert (tmp_path / "spark" / table).read_text() == (tmp_path / "local" / table).read_text(), table
    rows = {
        engine: sorted((tmp_path / engine / "patients.csv").read_text().splitlines())
        for engine in ("local", "spark")
    }
    assert rows["spark"] == rows["local"] and len(rows["local"]) == PATIENTS + 1
    assert spark.sparkContext.parallelize([1, 2]).sum() == 3  # the test session was not stopped
