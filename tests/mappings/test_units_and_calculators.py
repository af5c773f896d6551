"""Units are converted before any comparison; the calculators give the same answer in either unit system."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fhir_mappings.build_facts import build_facts
from fhir_mappings.codesets import load_codesets
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import UnitError, display_unit, to_canonical, value_with_unit
from tests.mappings.fhir_builders import ICD10, PID, chart, condition, observation, patient

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CODES = load_codesets()
T = Thresholds.load()
MOLAR_MASS = {"calcium": 40.078, "creatinine": 113.12, "phosphorus": 30.974, "magnesium": 24.305}


def facts_of(*resources):
    return build_facts(
        PID,
        chart(patient(), *resources),
        hook="patient-view",
        now=NOW,
        draft_orders=None,
        codesets=CODES,
        thresholds=T,
    )


@pytest.mark.parametrize(
    "analyte,unit,mass,divisor",
    [
        ("calcium_total", "mmol/L", MOLAR_MASS["calcium"], 10),
        ("creatinine", "umol/L", MOLAR_MASS["creatinine"], 10_000),
        ("phosphate", "mmol/L", MOLAR_MASS["phosphorus"], 10),
        ("magnesium", "mmol/L", MOLAR_MASS["magnesium"], 10),
    ],
)
def test_molar_factors_follow_the_molar_masses(analyte, unit, mass, divisor):
    scale = 200.0 if analyte == "creatinine" else 2.0
    """1 mmol/L of calcium is 40.08 mg/L = 4.008 mg/dL; 1 umol/L creatinine is 0.0113 mg/dL (so 2 umol/L,
    too low to be real, is checked as 200). The table's factors agree with the molar masses within 0.2%."""
    assert to_canonical(analyte, scale, unit) == pytest.approx(scale * mass / divisor, rel=2e-3)


def test_unknown_unit_and_absurd_values_are_refused_with_a_reason():
    with pytest.raises(UnitError, match="not recognised"):
        to_canonical("calcium_total", 9.0, "furlongs")
    for value in (1e308, -5.0, float("nan")):
        with pytest.raises(UnitError):
            to_canonical("calcium_total", value, "mg/dL")


@settings(max_examples=60, deadline=None)
@given(calcium_mg_dl=st.floats(6.0, 15.0), albumin_g_dl=st.floats(2.0, 5.0))
def test_corrected_calcium_is_the_same_in_both_unit_systems(calcium_mg_dl, albumin_g_dl):
    """Payne in mg/dL and in mmol/L (with g/L albumin) agree within 0.5% once converted."""
    us = facts_of(observation("17861-6", calcium_mg_dl, "mg/dL"), observation("1751-7", albumin_g_dl, "g/dL"))
    cn = facts_of(
        observation("2000-8", calcium_mg_dl / 4.008, "mmol/L"),
        observation("1751-7", albumin_g_dl * 10, "g/L"),
    )
    assert us.calcium.basis == cn.calcium.basis == "albumin-corrected"
    assert cn.calcium.unit == "mmol/L" and us.calcium.unit == "mg/dL"
    assert cn.calcium.value_mg_dl == pytest.approx(us.calcium.value_mg_dl, rel=5e-3)


@settings(max_examples=60, deadline=None)
@given(creatinine_mg_dl=st.floats(0.4, 8.0), weight_kg=st.floats(35, 150))
def test_creatinine_clearance_does_not_depend_on_the_creatinine_unit(creatinine_mg_dl, weight_kg):
    weight = observation("29463-7", weight_kg, "kg")
    us = facts_of(observation("2160-0", creatinine_mg_dl, "mg/dL"), weight)
    cn = facts_of(observation("14682-9", creatinine_mg_dl * 88.4, "umol/L"), weight)
    assert cn.crcl.value_ml_min == pytest.approx(us.crcl.value_ml_min, rel=5e-3)


def test_cockcroft_gault_worked_example():
    """Woman aged 70, 60 kg, creatinine 1.2 mg/dL: (140-70) x 60 / (72 x 1.2) x 0.85 = 41.3 mL/min."""
    facts = facts_of(observation("2160-0", 1.2, "mg/dL"), observation("29463-7", 60, "kg"))
    assert facts.patient.age_years == 70
    assert facts.crcl.value_ml_min == pytest.approx(41.3, abs=0.1)


def test_cockcroft_gault_names_what_is_missing_and_never_uses_egfr():
    facts = facts_of(observation("2160-0", 1.2, "mg/dL"), observation("62238-1", 55, "mL/min/{1.73_m2}"))
    assert facts.crcl.value_ml_min is None
    assert any("weight" in m for m in facts.crcl.missing)


def test_corrected_calcium_worked_example_and_low_status():
    """Ca 7.6 mg/dL with albumin 2.5 g/dL: 7.6 + 0.8 x (4.0 - 2.5) = 8.8 mg/dL, normal (8.5-10.5)."""
    facts = facts_of(observation("17861-6", 7.6, "mg/dL"), observation("1751-7", 2.5, "g/dL"))
    assert facts.calcium.value == pytest.approx(8.8)
    assert facts.calcium.status == "normal"
    low = facts_of(observation("17861-6", 7.6, "mg/dL"))
    assert low.calcium.basis == "total-uncorrected" and low.calcium.status == "low"


def test_hypercalcemia_grades_in_the_reported_unit():
    """CTCAE v5: 13.0 mg/dL is grade 3 (> 12.5); 3.2 mmol/L is grade 3 (> 3.1); 2.7 mmol/L is grade 1."""
    assert facts_of(observation("17861-6", 13.0, "mg/dL")).calcium.hypercalcemia_grade == 3
    assert facts_of(observation("2000-8", 3.2, "mmol/L")).calcium.hypercalcemia_grade == 3
    assert facts_of(observation("2000-8", 2.7, "mmol/L")).calcium.hypercalcemia_grade == 1


def test_newer_ionized_calcium_takes_precedence():
    facts = facts_of(
        observation("17861-6", 9.5, "mg/dL", when="2026-11-10"),
        observation("1994-3", 0.85, "mmol/L", when="2026-11-20"),
    )
    assert facts.calcium.basis == "ionized" and facts.calcium.hypocalcemia_critical


def test_reference_range_from_the_laboratory_is_used_and_converted():
    facts = facts_of(observation("2000-8", 2.15, "mmol/L", low=2.2, high=2.65))
    assert facts.calcium.status == "low" and facts.calcium.low_limit == pytest.approx(2.2)


def test_same_patient_in_chinese_and_us_units_and_codes_gets_equal_facts():
    cn = facts_of(
        condition("C34.1", ICD10),
        condition("C79.5", ICD10),
        observation("2000-8", 2.05, "mmol/L"),
        observation("1751-7", 38, "g/L"),
        observation("14682-9", 110, "umol/L"),
        observation("29463-7", 58, "kg"),
    )
    us = facts_of(
        condition("C34.90"),
        condition("C79.51"),
        observation("17861-6", 8.22, "mg/dL"),
        observation("1751-7", 3.8, "g/dL"),
        observation("2160-0", 1.244, "mg/dL"),
        observation("29463-7", 58, "kg"),
    )
    assert (
        {c.category for c in cn.conditions}
        == {c.category for c in us.conditions}
        == {"lung_cancer", "bone_metastasis"}
    )
    assert cn.calcium.status == us.calcium.status == "low"
    assert cn.crcl.value_ml_min == pytest.approx(us.crcl.value_ml_min, rel=5e-3)


@pytest.mark.parametrize(
    ("unit", "shown"),
    [("{score}", ""), ("mg/dL", "mg/dL"), ("mL/min/{1.73_m2}", "mL/min/1.73 m\u00b2"), ("1", ""), ("", "")],
)
def test_a_unit_is_shown_without_ucum_annotations(unit, shown):
    """ "5 {score}" reads "5": UCUM annotations are for machines (issue 12)."""
    assert display_unit(unit) == shown
    assert value_with_unit("5", unit) == ("5 " + shown if shown else "5")


def test_crcl_evidence_names_the_results_it_was_calculated_from():
    creatinine, weight = observation("2160-0", 1.2, "mg/dL"), observation("29463-7", 60, "kg")
    crcl = facts_of(creatinine, weight).crcl.evidence[-1]
    assert crcl.reference is None
    assert crcl.calculated_from == (f"Observation/{creatinine['id']}", f"Observation/{weight['id']}")


def test_the_corrected_calcium_names_its_albumin_with_its_day_when_another_day():
    calcium = observation("17861-6", 7.6, "mg/dL")
    same_day = facts_of(calcium, albumin := observation("1751-7", 2.5, "g/dL")).calcium.evidence[0]
    assert same_day.note == "corrected for albumin 2.5 g/dL: 8.8 mg/dL"
    assert same_day.calculated_from == (f"Observation/{albumin['id']}",)
    earlier = observation("1751-7", 2.5, "g/dL", when="2026-11-18")
    other_day = facts_of(calcium, earlier).calcium.evidence[0]
    assert other_day.note == "corrected for albumin 2.5 g/dL on 2026-11-18: 8.8 mg/dL"
