"""The demo patients (cds_service/demo_patients/): their index, their bundles, and hook requests built
from them.

Each patient is a FHIR R4 transaction Bundle of PUTs with stable ids, so loading it twice changes
nothing. Dates are written as of the index's `reference_date`; `load_bundle` moves every date and
dateTime by whole days so that the stories (a scan "11 days ago", denosumab "for 25 months") stay true on
the day a tester loads them. Without that, the cards would quietly change as the calendar moves on.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from cds_service.bundles import bundle_resources

DEMO_DIR = Path(__file__).resolve().parent / "demo_patients"
INDEX_FILE = DEMO_DIR / "index.yaml"
DOCS_FILE = Path(__file__).resolve().parent.parent / "docs" / "demo-patients.md"
# A FHIR date or dateTime at the start of a string: 2026-11-20 or 2026-11-20T08:30:00+08:00.
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)?$")


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient: its FHIR id, bundle file, one-line story and expected patient-view rule IDs."""

    id: str
    file: str
    story: str
    patient_view: tuple[str, ...]

    @property
    def path(self) -> Path:
        return DEMO_DIR / self.file


@dataclass(frozen=True)
class DemoIndex:
    reference_date: date
    patients: tuple[DemoPatient, ...]
    shared: tuple[str, ...] = ()
    """Bundle files no one patient owns (the demo clinician), loaded before the patients."""

    def patient(self, patient_id: str) -> DemoPatient:
        for patient in self.patients:
            if patient.id == patient_id:
                return patient
        raise KeyError(patient_id)


def load_index(path: Path = INDEX_FILE) -> DemoIndex:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    patients = tuple(
        DemoPatient(
            id=str(item["id"]),
            file=str(item["file"]),
            story=str(item["story"]),
            patient_view=tuple(str(rule) for rule in item.get("patient_view") or ()),
        )
        for item in raw["patients"]
    )
    shared = tuple(str(name) for name in raw.get("shared") or ())
    return DemoIndex(date.fromisoformat(str(raw["reference_date"])), patients, shared)


def date_shift(reference: date, today: date | None = None) -> timedelta:
    """How far the demo dates move: from the reference date to today (UTC)."""
    return (today or datetime.now(UTC).date()) - reference


def load_bundle(path: Path, shift: timedelta = timedelta(0)) -> dict[str, Any]:
    """Read a demo bundle and move every date in it by `shift`."""
    bundle: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return rebase_dates(bundle, shift) if shift else bundle


def rebase_dates(value: Any, shift: timedelta) -> Any:
    """A copy of `value` with every FHIR date/dateTime string moved by `shift` (time and zone kept).

    Birth dates move too, so ages (and with them creatinine clearance) stay what the story says.
    """
    if isinstance(value, dict):
        return {key: rebase_dates(item, shift) for key, item in value.items()}
    if isinstance(value, list):
        return [rebase_dates(item, shift) for item in value]
    if isinstance(value, str):
        match = _DATE.match(value)
        if match:
            try:
                moved = date.fromisoformat(match.group(1)) + shift
            except ValueError:
                return value
            return moved.isoformat() + (match.group(2) or "")
    return value


def demo_bundles(today: date | None = None) -> list[tuple[DemoPatient, dict[str, Any]]]:
    """Every demo patient with its bundle, dates rebased to `today`."""
    index = load_index()
    shift = date_shift(index.reference_date, today)
    return [(patient, load_bundle(patient.path, shift)) for patient in index.patients]


def shared_bundles(today: date | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The shared bundles by file name, to load before the patients: the SMART launcher's provider login
    needs a Practitioner to sign in as."""
    index = load_index()
    shift = date_shift(index.reference_date, today)
    return [(name, load_bundle(DEMO_DIR / name, shift)) for name in index.shared]


def prefetch_from_bundle(
    bundle: dict[str, Any], patient_id: str, templates: dict[str, str]
) -> dict[str, Any]:
    """The prefetch an EHR would send for these templates, filled from a patient's bundle.

    Each template names its resource type first (`Patient/{{context.patientId}}`, `Condition?patient=`):
    a read gets the resource itself (or null), a search a searchset Bundle of that type.
    """
    resources = bundle_resources(bundle)
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        resource_type = re.split(r"[/?]", template, maxsplit=1)[0]
        matching = [copy.deepcopy(r) for r in resources if r.get("resourceType") == resource_type]
        if "?" not in template:
            prefetch[key] = next((r for r in matching if r.get("id") == patient_id), None)
        else:
            prefetch[key] = {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(matching),
                "entry": [{"fullUrl": f"{r['resourceType']}/{r.get('id')}", "resource": r} for r in matching],
            }
    return prefetch


def patient_view_request(
    bundle: dict[str, Any], patient_id: str, templates: dict[str, str]
) -> dict[str, Any]:
    """A complete patient-view hook request with the bundle as prefetch (no FHIR server needed)."""
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/demo-clinician", "patientId": patient_id},
        "prefetch": prefetch_from_bundle(bundle, patient_id, templates),
    }


def patient_id_of(bundle: dict[str, Any]) -> str | None:
    """The id of the one Patient in a bundle (None when there is not exactly one)."""
    ids = [r.get("id") for r in bundle_resources(bundle) if r.get("resourceType") == "Patient"]
    return str(ids[0]) if len(ids) == 1 and ids[0] else None


def demo_patients_markdown(index: DemoIndex | None = None) -> str:
    """docs/demo-patients.md, generated from index.yaml so the two cannot drift."""
    index = index or load_index()
    lines = [
        "# Demo patients",
        "",
        "Generated from `cds_service/demo_patients/index.yaml` by",
        "`cds_service.demo_catalog.demo_patients_markdown()`; a test fails when this file and the index",
        "differ. Regenerate with",
        "`python -c 'from cds_service.demo_catalog import write_docs; write_docs()'`.",
        "",
        "Every patient is synthetic. `make run` and `bonemet-cds load-demo` move all dates so that the",
        f"newest events are a few days old (the bundles are written as of {index.reference_date}).",
        "",
        "| patient id | story | patient-view cards (rule IDs) |",
        "|---|---|---|",
    ]
    for patient in index.patients:
        cards = ", ".join(f"`{rule}`" for rule in patient.patient_view) or "no cards"
        lines.append(f"| `{patient.id}` | {patient.story} | {cards} |")
    return "\n".join(lines) + "\n"


def write_docs(path: Path = DOCS_FILE) -> None:
    path.write_text(demo_patients_markdown(), encoding="utf-8")
