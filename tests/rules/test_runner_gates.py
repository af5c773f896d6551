"""The runner's gates never make known-bad data silent (issue 11 item 1, RULES.md 7.1.4, 7.4.29).

No coded lung cancer (or, at order hooks, no order to check) stops the clinical rules; the data cards
that could explain why still come back: another patient's resources, unusable Conditions or orders, and
text-only entries. A lab result with an unknown unit cannot hide a lung cancer and stays out.
"""

from __future__ import annotations

from dataclasses import replace

from fhir_mappings.build_facts import FOREIGN
from fhir_mappings.facts import UnmappedEntry, UnusableResult
from hooks.data_notices import data_quality_finding, unmapped_codes_finding
from hooks.order_sign import SERVICE as ORDER_SIGN
from hooks.patient_view import SERVICE as PATIENT_VIEW
from hooks.runner import run_rules
from tests.rules.bma_card_checks import assert_template_fits
from tests.rules.factories import THRESHOLDS, bone_metastasis, facts, lab

FOREIGN_CONDITION = UnusableResult(FOREIGN, "belongs to another patient", "Condition/theirs", "")
INVALID_LUNG_CANCER = UnusableResult("lung_cancer", "not valid FHIR R4: subject missing", "Condition/lc", "")
BAD_LAB = UnusableResult("calcium_total", "unknown unit", "Observation/ca", "9.1 mg/L")
TEXT_ONLY = UnmappedEntry("lung_cancer", "Condition/local", "urn:local|LC1", "肺腺癌")


def ids(findings):
    return [f.rule_id for f in findings]


def no_lung_cancer(**changes):
    return replace(facts(with_lung_cancer=False, conditions=[bone_metastasis()]), **changes)


def test_no_lung_cancer_and_nothing_wrong_gives_no_cards():
    assert run_rules(PATIENT_VIEW, no_lung_cancer(), THRESHOLDS) == []


def test_no_lung_cancer_with_an_unusable_lung_cancer_condition_says_so():
    found = run_rules(PATIENT_VIEW, no_lung_cancer(data_issues=(INVALID_LUNG_CANCER,)), THRESHOLDS)
    assert ids(found) == ["DATA-QUALITY"]
    assert [e.reference for e in found[0].evidence] == ["Condition/lc"]


def test_no_lung_cancer_with_another_patients_resources_says_how_many_were_dropped():
    found = run_rules(PATIENT_VIEW, no_lung_cancer(data_issues=(FOREIGN_CONDITION, BAD_LAB)), THRESHOLDS)
    assert ids(found) == ["DATA-QUALITY"]
    assert (found[0].variant, found[0].values["foreign"]) == ("another-patient", "1")
    assert [e.reference for e in found[0].evidence] == ["Condition/theirs"], "the lab issue is noise here"


def test_no_lung_cancer_with_only_a_bad_lab_gives_no_cards():
    assert run_rules(PATIENT_VIEW, no_lung_cancer(data_issues=(BAD_LAB,)), THRESHOLDS) == []


def test_no_lung_cancer_with_a_text_only_lung_cancer_gives_the_unmapped_card():
    found = run_rules(PATIENT_VIEW, no_lung_cancer(unmapped=(TEXT_ONLY,)), THRESHOLDS)
    assert ids(found) == ["UNMAPPED-CODES"]
    assert (found[0].variant, found[0].indicator) == ("no-lung-cancer-code", "info")
    assert found[0].evidence[0].reference == "Condition/local"


def test_with_lung_cancer_every_data_card_comes_last_in_order():
    patient = replace(
        facts(conditions=[bone_metastasis()], labs=[lab("alp", 90)]),
        data_issues=(BAD_LAB, FOREIGN_CONDITION),
        unmapped=(TEXT_ONLY,),
    )
    found = ids(run_rules(PATIENT_VIEW, patient, THRESHOLDS, frozenset({"ImagingStudy"})))
    assert found[-2:] == ["DATA-QUALITY", "UNMAPPED-CODES"]
    assert "DATA-UNAVAILABLE" in found
    unmapped = run_rules(PATIENT_VIEW, patient, THRESHOLDS)[-1]
    assert unmapped.variant == "default"


def test_order_hook_with_no_recognised_order_still_shows_a_text_only_bma_draft():
    draft = UnmappedEntry("bma", "MedicationRequest/d1", "urn:local|ZOL", "唑来膦酸 4mg", is_draft=True)
    patient = replace(facts(hook="order-sign", conditions=[bone_metastasis()]), unmapped=(draft,))
    found = run_rules(ORDER_SIGN, patient, THRESHOLDS)
    assert ids(found) == ["UNMAPPED-CODES"] and found[0].variant == "default"
    assert run_rules(ORDER_SIGN, replace(patient, unmapped=()), THRESHOLDS) == []


def test_order_hook_with_no_order_to_check_ignores_the_charts_own_gaps():
    """An unrelated order (no BMA drafted): the chart's text-only entries and unusable Conditions do not
    concern it and would be noise on every order; another patient's resources still do."""
    patient = replace(
        facts(hook="order-sign", conditions=[bone_metastasis()]),
        unmapped=(TEXT_ONLY,),
        data_issues=(INVALID_LUNG_CANCER,),
    )
    assert run_rules(ORDER_SIGN, patient, THRESHOLDS) == []
    found = run_rules(ORDER_SIGN, replace(patient, data_issues=(FOREIGN_CONDITION,)), THRESHOLDS)
    assert ids(found) == ["DATA-QUALITY"] and found[0].values["foreign"] == "1"


def test_data_card_templates_fit_every_variant():
    """Every variant of the data cards fills from the finding's values and fits in 140 characters."""
    many_foreign = tuple(replace(FOREIGN_CONDITION, reference=f"Condition/t{i}") for i in range(1234))
    assert_template_fits(
        "DATA-QUALITY", [data_quality_finding((BAD_LAB,)), data_quality_finding(many_foreign)]
    )
    entries = (TEXT_ONLY, UnmappedEntry("ici", "MedicationRequest/m", "urn:x|1", "Keytruda"))
    assert_template_fits(
        "UNMAPPED-CODES",
        [
            unmapped_codes_finding(entries, gate_closed=True),
            unmapped_codes_finding(entries, gate_closed=False),
        ],
    )


def test_data_quality_lists_an_older_result_a_rule_refused_while_walking_back():
    """ZA-RENAL-DOSING looks for the creatinine before the first zoledronic acid dose (June 2026): the one
    on file is coded 14682-9 (molar) but sent in mg/dL, refused only when the rule reads it. The card must
    name it, or the rule's "no baseline" would hide a result the chart does have."""
    from fhir_mappings.build_facts import build_facts
    from fhir_mappings.codesets import load_codesets
    from tests.rules.factories import (
        NOW,
        fhir_chart,
        fhir_condition,
        fhir_medication_request,
        fhir_observation,
    )

    za = fhir_medication_request(
        "za-active", "77655", "Zoledronic acid 4 mg", dose_mg=4, period=4, period_unit="wk", status="active"
    )
    za["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] = {"start": "2026-06-01"}
    za["authoredOn"] = "2026-06-01"
    loinc = "http://loinc.org"
    current = fhir_observation("cr-now", loinc, "2160-0", {"valueQuantity": _mg_dl(1.0)}, days=3)
    baseline = fhir_observation("cr-old", loinc, "14682-9", {"valueQuantity": _mg_dl(0.9)}, days=220)
    chart = fhir_chart(fhir_condition("bm", "C79.51"), za, current, baseline)
    built = build_facts(
        "p1",
        chart,
        hook="patient-view",
        now=NOW,
        draft_orders=None,
        codesets=load_codesets(),
        thresholds=THRESHOLDS,
    )
    assert not any(i.reference == "Observation/cr-old" for i in built.data_issues)  # not read at build time
    findings = run_rules(PATIENT_VIEW, built, THRESHOLDS)
    quality = next(f for f in findings if f.rule_id == "DATA-QUALITY")
    assert "Observation/cr-old" in {e.reference for e in quality.evidence}
    assert quality.values["count"] == "1"


def _mg_dl(value: float) -> dict:
    return {"value": value, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}
