"""docs/demo-patients.md is generated from index.yaml: it must not drift from it."""

from __future__ import annotations

from cds_service.demo_catalog import DOCS_FILE, demo_patients_markdown
from tests.demo.helpers import INDEX


def test_docs_file_matches_the_index():
    assert DOCS_FILE.read_text(encoding="utf-8") == demo_patients_markdown(), (
        "regenerate: python -c 'from cds_service.demo_catalog import write_docs; write_docs()'"
    )


def test_every_patient_and_expected_rule_is_in_the_docs():
    text = demo_patients_markdown()
    for patient in INDEX.patients:
        line = next(line for line in text.splitlines() if f"`{patient.id}`" in line)
        assert all(f"`{rule}`" in line for rule in patient.patient_view)
        assert patient.patient_view or "no cards" in line
