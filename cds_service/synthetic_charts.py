"""Synthetic, valid FHIR R4 patients for the benchmark and the population generator: small, typical and
heavy charts. (Here rather than in `bench/` so `cds_service.population.generator` can build on them
without the service importing the benchmark; `bench.patients` re-exports them.)

Each patient is a woman with lung cancer and bone metastases (so the rules have something to decide) plus
ordinary comorbidities, laboratory history, imaging, medications and procedures. The Observations use
only the codes of the service's prefetch query, as an EHR answering that query would send, so every one
of them goes through the fact builders: this is the expensive shape, not a padded one. Content is
deterministic (seeded); dates count back from `anchor` so results are recent whenever the bench runs.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
HOOKS = ("patient-view", "order-select", "order-sign")
SERVICES = {
    "patient-view": "bonemet-patient-view",
    "order-select": "bonemet-order-select",
    "order-sign": "bonemet-order-sign",
}


@dataclass(frozen=True)
class ChartSize:
    conditions: int
    observations: int
    imaging: int
    medications: int
    procedures: int
    years: int


SIZES = {
    "small": ChartSize(conditions=3, observations=20, imaging=1, medications=2, procedures=0, years=1),
    "typical": ChartSize(conditions=10, observations=200, imaging=5, medications=15, procedures=5, years=2),
    "heavy": ChartSize(conditions=30, observations=2000, imaging=40, medications=100, procedures=50, years=5),
}

# (code, display, unit, low, high, category): the analytes of the prefetch query, with plausible values.
LABS = [
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 8.6, 10.3, "laboratory"),
    ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", 3.5, 5.0, "laboratory"),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.1, "laboratory"),
    ("62238-1", "GFR/1.73 sq M.predicted [CKD-EPI]", "mL/min/{1.73_m2}", 60.0, 120.0, "laboratory"),
    (
        "6768-6",
        "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
        "U/L",
        40,
        130,
        "laboratory",
    ),
    ("2777-1", "Phosphate [Mass/volume] in Serum or Plasma", "mg/dL", 2.5, 4.5, "laboratory"),
    ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 1.7, 2.2, "laboratory"),
    (
        "62292-8",
        "25-Hydroxyvitamin D2+D3 [Mass/volume] in Serum or Plasma",
        "ng/mL",
        30.0,
        100.0,
        "laboratory",
    ),
    ("29463-7", "Body weight", "kg", 55.0, 75.0, "vital-signs"),
]
COMORBIDITIES = [
    ("I10", "Essential (primary) hypertension"),
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("I48.91", "Unspecified atrial fibrillation"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("F32.9", "Major depressive disorder, single episode, unspecified"),
    ("G47.33", "Obstructive sleep apnea"),
    ("M19.90", "Unspecified osteoarthritis, unspecified site"),
    ("D63.0", "Anemia in neoplastic disease"),
]
# (RxNorm code, display, dose mg or None, period in weeks or None)
DRUGS = [
    ("1657746", "pembrolizumab 25 MG/ML Injectable Solution", 200, 3),
    ("318076", "calcium carbonate 500 MG Oral Tablet", 500, None),
    ("315659", "cholecalciferol 400 UNT", None, None),
    ("17767", "amlodipine 5 MG Oral Tablet", 5, None),
    ("6809", "metformin hydrochloride 500 MG Oral Tablet", 500, None),
    ("83367", "atorvastatin 20 MG Oral Tablet", 20, None),
    ("26225", "ondansetron 8 MG Oral Tablet", 8, None),
    ("40048", "carboplatin 10 MG/ML Injectable Solution", 450, 3),
]
# (SNOMED code, display)
PROCEDURES = [
    ("34043003", "Dental consultation and report"),
    ("108290001", "Radiation oncology AND/OR radiotherapy"),
    ("71651007", "Mammography"),
    ("73761001", "Colonoscopy"),
    ("16310003", "Ultrasonography of abdomen"),
]
# (modality, body site SNOMED code, body site display, description)
STUDIES = [
    ("NM", "421060004", "Spinal structure", "Whole body bone scan"),
    ("CT", "51185008", "Thoracic structure", "CT chest with contrast"),
    ("MR", "421060004", "Spinal structure", "MRI spine"),
    ("PT", "38266002", "Entire body as a whole", "FDG PET-CT"),
]


def patient_resources(size: str, anchor: datetime, patient_id: str = "bench-patient") -> dict[str, Any]:
    """The prefetch of one synthetic patient (CDS Hooks prefetch keys to resources or Bundles)."""
    chart = SIZES[size]
    rng = random.Random(f"{size}-{patient_id}")  # noqa: S311 - synthetic data, reproducible by design
    subject = {"reference": f"Patient/{patient_id}"}
    return {
        "patient": _patient(patient_id),
        "conditions": _bundle(_conditions(chart, rng, subject, anchor)),
        "observations": _bundle(_observations(chart, rng, subject, anchor)),
        "imaging": _bundle(_studies(chart, rng, subject, anchor)),
        "imagingReports": _bundle([]),
        "medications": _bundle(_medications(chart, rng, subject, anchor)),
        "procedures": _bundle(_procedures(chart, rng, subject, anchor)),
        "serviceRequests": _bundle([]),
        "encounters": _bundle([]),
    }


def hook_request(
    hook: str, prefetch: dict[str, Any] | None, patient_id: str = "bench-patient"
) -> dict[str, Any]:
    """A CDS Hooks 2.0 request; order hooks draft zoledronic acid so the order rules run."""
    context: dict[str, Any] = {"userId": "Practitioner/bench-oncologist", "patientId": patient_id}
    if hook != "patient-view":
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": _draft(patient_id)}],
        }
    if hook == "order-select":
        context["selections"] = ["MedicationRequest/draft-za"]
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def all_resources(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of a prefetch, for validation."""
    found: list[dict[str, Any]] = []
    for value in prefetch.values():
        if value.get("resourceType") == "Bundle":
            found += [entry["resource"] for entry in value["entry"]]
        else:
            found.append(value)
    return found


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, r['resourceType'] + r['id'])}",
                "resource": r,
            }
            for r in resources
        ],
    }


def _concept(system: str, code: str, shown: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": shown}], "text": shown}


def _day(anchor: datetime, days_ago: float) -> str:
    return (anchor - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def _instant(anchor: datetime, days_ago: float) -> str:
    return (anchor - timedelta(days=days_ago)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _patient(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"lastUpdated": "2026-01-05T10:00:00Z"},
        "active": True,
        "gender": "female",
        "birthDate": "1958-04-02",
    }


def _condition(cid: str, subject: dict[str, Any], code: str, shown: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": _concept(ICD10CM, code, shown),
        "subject": subject,
        "onsetDateTime": onset,
        "recordedDate": onset,
    }


def _conditions(
    chart: ChartSize, rng: random.Random, subject: dict[str, Any], anchor: datetime
) -> list[dict[str, Any]]:
    found = [
        _condition(
            "lung-cancer",
            subject,
            "C34.11",
            "Malignant neoplasm of upper lobe, right bronchus or lung",
            _day(anchor, 400),
        ),
        _condition(
            "bone-metastasis", subject, "C79.51", "Secondary malignant neoplasm of bone", _day(anchor, 120)
        ),
    ]
    for index in range(chart.conditions - len(found)):
        code, shown = COMORBIDITIES[index % len(COMORBIDITIES)]
        found.append(
            _condition(f"comorbidity-{index}", subject, code, shown, _day(anchor, rng.uniform(200, 3000)))
        )
    return found


def _observations(
    chart: ChartSize, rng: random.Random, subject: dict[str, Any], anchor: datetime
) -> list[dict[str, Any]]:
    span = chart.years * 365.0
    found = []
    for index in range(chart.observations):
        code, shown, unit, low, high, category = LABS[index % len(LABS)]
        days_ago = 1 + span * index / chart.observations
        value = round(rng.uniform(low, high), 2)
        found.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{index}",
                "status": "final",
                "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
                "code": _concept(LOINC, code, shown),
                "subject": subject,
                "effectiveDateTime": _instant(anchor, days_ago),
                "issued": _instant(anchor, days_ago - 0.1),
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
                "referenceRange": [
                    {
                        "low": {"value": low, "unit": unit, "system": UCUM, "code": unit},
                        "high": {"value": high, "unit": unit, "system": UCUM, "code": unit},
                    }
                ],
            }
        )
    return found


def _studies(
    chart: ChartSize, rng: random.Random, subject: dict[str, Any], anchor: datetime
) -> list[dict[str, Any]]:
    found = []
    for index in range(chart.imaging):
        modality, site, site_shown, description = STUDIES[index % len(STUDIES)]
        modality_coding = {"system": DICOM, "code": modality}
        found.append(
            {
                "resourceType": "ImagingStudy",
                "id": f"study-{index}",
                "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:2.25.{1000 + index}"}],
                "status": "available",
                "modality": [modality_coding],
                "subject": subject,
                "started": _instant(anchor, 30 + chart.years * 365.0 * index / max(chart.imaging, 1)),
                "numberOfSeries": 1,
                "numberOfInstances": rng.randint(50, 400),
                "description": description,
                "series": [
                    {
                        "uid": f"2.25.{2000 + index}",
                        "number": 1,
                        "modality": modality_coding,
                        "bodySite": {"system": SNOMED, "code": site, "display": site_shown},
                        "numberOfInstances": 100,
                    }
                ],
            }
        )
    return found


def medication_request(
    mid: str, subject: dict[str, Any], drug: tuple[Any, ...], start: str, status: str
) -> dict[str, Any]:
    code, shown, dose, period_weeks = drug
    dosage: dict[str, Any] = {"text": shown, "timing": {"repeat": {"boundsPeriod": {"start": start}}}}
    repeat = dosage["timing"]["repeat"]
    repeat.update({"frequency": 1, "period": period_weeks or 1, "periodUnit": "wk" if period_weeks else "d"})
    if dose is not None:
        dosage["doseAndRate"] = [
            {"doseQuantity": {"value": dose, "unit": "mg", "system": UCUM, "code": "mg"}}
        ]
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": _concept(RXNORM, code, shown),
        "subject": subject,
        "authoredOn": start,
        "requester": {"reference": "Practitioner/bench-oncologist"},
        "dosageInstruction": [dosage],
    }


def _medications(
    chart: ChartSize, rng: random.Random, subject: dict[str, Any], anchor: datetime
) -> list[dict[str, Any]]:
    found = []
    for index in range(chart.medications):
        days_ago = rng.uniform(1, chart.years * 365.0)
        status = "active" if days_ago < 90 else "completed"
        found.append(
            medication_request(
                f"med-{index}", subject, DRUGS[index % len(DRUGS)], _day(anchor, days_ago), status
            )
        )
    return found


def _procedures(
    chart: ChartSize, rng: random.Random, subject: dict[str, Any], anchor: datetime
) -> list[dict[str, Any]]:
    found = []
    for index in range(chart.procedures):
        code, shown = PROCEDURES[index % len(PROCEDURES)]
        found.append(
            {
                "resourceType": "Procedure",
                "id": f"proc-{index}",
                "status": "completed",
                "code": _concept(SNOMED, code, shown),
                "subject": subject,
                "performedDateTime": _day(anchor, rng.uniform(10, chart.years * 365.0)),
            }
        )
    return found


def _draft(patient_id: str) -> dict[str, Any]:
    """A draft order for zoledronic acid 4 mg every 4 weeks (the common BMA start)."""
    request = medication_request(
        "draft-za",
        {"reference": f"Patient/{patient_id}"},
        ("77655", "zoledronic acid 4 MG in 100 ML Injection", 4, 4),
        datetime.now(UTC).strftime("%Y-%m-%d"),
        "draft",
    )
    request["intent"] = "proposal"
    return request
