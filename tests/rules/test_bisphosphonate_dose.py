"""BISPHOSPHONATE-DOSE (consensus Table 1; RULES.md 7.3.25): ibandronate and incadronate doses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hooks.rules.bisphosphonate_dose import bisphosphonate_dose
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    card_for,
    crcl,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    medication,
    order_hook_cards,
    validate_action_resources,
)

RULE = "BISPHOSPHONATE-DOSE"
ATC = "http://www.whocc.no/atc"


def ibandronate(dose=6.0, interval=28, **kw):
    return medication("ibandronate", dose_mg=dose, interval_days=interval, draft=True, days=0, **kw)


def incadronate(dose=10.0, interval=28, **kw):
    return medication("incadronate", dose_mg=dose, interval_days=interval, draft=True, days=0, **kw)


def check(drafts, clearance=72, age=60, hook="order-sign"):
    cl = crcl(clearance) if clearance is not None else crcl(None, ("serum creatinine",))
    patient = facts(hook=hook, age=age, conditions=[bone_metastasis()], drafts=drafts, clearance=cl)
    return bisphosphonate_dose(patient, THRESHOLDS)


@pytest.mark.parametrize(
    ("clearance", "key"),
    [(45, "ibandronate_4mg_q4w"), (30, "ibandronate_4mg_q4w"), (25, "ibandronate_2mg_q4w")],
)
def test_ibandronate_6mg_in_renal_impairment_is_reduced_per_label(clearance, key):
    """Label: CrCl 30-49 -> 4 mg, below 30 -> 2 mg; the suggestion updates the draft."""
    draft = ibandronate()
    finding = check([draft], clearance)
    assert (finding.indicator, finding.variant) == ("warning", "ibandronate")
    assert order_keys(finding) == [[key]]
    assert finding.suggestions[0].actions[0].type == "update"
    assert finding.suggestions[0].actions[0].target == draft.reference
    assert draft.reference in evidence_refs(finding)
    assert "Bondronat" in finding.outside_sources[0]


@pytest.mark.parametrize("clearance", [50, 72])
def test_ibandronate_6mg_with_crcl_50_or_more_no_card(clearance):
    assert check([ibandronate()], clearance) is None


def test_ibandronate_4mg_with_normal_kidneys_is_raised_to_6mg():
    finding = check([ibandronate(dose=4)], 80)
    assert order_keys(finding) == [["ibandronate_6mg_q4w"]]
    assert "below" in finding.values["reason"]


def test_ibandronate_3_day_loading_is_allowed():
    """Table 1: 6 mg a day for 3 days is the loading, not an overdose."""
    assert check([ibandronate(interval=1)], 72) is None


def test_ibandronate_weekly_is_too_frequent():
    finding = check([ibandronate(interval=7)], 72)
    assert finding.values["reason"] == "given more often than every 3 weeks"


def test_ibandronate_osteoporosis_regimen_is_not_checked():
    """Ibandronate 150 mg by mouth monthly is the osteoporosis regimen: not Table 1's subject."""
    assert check([ibandronate(dose=150, interval=30)], 72) is None


def test_ibandronate_without_crcl_says_the_renal_dose_was_not_checked():
    finding = check([ibandronate()], None)
    assert (finding.indicator, finding.variant) == ("info", "unchecked")
    assert finding.suggestions == ()
    assert "serum creatinine" in finding.missing


def test_ibandronate_above_6mg_without_crcl_is_still_corrected():
    finding = check([ibandronate(dose=8)], None)
    assert order_keys(finding) == [["ibandronate_6mg_q4w"]]


def test_incadronate_10mg_over_65_is_reduced_to_5mg():
    finding = check([incadronate()], age=70)
    assert (finding.indicator, finding.variant) == ("warning", "incadronate")
    assert order_keys(finding) == [["incadronate_5mg_q4w"]]


def test_incadronate_10mg_at_60_no_card():
    assert check([incadronate()], age=60) is None


def test_incadronate_above_10mg_is_corrected():
    assert order_keys(check([incadronate(dose=15)], age=50)) == [["incadronate_10mg_q4w"]]


def test_incadronate_with_unknown_age_says_age_is_missing():
    finding = check([incadronate(dose=12)], age=None)
    assert any("age" in m for m in finding.missing)


def test_zoledronic_acid_and_denosumab_are_not_this_rules_business():
    za = medication("zoledronic_acid", dose_mg=4.0, draft=True)
    dmab = medication("denosumab", dose_mg=120, product="xgeva", draft=True)
    assert check([za, dmab], 40) is None


def test_patient_view_never_fires():
    assert check([ibandronate()], 40, hook="patient-view") is None


def test_order_select_checks_only_selected_drafts():
    draft = ibandronate()
    patient = facts(hook="order-select", conditions=[bone_metastasis()], drafts=[draft], clearance=crcl(40))
    unselected = replace(patient, checked_drafts=frozenset({"MedicationRequest/other"}))
    assert bisphosphonate_dose(unselected, THRESHOLDS) is None
    selected = replace(patient, checked_drafts=frozenset({draft.reference}))
    assert bisphosphonate_dose(selected, THRESHOLDS) is not None


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_fhir_update_keeps_the_drafted_drug_and_sets_the_renal_dose(hook):
    """FHIR: ibandronate 6 mg drafted (ATC coded), CrCl about 40: valid update to 4 mg, same drug coding."""
    chart = fhir_chart(fhir_condition("bm", "C79.51"), *_kidney_labs())
    draft = fhir_medication_request(
        "iban1", "M05BA06", "Ibandronic acid 6 mg IV", dose_mg=6, period=4, period_unit="wk", system=ATC
    )
    card = card_for(order_hook_cards(hook, chart, [draft]), RULE)
    assert card is not None and card["indicator"] == "warning"
    (action,) = validate_action_resources(card)
    resource = action["resource"]
    assert resource["id"] == "iban1"
    assert resource["medicationCodeableConcept"] == draft["medicationCodeableConcept"]
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 4


def _kidney_labs():
    """Creatinine 1.6 mg/dL and weight 60 kg for a man born 1958 (68 y): CrCl = 72 x 60 / 115.2 = 37.5."""

    def obs(rid, code, value, unit, ucum):
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-11-20",
            "valueQuantity": {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": ucum,
            },
        }

    return obs("cr1", "2160-0", 1.6, "mg/dL", "mg/dL"), obs("wt1", "29463-7", 60, "kg", "kg")


def test_template_fits_every_variant():
    findings = [check([ibandronate()], 40), check([incadronate()], age=70), check([ibandronate()], None)]
    assert_template_fits(RULE, findings)
