"""Issue 12: an input row that only repeats what its calculated row says (CrCl's creatinine and weight,
corrected calcium's albumin) is folded into it, and its reference moves to the calculated row's Record cell;
a row that says more (another label, a note, another value or an unstated day) stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from fhir_mappings.facts import Evidence
from hooks.cards import evidence_rows

DAY = date(2026, 11, 25)
CREATININE = Evidence("Creatinine", "0.9 mg/dL", DAY, "Observation/cr", "")
WEIGHT = Evidence("Body weight", "74 kg", DAY, "Observation/wt", "")
CRCL = Evidence(
    "Creatinine clearance (Cockcroft-Gault)",
    "81.1 mL/min",
    DAY,
    None,
    "from creatinine 0.9 mg/dL (2026-11-25), 74 kg, age 69, male",
    calculated_from=("Observation/cr", "Observation/wt"),
)
CALCIUM = Evidence(
    "Calcium (total)",
    "9.4 mg/dL",
    DAY,
    "Observation/ca",
    "corrected for albumin 4 g/dL: 9.4 mg/dL",
    calculated_from=("Observation/alb",),
)
ALBUMIN = Evidence("Albumin", "4 g/dL", DAY, "Observation/alb", "")


def labels(rows: list[list[str]]) -> list[str]:
    return [row[0] for row in rows]


def test_crcl_inputs_fold_into_the_crcl_row_which_names_their_references() -> None:
    rows = evidence_rows((CREATININE, WEIGHT, CRCL))
    assert labels(rows) == ["Creatinine clearance (Cockcroft-Gault)"]
    assert rows[0][3] == "calculated from Observation/cr, Observation/wt"
    assert rows[0][2] == "2026-11-25"


def test_without_the_calculated_row_the_inputs_stay() -> None:
    assert labels(evidence_rows((CREATININE, WEIGHT))) == ["Creatinine", "Body weight"]


def test_a_calculated_row_with_no_inputs_still_reads_calculated() -> None:
    rows = evidence_rows((replace(CRCL, calculated_from=()),))
    assert rows[0][3] == "calculated"


def test_an_input_row_that_says_more_stays() -> None:
    baseline = replace(CREATININE, label="Baseline creatinine")
    noted = replace(WEIGHT, note="= 74.00 kg")
    assert labels(evidence_rows((baseline, noted, CRCL))) == [
        "Baseline creatinine",
        "Body weight",
        "Creatinine clearance (Cockcroft-Gault)",
    ]


def test_an_input_shown_under_a_second_label_stays_as_one_merged_row() -> None:
    latest = replace(CREATININE, label="Latest creatinine")
    rows = evidence_rows((CREATININE, latest, WEIGHT, CRCL))
    assert labels(rows) == ["Creatinine (also\\: latest)", "Creatinine clearance (Cockcroft-Gault)"]


def test_an_input_whose_value_or_day_the_calculated_row_does_not_state_stays() -> None:
    other_value = replace(CREATININE, value="10.9 mg/dL")
    other_day = replace(WEIGHT, when=date(2026, 11, 20))
    assert labels(evidence_rows((other_value, other_day, CRCL))) == [
        "Creatinine",
        "Body weight",
        "Creatinine clearance (Cockcroft-Gault)",
    ]
    stated_day = replace(CRCL, note=CRCL.note.replace("74 kg", "74 kg (2026-11-20)"))
    assert labels(evidence_rows((other_day, stated_day))) == ["Creatinine clearance (Cockcroft-Gault)"]


def test_a_result_that_is_not_an_input_stays() -> None:
    other = replace(CREATININE, reference="Observation/cr-older")
    assert labels(evidence_rows((other, WEIGHT, CRCL)))[0] == "Creatinine"


def test_albumin_folds_into_the_calcium_row_which_lists_both_references() -> None:
    rows = evidence_rows((CALCIUM, ALBUMIN))
    assert rows == [
        [
            "Calcium (total)",
            "9.4 mg/dL (corrected for albumin 4 g/dL\\: 9.4 mg/dL)",
            "2026-11-25",
            "Observation/ca, Observation/alb",
        ]
    ]


def test_albumin_of_another_day_folds_only_when_the_calcium_row_names_its_day() -> None:
    earlier = replace(ALBUMIN, when=date(2026, 11, 20))
    assert labels(evidence_rows((CALCIUM, earlier))) == ["Calcium (total)", "Albumin"]
    dated = replace(CALCIUM, note="corrected for albumin 4 g/dL on 2026-11-20: 9.4 mg/dL")
    assert labels(evidence_rows((dated, earlier))) == ["Calcium (total)"]


def test_the_folded_order_keeps_the_other_rows_in_place() -> None:
    condition = Evidence("Confirmed bone metastasis", "Secondary", DAY, "Condition/c", "")
    rows = evidence_rows((condition, CALCIUM, ALBUMIN, CREATININE, WEIGHT, CRCL))
    assert labels(rows) == [
        "Confirmed bone metastasis",
        "Calcium (total)",
        "Creatinine clearance (Cockcroft-Gault)",
    ]
