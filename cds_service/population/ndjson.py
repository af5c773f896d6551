"""A FHIR Bulk Data export (NDJSON) grouped by patient with bounded memory.

An export is one or more files per resource type (`Patient.ndjson`, `Observation.000.ndjson`,
`Observation.001.ndjson.gz`...), one resource per line, in no particular order: one patient's resources are
spread over every file. Grouping them in memory would hold the whole export. Instead:

1. `partition` streams every line once and appends it, unparsed, to one of N bucket files chosen by a hash
   of its patient id (`Patient.id`, else the `subject`/`patient` reference). N is chosen so a bucket is
   about `bucket_bytes` of NDJSON, so a bucket's size does not grow with the export.
2. `patients_in_bucket` reads one bucket, groups it by patient and yields each chart. A worker holds one
   bucket at a time: peak memory is about one bucket's parsed resources, whatever the export size.

Medication resources have no patient: orders reference them (`Medication/<id>`). They go to a side file
that each worker reads once; each chart gets the Medications its orders reference (a formulary is
thousands of resources, not millions). A line that is not a JSON object with a `resourceType` is counted
(file and line number kept for the first few) and skipped, never fatal; a resource with no patient
reference is counted by type and skipped (no rule could read it for a patient).
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import orjson

from fhir_mappings.fhir_values import subject_reference

SUFFIXES = (".ndjson", ".ndjson.gz")
DEFAULT_BUCKET_BYTES = 16 * 1024 * 1024
MAX_BUCKETS = 512
MEDICATIONS_FILE = "medications.ndjson"
MALFORMED_KEPT = 20
WRITE_BUFFER = 16 * 1024
"""Per open bucket file: up to MAX_BUCKETS are open while partitioning, so this bounds that pass (8 MiB)."""
ResourcesByType = dict[str, list[dict[str, Any]]]


@dataclass
class PartitionStats:
    files: int = 0
    lines: int = 0
    resources: int = 0
    malformed: int = 0
    malformed_examples: list[str] = field(default_factory=list)
    """`file:line: why` of the first malformed lines (no content: it may hold patient data)."""
    unattributed: Counter[str] = field(default_factory=Counter)
    """Resources with no patient reference, by type (Medications excluded: they are joined by reference)."""
    medications: int = 0
    buckets: int = 0
    bucket_bytes: list[int] = field(default_factory=list)

    def note_malformed(self, where: str, why: str) -> None:
        self.malformed += 1
        if len(self.malformed_examples) < MALFORMED_KEPT:
            self.malformed_examples.append(f"{where}: {why}")

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "lines": self.lines,
            "resources": self.resources,
            "malformed_lines": self.malformed,
            "malformed_examples": self.malformed_examples,
            "resources_without_a_patient": dict(sorted(self.unattributed.items())),
            "medications": self.medications,
            "buckets": self.buckets,
            "largest_bucket_bytes": max(self.bucket_bytes, default=0),
        }


def export_files(directory: Path) -> list[Path]:
    """The NDJSON files of an export directory, in name order (the order does not change any result)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: not a directory")
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))


def patient_key(resource: dict[str, Any]) -> str | None:
    """The patient a resource belongs to: a Patient's id, else the id in its `subject` or `patient`
    reference (relative, absolute, versioned or `urn:uuid:`), else None."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) and rid else None
    reference = subject_reference(resource)
    if reference is None:
        return None
    reference = reference.split("/_history/", 1)[0].rstrip("/")
    if reference.startswith("urn:uuid:"):
        return reference.removeprefix("urn:uuid:") or None
    head, _, rid = reference.rpartition("/")
    if not rid or not (head == "Patient" or head.endswith("/Patient")):
        return None
    return rid


def bucket_of(key: str, buckets: int) -> int:
    """Stable across processes and machines (unlike `hash`), so any engine can recompute it."""
    return zlib.crc32(key.encode("utf-8")) % buckets


def bucket_count(files: Iterable[Path], bucket_bytes: int) -> int:
    """About `bucket_bytes` of NDJSON per bucket (a gzip file counted as 8 times its size)."""
    total = sum(p.stat().st_size * (8 if p.name.endswith(".gz") else 1) for p in files)
    return max(1, min(MAX_BUCKETS, math.ceil(total / max(bucket_bytes, 1))))


def _open(path: Path) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb")) if path.name.endswith(".gz") else path.open("rb")


def partition(
    directory: Path, work: Path, *, bucket_bytes: int = DEFAULT_BUCKET_BYTES, buckets: int | None = None
) -> tuple[list[Path], PartitionStats]:
    """Stream the export into bucket files under `work`; returns the bucket paths (empty ones left out)
    and the counts. Each bucket line is `<JSON string of the patient id>\\t<the resource line as read>`."""
    files = export_files(directory)
    stats = PartitionStats(files=len(files))
    stats.buckets = buckets or bucket_count(files, bucket_bytes)
    work.mkdir(parents=True, exist_ok=True)
    paths = [work / f"bucket-{n:04d}.ndjson" for n in range(stats.buckets)]
    outputs: list[IO[bytes]] = [p.open("wb", buffering=WRITE_BUFFER) for p in paths]
    try:
        with (work / MEDICATIONS_FILE).open("wb") as medications:
            for path in files:
                _partition_file(path, outputs, medications, stats)
    finally:
        for output in outputs:
            output.close()
    stats.bucket_bytes = [p.stat().st_size for p in paths]
    return [p for p, size in zip(paths, stats.bucket_bytes, strict=True) if size], stats


def _partition_file(
    path: Path, outputs: list[IO[bytes]], medications: IO[bytes], stats: PartitionStats
) -> None:
    try:
        with _open(path) as lines:
            for number, raw in enumerate(lines, 1):
                _partition_line(path.name, number, raw, outputs, medications, stats)
    except (OSError, EOFError, zlib.error) as exc:  # a truncated .gz: what was read is kept
        stats.note_malformed(f"{path.name}", f"file cut short ({type(exc).__name__})")


def _partition_line(
    name: str,
    number: int,
    raw: bytes,
    outputs: list[IO[bytes]],
    medications: IO[bytes],
    stats: PartitionStats,
) -> None:
    line = raw.strip()
    if not line:
        return
    stats.lines += 1
    resource = parse_line(line)
    if isinstance(resource, str):
        stats.note_malformed(f"{name}:{number}", resource)
        return
    stats.resources += 1
    if resource["resourceType"] == "Medication":
        stats.medications += 1
        medications.write(line + b"\n")
        return
    key = patient_key(resource)
    if key is None:
        stats.unattributed[resource["resourceType"]] += 1
        return
    outputs[bucket_of(key, len(outputs))].write(orjson.dumps(key) + b"\t" + line + b"\n")


def parse_line(line: bytes | str) -> dict[str, Any] | str:
    """The resource on one NDJSON line, or why it is not one (a short reason, no content)."""
    try:
        resource = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "not valid JSON"
    if not isinstance(resource, dict):
        return "not a JSON object"
    if not isinstance(resource.get("resourceType"), str):
        return "no resourceType"
    return resource


def load_medications(work: Path) -> dict[str, dict[str, Any]]:
    """`Medication/<id>` -> resource, from the side file `partition` wrote."""
    found: dict[str, dict[str, Any]] = {}
    path = work / MEDICATIONS_FILE
    if path.exists():
        with path.open("rb") as lines:
            for line in lines:
                resource = orjson.loads(line)
                if isinstance(resource.get("id"), str):
                    found.setdefault(f"Medication/{resource['id']}", resource)
    return found


def patients_in_bucket(
    bucket: Path, medications: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, ResourcesByType]]:
    """Each patient of one bucket with its resources by type, in patient-id order (deterministic)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    with bucket.open("rb") as lines:
        for line in lines:
            key, _, body = line.partition(b"\t")
            grouped.setdefault(orjson.loads(key), []).append(orjson.loads(body))
    for patient_id in sorted(grouped):
        yield patient_id, chart_of(grouped.pop(patient_id), medications)


def chart_of(resources: Iterable[dict[str, Any]], medications: dict[str, dict[str, Any]]) -> ResourcesByType:
    """A patient's resources by type, plus the Medications its orders reference (`Medication/<id>`,
    relative or absolute); both engines build a chart with this."""
    chart: ResourcesByType = {}
    for resource in resources:
        chart.setdefault(resource["resourceType"], []).append(resource)
    wanted = {_medication_ref(r) for r in chart.get("MedicationRequest", [])} - {None}
    found = [medications[ref] for ref in sorted(r for r in wanted if r is not None) if ref in medications]
    if found:
        chart.setdefault("Medication", []).extend(found)
    return chart


def _medication_ref(request: dict[str, Any]) -> str | None:
    holder = request.get("medicationReference")
    reference = holder.get("reference") if isinstance(holder, dict) else None
    if not isinstance(reference, str) or reference.startswith("#"):
        return None
    rid = reference.split("/_history/", 1)[0].rstrip("/").rpartition("/")[2]
    return f"Medication/{rid}" if rid else None


def main(argv: list[str] | None = None) -> int:
    """`python -m cds_service.population.ndjson EXPORT_DIR`: partition and group an export without
    evaluating it, and print the counts and this process's peak memory: checks an export (malformed
    lines, resources with no patient) in seconds, and shows that grouping memory does not grow with it."""
    import argparse
    import json
    import resource
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("export", type=Path)
    parser.add_argument("--bucket-bytes", type=int, default=DEFAULT_BUCKET_BYTES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bonemet-ndjson-") as tmp:
        work = Path(tmp)
        buckets, stats = partition(args.export, work, bucket_bytes=args.bucket_bytes)
        medications = load_medications(work)
        patients = most_in_a_bucket = 0
        for bucket in buckets:
            in_bucket = sum(1 for _ in patients_in_bucket(bucket, medications))
            patients += in_bucket
            most_in_a_bucket = max(most_in_a_bucket, in_bucket)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                **stats.to_json(),
                "patients": patients,
                "most_patients_in_a_bucket": most_in_a_bucket,
                "peak_rss_kib": peak_kib,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
