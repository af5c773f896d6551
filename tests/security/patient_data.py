"""Requests full of identifying data, and the strings that must never leave the request again.

The patient has a name, a medical record number, a birth date, an address and a phone number; the call
carries a FHIR access token. Tests assert that none of PATIENT_STRINGS (nor the token) shows up in an
error body or in any log line.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.http.requests_factory import PATIENT_ID, hook_request

PATIENT = "pt-58q7z3-zhang"
FAMILY, GIVEN = "Zhangsanfeng", "Weiminglan"
MRN = "MRN-5550123987"
BIRTH_DATE = "1957-08-19"
PHONE = "+86-21-5550-8812"
STREET = "88 Xiangyang Road"
ACCESS_TOKEN = "ya29.fhir-access-token-SECRET-0d9f8e7c6b5a4"
FHIR_SERVER = "https://fhir.bonemet-test.org/r4"
COMMENT = f"{GIVEN} {FAMILY} declined the infusion"

PATIENT_STRINGS = (PATIENT, FAMILY, GIVEN, MRN, BIRTH_DATE, PHONE, STREET, ACCESS_TOKEN, COMMENT)


def _identified_patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PATIENT,
        "identifier": [{"system": "urn:oid:1.2.156.112604.1.1", "value": MRN}],
        "name": [{"family": FAMILY, "given": [GIVEN], "text": f"{GIVEN} {FAMILY}"}],
        "gender": "male",
        "birthDate": BIRTH_DATE,
        "telecom": [{"system": "phone", "value": PHONE}],
        "address": [{"line": [STREET], "city": "Shanghai"}],
    }


def high_calcium() -> dict[str, Any]:
    """A recent total calcium of 12.4 mg/dL: HYPERCALCEMIA fires, so every call has at least one card."""
    return {
        "resourceType": "Observation",
        "id": "calcium-1",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}", "display": f"{GIVEN} {FAMILY}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "17861-6"}]},
        "effectiveDateTime": (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds"),
        "valueQuantity": {
            "value": 12.4,
            "unit": "mg/dL",
            "system": "http://unitsofmeasure.org",
            "code": "mg/dL",
        },
    }


def identified_hook_request(hook: str = "patient-view", **overrides: Any) -> dict[str, Any]:
    """A valid hook request about PATIENT, with fhirServer and an access token, all prefetch present."""
    body = json.loads(json.dumps(hook_request(hook)).replace(PATIENT_ID, PATIENT))
    body["prefetch"]["patient"] = _identified_patient()
    body["prefetch"]["observations"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": high_calcium()}],
    }
    body["fhirServer"] = FHIR_SERVER
    body["fhirAuthorization"] = {
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Patient.read patient/Observation.read patient/Condition.read",
        "subject": "bonemet-cds",
    }
    body.update(overrides)
    return body


def feedback_request(card_uuid: str | None = None) -> dict[str, Any]:
    """One overridden card with a free-text comment naming the patient."""
    return {
        "feedback": [
            {
                "card": card_uuid or str(uuid.uuid4()),
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "system": "https://bonemet-cds.org/fhir/CodeSystem/override-reason",
                        "code": "patient-declined",
                    },
                    "userComment": COMMENT,
                },
                "outcomeTimestamp": "2026-11-23T10:00:00Z",
            }
        ]
    }
