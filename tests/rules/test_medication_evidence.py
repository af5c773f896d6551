"""How an order reads on a card: the drug's name, its dose and interval as a prescriber writes them, and
its regimen whenever it is a bone-modifying agent (RULES.md 7.1.5: a card relying on an unread regimen
says so). Never an internal class name, never "every 1 days", never "dose not stated" for an IU dose.
"""

from __future__ import annotations

from datetime import date

import pytest

from fhir_mappings.facts import MedicationFact
from hooks.rules._shared import interval_text, medication_evidence


def order(
    display: str = "Xgeva",
    *,
    agent: str = "denosumab",
    agent_class: str = "bma",
    dose_mg: float | None = 120,
    interval_days: float | None = 28,
    regimen: str | None = "oncology",
    dose_iu: float | None = None,
    draft: bool = False,
) -> MedicationFact:
    return MedicationFact(
        agent,
        agent_class,
        None,
        "draft" if draft else "active",
        "order",
        date(2026, 10, 1),
        date(2026, 10, 2),
        dose_mg,
        interval_days,
        "MedicationRequest/m1",
        display,
        is_draft=draft,
        regimen=regimen,  # type: ignore[arg-type]
        dose_iu=dose_iu,
    )


def test_an_oncology_order_reads_as_written():
    evidence = medication_evidence(order())
    assert evidence.value == "Xgeva, 120 mg, every 4 weeks, oncology regimen (active)"
    assert (evidence.label, evidence.when, evidence.reference) == (
        "Medication order",
        date(2026, 10, 2),
        "MedicationRequest/m1",
    )


def test_an_osteoporosis_order_says_so():
    evidence = medication_evidence(order("Prolia", dose_mg=60, interval_days=182.621, regimen="osteoporosis"))
    assert evidence.value == "Prolia, 60 mg, every 6 months, osteoporosis regimen (active)"


def test_an_unread_regimen_is_said_aloud():
    evidence = medication_evidence(order("denosumab", dose_mg=None, interval_days=None, regimen="unknown"))
    assert evidence.value == "denosumab, dose not stated, regimen could not be read (active)"


def test_a_supplement_has_no_regimen_and_an_iu_dose_is_shown():
    evidence = medication_evidence(
        order(
            "cholecalciferol",
            agent="vitamin_d",
            agent_class="supplement",
            dose_mg=None,
            dose_iu=400,
            interval_days=1,
            regimen=None,
        )
    )
    assert evidence.value == "cholecalciferol, 400 IU, daily (active)"
    assert "regimen" not in evidence.value and "vitamin_d" not in evidence.value


def test_a_draft_is_labelled_as_such():
    assert medication_evidence(order(draft=True)).label == "Drafted order"


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (1, "daily"),
        (7, "weekly"),
        (21, "every 3 weeks"),
        (28, "every 4 weeks"),
        (84, "every 12 weeks"),
        (30.437, "monthly"),
        (91.311, "every 3 months"),
        (182.621, "every 6 months"),
        (365.25, "yearly"),
        (730.5, "every 2 years"),
        (0.5, "2 times a day"),
        (0.333, "3 times a day"),
        (30, "every 30 days"),
        (3, "every 3 days"),
        (None, ""),
    ],
)
def test_intervals_read_as_a_prescriber_writes_them(days, text):
    assert interval_text(days) == text
