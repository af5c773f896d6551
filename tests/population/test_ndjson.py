"""Reading a Bulk Data export: a patient's resources spread over files come together, a malformed line is
counted and skipped (never fatal), Medications are joined to the orders that reference them."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds_service.population.ndjson import load_medications, partition, patient_key, patients_in_bucket


def _write(path: Path, lines: list[Any]) -> None:
    raw = b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)


def _obs(oid: str, patient: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final", "subject": {"reference": patient}}


def _group(export: Path, work: Path, buckets: int = 4) -> tuple[dict[str, dict[str, list[Any]]], Any]:
    paths, stats = partition(export, work, buckets=buckets)
    medications = load_medications(work)
    charts = {pid: chart for path in paths for pid, chart in patients_in_bucket(path, medications)}
    return charts, stats


@pytest.mark.parametrize(
    ("resource", "key"),
    [
        ({"resourceType": "Patient", "id": "p1"}, "p1"),
        (_obs("o", "Patient/p1"), "p1"),
        (_obs("o", "https://ehr.example/fhir/Patient/p1/_history/3"), "p1"),
        (_obs("o", "urn:uuid:6f1c"), "6f1c"),
        ({"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/p2"}}, "p2"),
        (_obs("o", "Group/g1"), None),
        ({"resourceType": "Practitioner", "id": "dr"}, None),
        ({"resourceType": "Patient"}, None),
    ],
)
def test_patient_key(resource: dict[str, Any], key: str | None) -> None:
    assert patient_key(resource) == key


def test_a_patient_spread_over_files_and_lines_is_one_chart(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    _write(
        export / "Patient.ndjson",
        [{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}],
    )
    _write(export / "Observation.000.ndjson", [_obs("1", "Patient/a"), _obs("2", "Patient/b")])
    _write(export / "Observation.001.ndjson.gz", [_obs("3", "Patient/b"), _obs("4", "Patient/a")])
    _write(
        export / "Condition.ndjson",
        [{"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/a"}}],
    )
    charts, stats = _group(export, tmp_path / "work")
    assert set(charts) == {"a", "b"}
    assert sorted(r["id"] for r in charts["a"]["Observation"]) == ["1", "4"]
    assert sorted(r["id"] for r in charts["b"]["Observation"]) == ["2", "3"]
    assert [r["id"] for r in charts["a"]["Condition"]] == ["c"]
    assert "Condition" not in charts["b"]
    assert stats.files == 4 and stats.resources == 7 and stats.malformed == 0


def test_malformed_lines_are_counted_with_where_and_never_stop_the_read(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    lines = [
        _obs("1", "Patient/a"),
        b"{not json",
        b"[1,2]",
        b"",
        b'{"id": "no type"}',
        _obs("2", "Patient/a"),
    ]
    _write(export / "Observation.ndjson", lines)
    charts, stats = _group(export, tmp_path / "work")
    assert [r["id"] for r in charts["a"]["Observation"]] == ["1", "2"]
    assert stats.malformed == 3
    assert stats.malformed_examples == [
        "Observation.ndjson:2: not valid JSON",
        "Observation.ndjson:3: not a JSON object",
        "Observation.ndjson:5: no resourceType",
    ]


def test_a_truncated_gzip_file_keeps_what_was_read_and_is_reported(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    raw = gzip.compress(b"".join(orjson.dumps(_obs(str(n), "Patient/a")) + b"\n" for n in range(2000)))
    (export / "Observation.ndjson.gz").write_bytes(raw[: len(raw) // 2])
    charts, stats = _group(export, tmp_path / "work")
    assert 0 < len(charts["a"]["Observation"]) < 2000
    assert stats.malformed == 1
    assert "file cut short" in stats.malformed_examples[0]


def test_medications_are_joined_to_the_orders_that_reference_them_and_unattributed_resources_counted(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    order = {
        "resourceType": "MedicationRequest",
        "id": "o1",
        "subject": {"reference": "Patient/a"},
        "medicationReference": {"reference": "Medication/za"},
    }
    _write(export / "MedicationRequest.ndjson", [order])
    _write(
        export / "Medication.ndjson",
        [{"resourceType": "Medication", "id": "za"}, {"resourceType": "Medication", "id": "other"}],
    )
    _write(export / "Practitioner.ndjson", [{"resourceType": "Practitioner", "id": "dr"}])
    charts, stats = _group(export, tmp_path / "work")
    assert [m["id"] for m in charts["a"]["Medication"]] == ["za"]
    assert stats.medications == 2
    assert dict(stats.unattributed) == {"Practitioner": 1}


def test_buckets_split_the_patients_and_each_patient_is_in_exactly_one(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    _write(export / "Observation.ndjson", [_obs(str(n), f"Patient/p{n % 50}") for n in range(500)])
    paths, _ = partition(export, tmp_path / "work", buckets=8)
    seen = [pid for path in paths for pid, _ in patients_in_bucket(path, {})]
    assert len(paths) > 1
    assert sorted(seen) == sorted(f"p{n}" for n in range(50))
