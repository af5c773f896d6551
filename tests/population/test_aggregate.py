"""The summary tables: counted per patient and per card, sorted for action, and mergeable (the Spark
engine may sum per-partition summaries)."""

from __future__ import annotations

from cds_service.population.aggregate import summarize, tables
from cds_service.population.patient_result import CardResult, DataFinding, PatientResult, UnmappedCode

PV = "patient-view"


def _results() -> list[PatientResult]:
    local = UnmappedCode("urn:local", "LC-01", "肺腺癌", "lung_cancer", 2)
    rare = UnmappedCode("urn:local", "ZZ", "zoledronate local", "bma", 1)
    return [
        PatientResult(
            "a",
            (CardResult(PV, "BMA-INITIATION", "warning"), CardResult(PV, "ORAL-EXAM", "warning")),
            (local,),
        ),
        PatientResult("b", (CardResult(PV, "BMA-INITIATION", "warning"),), (local, rare)),
        PatientResult(
            "c",
            (CardResult(PV, "DATA-QUALITY", "info"),),
            data_findings=(DataFinding("unit_conflict", "calcium_total", "unit 'mmol/L' ...", 2),),
        ),
        PatientResult("d", error="KeyError: 'x'"),
    ]


def test_rules_services_and_rates() -> None:
    document = tables(summarize(_results()))
    rules = {r["rule_id"]: r for r in document["rules"]}
    assert rules["BMA-INITIATION"]["patients"] == 2
    assert rules["BMA-INITIATION"]["cards_per_100_patients"] == 50.0
    assert rules["BMA-INITIATION"]["warning"] == 2 and rules["BMA-INITIATION"]["info"] == 0
    assert document["rules"][0]["rule_id"] == "BMA-INITIATION"  # most patients first
    assert document["services"] == [
        {"service": PV, "patients_with_a_card": 3, "cards": 4, "cards_per_100_patients": 100.0}
    ]
    assert document["totals"]["patients"] == 4
    assert document["totals"]["patients_with_an_error"] == 1
    assert document["totals"]["errors_by_type"] == {"KeyError": 1}


def test_unmapped_codes_sorted_by_patients_they_would_change() -> None:
    rows = tables(summarize(_results()))["unmapped_codes"]
    assert [(r["code"], r["patients"], r["resources"]) for r in rows] == [("LC-01", 2, 4), ("ZZ", 1, 1)]


def test_data_quality_by_kind() -> None:
    document = tables(summarize(_results()))
    kinds = {r["kind"]: r for r in document["data_quality_by_kind"]}
    assert kinds["unit_conflict"] == {"kind": "unit_conflict", "patients": 1, "resources": 2}
    assert kinds["other_patient"]["patients"] == 0


def test_merged_partial_summaries_equal_one_summary() -> None:
    results = _results()
    merged = summarize(results[:1]).merge(summarize(results[1:3])).merge(summarize(results[3:]))
    assert tables(merged) == tables(summarize(results))
