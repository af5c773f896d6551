"""Revision 2 from raw FHIR (RULES.md 7.2.11-13): dialysis codes, baseline clearance, the current course."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from fhir_mappings.creatinine_clearance import clearance_at
from hooks.rules._course import current_course
from tests.fhir_server_mode.chart import zoledronic_acid
from tests.mappings.fhir_builders import ICD10, PID, condition, observation
from tests.mappings.test_units_and_calculators import NOW, T, facts_of

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def test_dialysis_dependence_icd10cm_is_read_as_dialysis():
    facts = facts_of(condition("C34.90"), condition("Z99.2"))
    assert [c.category for c in facts.conditions_in("dialysis")] == ["dialysis"]


def test_who_z99_2_is_not_shipped_until_a_source_confirms_it():
    """WHO ICD-10 Z99.2 was not confirmed from a citable source: not a default code (site-mappable)."""
    assert facts_of(condition("Z99.2", ICD10)).conditions_in("dialysis") == ()


def test_baseline_clearance_uses_the_weight_nearest_that_creatinine_and_the_age_then():
    """Woman born 1956-03-15: creatinine 0.9 mg/dL on 2025-11-01 (aged 69) with 60 kg on 2025-10-20:
    (140 - 69) x 60 / (72 x 0.9) x 0.85 = 55.9 mL/min."""
    creat = observation("2160-0", 0.9, "mg/dL", when="2025-11-01")
    facts = facts_of(
        creat, observation("29463-7", 60, "kg", when="2025-10-20"), observation("29463-7", 80, "kg")
    )
    baseline = next(r for r in facts.labs["creatinine"] if r.day == date(2025, 11, 1))
    clearance = clearance_at(facts.patient, baseline, facts.labs, NOW.date(), T)
    assert clearance.value_ml_min == pytest.approx(55.9, abs=0.1)


def test_baseline_clearance_without_a_weight_near_it_names_what_is_missing():
    creat = observation("2160-0", 0.9, "mg/dL", when="2025-06-01")
    facts = facts_of(creat, observation("29463-7", 60, "kg"))
    clearance = clearance_at(facts.patient, facts.labs["creatinine"][0], facts.labs, NOW.date(), T)
    assert clearance.value_ml_min is None and any("weight" in m for m in clearance.missing)


def _za(rid: str, start: str, *, status: str = "active", end: str | None = None) -> dict:
    order = copy.deepcopy(zoledronic_acid(PID, rid))
    order["status"] = status
    order["authoredOn"] = start
    repeat = order["dosageInstruction"][0]["timing"]["repeat"]
    repeat["boundsPeriod"] = {"start": start, **({"end": end} if end else {})}
    return order


def _xgeva(rid: str, start: str) -> dict:
    order = copy.deepcopy(zoledronic_acid(PID, rid))
    order["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": "1046398"}],
        "text": "denosumab 120 MG in 1.7 ML Injection [Xgeva]",
    }
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 120
    order["authoredOn"] = start
    return order


def test_a_stated_end_chains_a_switch_into_one_course():
    """Zoledronic acid 2024-09-01 to 2025-12-01 (boundsPeriod.end), denosumab from 2026-01-15: one course."""
    facts = facts_of(
        condition("C34.90"),
        _za("za", "2024-09-01", status="stopped", end="2025-12-01"),
        _xgeva("x", "2026-01-15"),
    )
    course = current_course(facts, T)
    assert course is not None and course.is_active and course.first_dose == date(2024, 9, 1)


def test_a_stated_end_long_ago_leaves_the_restart_on_its_own():
    facts = facts_of(
        condition("C34.90"),
        _za("za", "2023-01-01", status="stopped", end="2024-06-01"),
        _xgeva("x", "2026-01-15"),
    )
    assert current_course(facts, T).first_dose == date(2026, 1, 15)
