"""Valid request bodies, one per hook and per feedback outcome; tests copy them and break one field."""

from __future__ import annotations

import copy
from typing import Any

HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
CARD_UUID = "4e0a3a1e-3283-4575-ab82-028d55fe2719"
SUGGESTION_UUID = "e56e1945-20b3-4393-8503-a1a20fd73152"

_DRAFT_ORDERS = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "zoledronic-1",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/lung-42"},
            }
        }
    ],
}

_BODIES: dict[str, dict[str, Any]] = {
    # The shape of the CDS Hooks 2.0 "Calling a CDS Service" example, with a null prefetch value.
    "patient-view": {
        "hookInstance": HOOK_INSTANCE,
        "fhirServer": "https://ehr.example.org/fhir",
        "hook": "patient-view",
        "fhirAuthorization": {
            "access_token": "some-opaque-fhir-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/Observation.read",
            "subject": "cds-service4",
        },
        "context": {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284"},
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "id": "1288992",
                "gender": "male",
                "birthDate": "1925-12-23",
            },
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
            "boneScans": None,
        },
    },
    "order-select": {
        "hookInstance": HOOK_INSTANCE,
        "hook": "order-select",
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": "lung-42",
            "selections": ["MedicationRequest/zoledronic-1"],
            "draftOrders": _DRAFT_ORDERS,
        },
    },
    "order-sign": {
        "hookInstance": HOOK_INSTANCE,
        "hook": "order-sign",
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {"userId": "Practitioner/abc", "patientId": "lung-42", "draftOrders": _DRAFT_ORDERS},
    },
}

_FEEDBACK: dict[str, dict[str, Any]] = {
    "accepted": {
        "card": CARD_UUID,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": SUGGESTION_UUID}],
        "outcomeTimestamp": "2021-12-11T10:05:31Z",
    },
    "overridden": {
        "card": CARD_UUID,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {
                "code": "already-treated",
                "system": "https://bonemet-cds.org/fhir/CodeSystem/override",
            },
            "userComment": "A comment entered by the clinician.",
        },
        "outcomeTimestamp": "2020-12-11T00:00:00.52+08:00",
    },
    "overridden-without-reason": {
        "card": CARD_UUID,
        "outcome": "overridden",
        "outcomeTimestamp": "2020-12-11T00:00:00Z",
    },
}


def hook_body(hook: str) -> dict[str, Any]:
    return copy.deepcopy(_BODIES[hook])


def feedback_body(*outcomes: str) -> dict[str, Any]:
    return {"feedback": [copy.deepcopy(_FEEDBACK[outcome]) for outcome in outcomes or ("accepted",)]}
