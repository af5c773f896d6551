"""An order that names its drug only through `medicationReference` to a Medication on the FHIR server is
read like any other (RULES.md 7.1.3), using the service's own medications query against the real server.

The query `_include`s the referenced Medications; the server answers them as `search.mode = include`
entries beside the orders. This test reads the server's answer into facts directly; the HTTP path through
`cds_service.fhir_client` must keep those include entries (see the note in the test below).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from cds_service.prefetch import render_template
from fhir_mappings.build_facts import build_facts
from fhir_mappings.codesets import load_codesets
from fhir_mappings.prefetch_queries import prefetch_templates
from fhir_mappings.thresholds import Thresholds
from tests.fhir_server_mode.chart import RXNORM, new_patient_id, transaction

CODES = load_codesets()
UCUM = "http://unitsofmeasure.org"


def referencing_order(pid: str, rid: str, medication_id: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationReference": {"reference": f"Medication/{medication_id}"},
        "authoredOn": datetime.now(UTC).date().isoformat(),
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}},
                "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "mg", "system": UCUM, "code": "mg"}}],
            }
        ],
    }


def test_a_medication_on_the_server_is_read_through_the_medications_query(fhir_server):
    pid = new_patient_id()
    scd = {
        "resourceType": "Medication",
        "id": f"{pid}-za",
        "code": {"coding": [{"system": RXNORM, "code": "351114"}]},
    }
    local = {
        "resourceType": "Medication",
        "id": f"{pid}-local",
        "code": {
            "coding": [{"system": "urn:hospital:drug", "code": "YP0042"}],
            "text": "Zoledronic acid 4 mg",
        },
        "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "77655"}]}}],
    }
    fhir_server.load(
        transaction(
            [
                {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1958-04-02"},
                scd,
                local,
                referencing_order(pid, f"{pid}-mr1", scd["id"]),
                referencing_order(pid, f"{pid}-mr2", local["id"]),
            ]
        )
    )
    query = render_template(prefetch_templates(CODES)["medications"], {"patientId": pid})
    answer = fhir_server.request("GET", query)

    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in answer["entry"]}
    # cds_service.fhir_client must accept these include entries (a searchset whose extra resource type is
    # marked `include`); until it does, a server-mode medications query with references fails loudly.
    assert modes == {("MedicationRequest", "match"), ("Medication", "include")}

    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in answer["entry"]:
        by_type[entry["resource"]["resourceType"]].append(entry["resource"])
    facts = build_facts(
        pid,
        {"Patient": [{"resourceType": "Patient", "id": pid}], **by_type},
        hook="patient-view",
        now=datetime.now(UTC),
        draft_orders=None,
        codesets=CODES,
        thresholds=Thresholds.load(),
    )
    read = sorted((m.reference, m.agent, m.regimen, m.product) for m in facts.medications)
    assert read == [
        (f"MedicationRequest/{pid}-mr1", "zoledronic_acid", "oncology", "zometa"),
        (f"MedicationRequest/{pid}-mr2", "zoledronic_acid", "oncology", None),
    ]
