"""Fixtures for card rendering: test templates, the shipped order catalog, drafted orders, response schema.

The templates under tests/cards/templates are examples of the format only (rule IDs EXAMPLE-*), so the
tests do not depend on the wording the rule engineers write for the catalog rules.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from cds_service.schemas import load_schema
from fhir_mappings.facts import Evidence
from hooks.cards import CardTemplate, load_card_templates, render_card
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.orders import OrderCatalog, load_order_catalog

TEMPLATE_DIR = Path(__file__).parent / "templates"
PATIENT_ID = "lung-42"
ZA_DRAFT_REF = "MedicationRequest/za-draft-1"
PROLIA_DRAFT_REF = "MedicationRequest/prolia-draft-1"


def zoledronic_acid_draft() -> dict[str, Any]:
    """A first dose of zoledronic acid drafted at 4 mg, as an EHR would send it in draftOrders."""
    return {
        "resourceType": "MedicationRequest",
        "id": "za-draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "77655",
                    "display": "zoledronic acid",
                }
            ],
            "text": "Zoledronic acid 4 mg/100 mL",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": "2026-11-23",
        "dosageInstruction": [
            {
                "sequence": 1,
                "text": "4 mg IV over 15 minutes every 4 weeks",
                "additionalInstruction": [{"text": "Check creatinine before each dose"}],
                "timing": {"repeat": {"frequency": 1, "period": 3, "periodUnit": "wk"}},
                "route": {"text": "IV"},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 4,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
                "maxDosePerAdministration": {"value": 4, "unit": "mg"},
            }
        ],
    }


def prolia_draft() -> dict[str, Any]:
    """Denosumab 60 mg (the osteoporosis product) drafted for a patient with bone metastasis."""
    return {
        "resourceType": "MedicationRequest",
        "id": "prolia-draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Prolia 60 mg/mL prefilled syringe"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "dosageInstruction": [
            {
                "text": "60 mg SC every 6 months",
                "doseAndRate": [{"doseQuantity": {"value": 60, "unit": "mg"}}],
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "mo"}},
            }
        ],
    }


@pytest.fixture(scope="session")
def templates() -> dict[str, CardTemplate]:
    return load_card_templates(TEMPLATE_DIR)


@pytest.fixture(scope="session")
def catalog() -> OrderCatalog:
    return load_order_catalog()


@pytest.fixture
def drafts() -> dict[str, dict[str, Any]]:
    return {ZA_DRAFT_REF: zoledronic_acid_draft(), PROLIA_DRAFT_REF: prolia_draft()}


@pytest.fixture(scope="session")
def response_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(load_schema("cds_response.schema.json"), validate_formats=True)


@pytest.fixture
def render(templates: dict[str, CardTemplate], catalog: OrderCatalog, drafts: dict[str, dict[str, Any]]):
    """Render a finding with the test templates, the shipped catalog and the drafted orders above."""

    def _render(finding: Finding, **kwargs: Any) -> dict[str, Any]:
        return render_card(
            finding,
            templates[finding.rule_id],
            patient_id=PATIENT_ID,
            draft_orders_by_ref=drafts,
            order_catalog=catalog,
            **kwargs,
        )

    return _render


def dose_finding(**changes: Any) -> Finding:
    """Zoledronic acid drafted at 4 mg with CrCl 38 mL/min: reduce to 3.0 mg (label table)."""
    base: dict[str, Any] = {
        "rule_id": "EXAMPLE-DOSE-CHECK",
        "indicator": "warning",
        "values": {"dose": "3.0", "crcl": "38", "drafted": "Zoledronic acid 4 mg/100 mL"},
        "evidence": (
            Evidence("Creatinine", "1.6 mg/dL", date(2026, 11, 20), "Observation/crea-1"),
            Evidence(
                "Body weight", "64 kg", date(2026, 11, 2), "Observation/weight-7", note="within 90 days"
            ),
            Evidence("Age", "71 years", None, "Patient/lung-42"),
        ),
        "suggestions": (
            SuggestionSpec(
                "Reduce zoledronic acid to 3.0 mg",
                (ActionSpec("update", order_key="zoledronic_acid_3mg", target=ZA_DRAFT_REF),),
                is_recommended=True,
            ),
        ),
        "selection_behavior": "at-most-one",
        "outside_sources": ("zoledronic acid label (renal dose table)",),
    }
    base.update(changes)
    return Finding(**base)
