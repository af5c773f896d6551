"""A synthetic FHIR Bulk Data export with a realistic mix of patients, so the population run can be tried,
tested and benchmarked without real data.

    python -m cds_service.population.generator --patients 1000 --out /tmp/export [--seed 7]
        [--split-files 3] [--malformed-lines 5] [--as-of 2026-12-01]

Built on the benchmark's charts (`cds_service.synthetic_charts`: a woman with lung cancer and bone
metastases, comorbidities, labs, imaging, medications), each patient then changed into one of the
archetypes of `MIX` (documented in docs/population.md). Everything is deterministic for a seed. Each
resource type is written to `--split-files` files (`Observation.000.ndjson`...), a patient's resources
scattered across them, and `--malformed-lines` broken lines are written among them. The archetype of every
patient is in `generator-manifest.json` (not an NDJSON file, so the run ignores it), for tests.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from cds_service.synthetic_charts import all_resources, medication_request, patient_resources

ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOCAL_DX = "urn:oid:1.2.156.112606.1.2.1.99"
"""A hospital's local diagnosis code system (not in the code sets): its entries are UNMAPPED-CODES."""
ZA_MEDICATION = {
    "resourceType": "Medication",
    "id": "formulary-zoledronic-acid-4mg",
    "code": {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "1114085",
                "display": "zoledronic acid 4 MG in 100 ML Injection",
            }
        ]
    },
}
MALFORMED = [
    b'{"resourceType": "Observation", "id": "cut-sho',
    b"not json at all",
    b"[1, 2, 3]",
    b'{"id": "x"}',
]

# (archetype, weight): what a lung-cancer-heavy oncology population looks like to this service.
MIX: list[tuple[str, int]] = [
    ("lung_bone_us", 30),  # lung cancer with bone metastasis, ICD-10-CM (the base chart)
    ("lung_no_bone", 20),  # lung cancer, no bone metastasis
    ("lung_bone_cn", 10),  # Chinese coding: ICD-10 (national clinical edition) with Chinese displays
    ("other_cancer", 10),  # breast or prostate cancer with bone metastasis, no lung cancer
    ("on_bma", 10),  # lung cancer with bone metastasis on active zoledronic acid (order-sign runs)
    ("unmapped_local", 6),  # lung cancer under a local code only (text 肺腺癌 / adenocarcinoma of lung)
    ("missing_labs", 6),  # no laboratory results at all
    ("stale_labs", 4),  # every result 2-3 years old
    ("unit_conflict", 3),  # a calcium in mmol/L under a mass-concentration LOINC code
    ("no_patient_resource", 1),  # resources without the Patient resource
]


def archetype_of(rng: random.Random) -> str:
    names, weights = zip(*MIX, strict=True)
    return rng.choices(names, weights=weights)[0]


def patient_chart(index: int, seed: int, anchor: datetime) -> tuple[str, list[dict[str, Any]]]:
    """(archetype, resources) of patient `index`: the same for a seed, whatever the export size."""
    rng = random.Random(f"{seed}-{index}")  # noqa: S311 - synthetic data, reproducible by design
    patient_id = f"pop-{index:06d}"
    archetype = archetype_of(rng)
    size = "typical" if rng.random() < 0.15 else "small"
    resources = all_resources(patient_resources(size, anchor, patient_id))
    _vary_patient(resources, rng)
    CHANGES[archetype](resources, rng, anchor)
    return archetype, resources


def _vary_patient(resources: list[dict[str, Any]], rng: random.Random) -> None:
    for resource in resources:
        if resource["resourceType"] == "Patient":
            resource["gender"] = rng.choice(["female", "male"])
            resource["birthDate"] = (
                f"{rng.randint(1938, 1980)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            )


def _condition(resources: list[dict[str, Any]], cid: str) -> dict[str, Any]:
    return next(r for r in resources if r["resourceType"] == "Condition" and r["id"] == cid)


def _recode(condition: dict[str, Any], system: str, code: str, shown: str) -> None:
    condition["code"] = {"coding": [{"system": system, "code": code, "display": shown}], "text": shown}


def _unchanged(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    return None


def _no_bone(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    resources.remove(_condition(resources, "bone-metastasis"))


def _chinese(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    _recode(_condition(resources, "lung-cancer"), ICD10, "C34.1", "右肺上叶恶性肿瘤")
    _recode(_condition(resources, "bone-metastasis"), ICD10, "C79.5", "骨和骨髓继发性恶性肿瘤")


def _other_cancer(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    code, shown = rng.choice(
        [("C50.911", "Malignant neoplasm of right female breast"), ("C61", "Malignant neoplasm of prostate")]
    )
    _recode(_condition(resources, "lung-cancer"), "http://hl7.org/fhir/sid/icd-10-cm", code, shown)


def _on_bma(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    start = (anchor - timedelta(days=rng.randint(20, 200))).strftime("%Y-%m-%d")
    order = medication_request(
        "za-active",
        {"reference": f"Patient/{patient['id']}"},
        ("77655", "zoledronic acid 4 MG in 100 ML Injection", 4, 4),
        start,
        "active",
    )
    if rng.random() < 0.5:  # half name the drug by reference to the formulary's Medication
        del order["medicationCodeableConcept"]
        order["medicationReference"] = {"reference": f"Medication/{ZA_MEDICATION['id']}"}
    resources.append(order)


def _unmapped(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    code, shown = rng.choice([("LC-01", "肺腺癌"), ("LC-02", "Adenocarcinoma of lung, local code")])
    _recode(_condition(resources, "lung-cancer"), LOCAL_DX, code, shown)


def _missing_labs(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    resources[:] = [r for r in resources if r["resourceType"] != "Observation"]


def _stale(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    shift = timedelta(days=rng.randint(730, 1095))
    for r in resources:
        if r["resourceType"] == "Observation":
            for key in ("effectiveDateTime", "issued"):
                when = datetime.fromisoformat(r[key].replace("Z", "+00:00")) - shift
                r[key] = when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unit_conflict(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    calcium = [
        r
        for r in resources
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "17861-6"
    ]
    newest = max(calcium, key=lambda r: r["effectiveDateTime"])
    newest["valueQuantity"] = {
        "value": 2.3,
        "unit": "mmol/L",
        "system": "http://unitsofmeasure.org",
        "code": "mmol/L",
    }
    newest.pop("referenceRange", None)


def _no_patient(resources: list[dict[str, Any]], rng: random.Random, anchor: datetime) -> None:
    resources[:] = [r for r in resources if r["resourceType"] != "Patient"]


Change = Callable[[list[dict[str, Any]], random.Random, datetime], None]
CHANGES: dict[str, Change] = {
    "lung_bone_us": _unchanged,
    "lung_no_bone": _no_bone,
    "lung_bone_cn": _chinese,
    "other_cancer": _other_cancer,
    "on_bma": _on_bma,
    "unmapped_local": _unmapped,
    "missing_labs": _missing_labs,
    "stale_labs": _stale,
    "unit_conflict": _unit_conflict,
    "no_patient_resource": _no_patient,
}


class _Writers:
    """One file per (resource type, split), opened on first use."""

    def __init__(self, out: Path, splits: int) -> None:
        self.out, self.splits = out, splits
        self.files: dict[str, IO[bytes]] = {}
        self.lines: Counter[str] = Counter()

    def write(self, resource_type: str, split: int, line: bytes) -> None:
        name = f"{resource_type}.ndjson" if self.splits == 1 else f"{resource_type}.{split:03d}.ndjson"
        handle = self.files.get(name)
        if handle is None:
            handle = self.files[name] = (self.out / name).open("wb", buffering=256 * 1024)
        handle.write(line + b"\n")
        self.lines[name] += 1

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def generate(
    patients: int,
    out: Path,
    *,
    seed: int = 7,
    split_files: int = 1,
    malformed_lines: int = 0,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Write the export; returns the manifest (also written to `generator-manifest.json`)."""
    out.mkdir(parents=True, exist_ok=True)
    anchor = datetime.combine(as_of or datetime.now(UTC).date(), time(12), UTC)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design
    broken_before = Counter(rng.randrange(max(patients, 1)) for _ in range(malformed_lines))
    writers = _Writers(out, max(split_files, 1))
    archetypes: dict[str, str] = {}
    try:
        writers.write("Medication", 0, orjson.dumps(ZA_MEDICATION))
        for index in range(patients):
            for _ in range(broken_before[index]):
                writers.write("Observation", rng.randrange(writers.splits), rng.choice(MALFORMED))
            archetype, resources = patient_chart(index, seed, anchor)
            archetypes[f"pop-{index:06d}"] = archetype
            for resource in resources:
                writers.write(resource["resourceType"], rng.randrange(writers.splits), orjson.dumps(resource))
    finally:
        writers.close()
    manifest = {
        "patients": patients,
        "seed": seed,
        "as_of": anchor.date().isoformat(),
        "malformed_lines": malformed_lines,
        "mix": dict(sorted(Counter(archetypes.values()).items())),
        "files": dict(sorted(writers.lines.items())),
        "archetypes": archetypes,
    }
    (out / "generator-manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--split-files", type=int, default=1)
    parser.add_argument("--malformed-lines", type=int, default=0)
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="dates count back from this day (default today)"
    )
    args = parser.parse_args(argv)
    manifest = generate(
        args.patients,
        args.out,
        seed=args.seed,
        split_files=args.split_files,
        malformed_lines=args.malformed_lines,
        as_of=args.as_of,
    )
    print(json.dumps({k: v for k, v in manifest.items() if k != "archetypes"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
