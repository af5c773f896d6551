"""The Patient resource to age and sex. Names, identifiers and the birth date itself never leave here."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_mappings.facts import PatientFact
from fhir_mappings.fhir_values import parse_date


def build_patient(patient_id: str, resource: dict[str, Any] | None, today: date) -> PatientFact:
    resource = resource or {}
    born = parse_date(resource.get("birthDate"))
    age = None
    if born is not None and born <= today:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    gender = resource.get("gender")
    sex = gender if gender in ("male", "female") else None
    return PatientFact(f"Patient/{patient_id}", age, sex)
