"""Revision 2 (RULES.md 7.1.8, 7.1.9): results that contradict their own code, and which calcium counts."""

from __future__ import annotations

import pytest

from fhir_mappings.units import UnitError, check_property, to_canonical
from tests.mappings.fhir_builders import observation
from tests.mappings.test_units_and_calculators import facts_of


def test_molar_calcium_code_with_a_mass_unit_is_unusable():
    """LOINC 2000-8 (moles/volume) with "2.3 mg/dL": the result contradicts its code and is not used."""
    facts = facts_of(observation("2000-8", 2.3, "mg/dL"))
    assert facts.calcium is None
    [issue] = facts.issues_for("calcium_total")
    assert "contradicts its own code" in issue.reason and "2000-8" in issue.reason
    assert issue.reported == "2.3 mg/dL"


def test_mass_code_with_a_molar_unit_is_unusable_and_the_older_result_is_used():
    """17861-6 (mass/volume) sent as "2.3 mmol/L" is refused; the older consistent result decides."""
    facts = facts_of(
        observation("17861-6", 2.3, "mmol/L", when="2026-11-20"),
        observation("17861-6", 9.4, "mg/dL", when="2026-11-10"),
    )
    assert facts.calcium.value == pytest.approx(9.4) and facts.calcium.status == "normal"
    assert [i.reported for i in facts.issues_for("calcium_total")] == ["2.3 mmol/L"]


def test_creatinine_codes_are_checked_both_ways():
    """14682-9 (moles/volume) in mg/dL and 2160-0 (mass/volume) in umol/L are both refused."""
    with pytest.raises(UnitError, match="14682-9"):
        check_property("14682-9", "mg/dL")
    with pytest.raises(UnitError, match="2160-0"):
        check_property("2160-0", "umol/L")
    check_property("14682-9", "umol/L")
    check_property("2160-0", "mg/dL")
    check_property("29463-7", "kg")  # a code with no listed property is not checked


@pytest.mark.parametrize(
    "analyte,value,unit",
    [
        ("calcium_total", 3.9, "mg/dL"),
        ("calcium_total", 20.5, "mg/dL"),
        ("calcium_total", 0.9, "mmol/L"),
        ("calcium_total", 5.2, "mmol/L"),
        ("calcium_ionized", 0.3, "mmol/L"),
        ("creatinine", 40.0, "mg/dL"),
        ("albumin", 95.0, "g/L"),
        ("weight", 12.0, "kg"),
    ],
)
def test_values_incompatible_with_life_are_refused(analyte, value, unit):
    with pytest.raises(UnitError, match="compatible with life"):
        to_canonical(analyte, value, unit)


@pytest.mark.parametrize("value,unit", [(4.0, "mg/dL"), (20.0, "mg/dL"), (1.0, "mmol/L"), (5.0, "mmol/L")])
def test_calcium_limits_of_life_are_inclusive(value, unit):
    """The catalog's total calcium range, 4-20 mg/dL and 1.0-5.0 mmol/L, is accepted at both ends."""
    assert to_canonical("calcium_total", value, unit) > 0


def test_implausible_calcium_gives_no_calcium_status():
    facts = facts_of(observation("17861-6", 2.3, "mg/dL"))
    assert facts.calcium is None
    assert "compatible with life" in facts.issues_for("calcium_total")[0].reason


def test_ionized_mass_code_17864_0_is_read_and_graded_in_mmol_per_litre():
    """17864-0 (ionized, mg/dL): 3.4 mg/dL is 0.85 mmol/L, below 0.9: CTCAE grade 3, critical."""
    facts = facts_of(observation("17864-0", 3.4, "mg/dL"))
    assert facts.calcium.basis == "ionized" and facts.calcium.unit == "mmol/L"
    assert facts.calcium.value == pytest.approx(0.848, abs=0.002)
    assert facts.calcium.hypocalcemia_grade == 3 and facts.calcium.hypocalcemia_critical


@pytest.mark.parametrize("value,grade", [(1.10, 1), (0.95, 2), (0.85, 3), (0.75, 4), (1.20, 0)])
def test_ionized_hypocalcemia_grades(value, grade):
    facts = facts_of(observation("1995-0", value, "mmol/L"))
    assert facts.calcium.hypocalcemia_grade == grade
    assert facts.calcium.hypocalcemia_critical == (grade >= 3)


@pytest.mark.parametrize("value,grade", [(1.40, 1), (1.55, 2), (1.65, 3), (1.85, 4)])
def test_ionized_hypercalcemia_grades(value, grade):
    assert facts_of(observation("1994-3", value, "mmol/L")).calcium.hypercalcemia_grade == grade


def test_same_day_ionized_wins_over_total_and_lab_corrected():
    facts = facts_of(
        observation("17861-6", 7.0, "mg/dL", when="2026-11-20T08:00:00Z"),
        observation("29265-6", 2.0, "mmol/L", when="2026-11-20T07:00:00Z"),
        observation("1995-0", 1.20, "mmol/L", when="2026-11-20T06:00:00Z"),
    )
    assert facts.calcium.basis == "ionized" and facts.calcium.status == "normal"


def test_same_day_lab_corrected_wins_over_total():
    facts = facts_of(
        observation("17861-6", 7.0, "mg/dL", when="2026-11-20T08:00:00Z"),
        observation("29265-6", 2.30, "mmol/L", when="2026-11-20T07:00:00Z"),
    )
    assert facts.calcium.basis == "lab-corrected" and facts.calcium.status == "normal"


def test_newer_total_calcium_wins_over_older_ionized():
    facts = facts_of(
        observation("1995-0", 1.20, "mmol/L", when="2026-11-10"),
        observation("17861-6", 7.6, "mg/dL", when="2026-11-20"),
        observation("1751-7", 2.5, "g/dL", when="2026-11-20"),
    )
    assert facts.calcium.basis == "albumin-corrected" and facts.calcium.value == pytest.approx(8.8)


def test_same_day_albumin_is_preferred_over_a_nearer_newer_one():
    """Calcium on the 18th; albumin 2.0 g/dL on the 18th and 4.0 g/dL on the 20th: the same day's is used."""
    facts = facts_of(
        observation("17861-6", 8.0, "mg/dL", when="2026-11-18"),
        observation("1751-7", 2.0, "g/dL", when="2026-11-18"),
        observation("1751-7", 4.0, "g/dL", when="2026-11-20"),
    )
    assert facts.calcium.value == pytest.approx(9.6)


def test_albumin_outside_two_days_is_not_paired():
    facts = facts_of(
        observation("17861-6", 8.0, "mg/dL", when="2026-11-20"),
        observation("1751-7", 2.0, "g/dL", when="2026-11-17"),
    )
    assert facts.calcium.basis == "total-uncorrected" and not facts.calcium.ctcae_graded


def test_mixed_units_are_corrected_and_graded_in_mg_dl():
    """Calcium 3.0 mmol/L (12.02 mg/dL) with albumin 3.0 g/dL (US unit): 12.02 + 0.8 = 12.82 mg/dL, which
    CTCAE grades 3 in mg/dL (> 12.5); graded in mmol/L the same patient would read 3.2 mmol/L."""
    facts = facts_of(observation("2000-8", 3.0, "mmol/L"), observation("1751-7", 3.0, "g/dL"))
    calcium = facts.calcium
    assert calcium.unit == "mg/dL" and calcium.value == pytest.approx(12.82, abs=0.01)
    assert calcium.hypercalcemia_grade == 3 and calcium.basis == "albumin-corrected"
    assert any("different unit systems" in e.note for e in calcium.evidence)


def test_consistent_si_units_stay_in_mmol_per_litre():
    facts = facts_of(observation("2000-8", 2.0, "mmol/L"), observation("1751-7", 30, "g/L"))
    assert facts.calcium.unit == "mmol/L" and facts.calcium.value == pytest.approx(2.2)


def test_an_older_result_refused_while_a_rule_walks_back_is_reported():
    """Zoledronic acid baseline search: a creatinine 14682-9 sent in mg/dL before the first dose is refused
    and listed by `issues_found_while_reading`, for the DATA-QUALITY card."""
    from fhir_mappings.lab_series import issues_found_while_reading, on_or_before
    from tests.mappings.test_units_and_calculators import NOW

    facts = facts_of(
        observation("2160-0", 1.0, "mg/dL", when="2026-11-20"),
        observation("14682-9", 0.9, "mg/dL", when="2026-05-01"),
    )
    assert issues_found_while_reading(facts.labs) == ()
    assert list(on_or_before(facts.labs["creatinine"], NOW.replace(month=6))) == []
    [issue] = issues_found_while_reading(facts.labs)
    assert "14682-9" in issue.reason and issue.reported == "0.9 mg/dL"
