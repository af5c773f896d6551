"""FRACTURE-RISK (consensus 6.6.2, Table 3): Mirels >= 9 warning, 8 info, <= 7 no card."""

from __future__ import annotations

import pytest

from hooks.rules.fracture_risk import fracture_risk
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, condition, event, facts, lab

RULE = "FRACTURE-RISK"


def scored(score, *, days=3, events=(), conditions=()):
    return facts(labs=[lab("mirels_score", score, days=days)], events=events, conditions=conditions)


def in_hospice(days=5):
    return event("hospice", days=days, status="in-progress", resource_type="Encounter")


def terminal_illness():
    return condition("life_expectancy_limited", code="300936002")


def test_mirels_ten_fires_warning_with_orthopedic_consult():
    """Mirels 10 (osteolytic lower-limb lesion, severe pain): preventive fixation indicated, refer."""
    patient = scored(10)
    finding = fracture_risk(patient, THRESHOLDS)
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "fixation")
    assert order_keys(finding) == [["referral_orthopedic_oncology"]]
    assert patient.latest("mirels_score").reference in evidence_refs(finding)
    assert finding.values["risk"] == "33%"


@pytest.mark.parametrize(
    ("score", "expected"), [(7, None), (8, ("info", "borderline")), (9, ("warning", "fixation"))]
)
def test_mirels_boundaries(score, expected):
    """Table 3: 7 is low risk (no card), 8 is 15% (info), 9 is 33% and fixation (warning)."""
    finding = fracture_risk(scored(score), THRESHOLDS)
    assert (None if finding is None else (finding.indicator, finding.variant)) == expected


def test_no_mirels_score_no_card():
    """No Mirels score on record: fracture risk is not guessed."""
    assert fracture_risk(facts(), THRESHOLDS) is None


def test_newest_score_decides():
    """Mirels 10 three months ago, 6 after radiotherapy last week: the newest score decides."""
    patient = facts(labs=[lab("mirels_score", 10, days=90), lab("mirels_score", 6, days=7)])
    assert fracture_risk(patient, THRESHOLDS) is None


def test_consult_after_score_no_card():
    """An orthopedic oncology consult ordered after the score: already addressed."""
    consult = event("orthopedic_oncology_consult", days=1, status="active", resource_type="ServiceRequest")
    assert fracture_risk(scored(9, days=3, events=[consult]), THRESHOLDS) is None


def test_consult_before_score_does_not_stop_card():
    """A consult from before the new, higher score does not answer it."""
    consult = event("orthopedic_oncology_consult", days=60, resource_type="ServiceRequest")
    assert fracture_risk(scored(9, days=3, events=[consult]), THRESHOLDS) is not None


def test_order_hook_no_card():
    patient = facts(hook="order-sign", labs=[lab("mirels_score", 11)])
    assert fracture_risk(patient, THRESHOLDS) is None


def test_template_fits():
    findings = [
        fracture_risk(scored(12), THRESHOLDS),
        fracture_risk(scored(8), THRESHOLDS),
        fracture_risk(scored(10, events=[in_hospice()]), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)


# RULES.md 7.2.14: documented life expectancy under 3 months or hospice: surgery contraindicated (6.6.3).


@pytest.mark.parametrize("limitation", ["hospice", "terminal illness"])
def test_short_life_expectancy_offers_radiotherapy_instead_of_surgery(limitation):
    """Mirels 10 in a patient in hospice (or with terminal illness): info, radiotherapy consult, says why."""
    kw = {"events": [in_hospice()]} if limitation == "hospice" else {"conditions": [terminal_illness()]}
    patient = scored(10, **kw)
    finding = fracture_risk(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "surgery-contraindicated")
    assert order_keys(finding) == [["referral_radiotherapy"]]
    shown = [*patient.care_events, *patient.conditions_in("life_expectancy_limited")]
    assert shown[0].reference in evidence_refs(finding)
    assert finding.values["risk"] == "33%"


def test_hospice_stay_years_ago_keeps_the_surgical_referral():
    """A hospice stay finished 2 years ago (7.1.7: expired): Mirels 10 still goes to orthopedic oncology."""
    old = event("hospice", days=730, status="finished", resource_type="Encounter")
    finding = fracture_risk(scored(10, events=[old]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "fixation")
    assert order_keys(finding) == [["referral_orthopedic_oncology"]]


def test_short_life_expectancy_with_radiotherapy_consult_pending_no_card():
    """Hospice and a radiotherapy referral already active since the score: nothing left to suggest."""
    consult = event("radiotherapy_consult", days=1, status="active", resource_type="ServiceRequest")
    assert fracture_risk(scored(10, events=[in_hospice(), consult]), THRESHOLDS) is None


def test_short_life_expectancy_ignores_an_orthopedic_consult():
    """Hospice: an orthopedic consult after the score does not answer it, surgery is off the table."""
    ortho = event("orthopedic_oncology_consult", days=1, status="active", resource_type="ServiceRequest")
    finding = fracture_risk(scored(10, events=[in_hospice(), ortho]), THRESHOLDS)
    assert finding is not None and finding.variant == "surgery-contraindicated"


def test_consult_on_hold_addresses_the_score():
    """7.1.6: a referral on hold is pending, i.e. already asked for."""
    pending = event("orthopedic_oncology_consult", days=1, status="on-hold", resource_type="ServiceRequest")
    assert fracture_risk(scored(9, events=[pending]), THRESHOLDS) is None


def test_card_from_fhir_chart():
    """From raw FHIR: a Mirels score of 9 (project code) gives a warning with a valid consult order."""
    from tests.rules.factories import (
        fhir_chart,
        fhir_observation,
        patient_view_card,
        validate_action_resources,
    )

    assessment = "https://bonemet-cds.org/fhir/CodeSystem/assessment"
    chart = fhir_chart(fhir_observation("mirels", assessment, "mirels-score", {"valueInteger": 9}))
    card = patient_view_card(fracture_risk, chart)
    assert card["indicator"] == "warning" and "Observation/mirels" in card["detail"]
    actions = validate_action_resources(card)
    assert [a["resource"]["code"]["coding"][0]["code"] for a in actions] == ["orthopedic-oncology-consult"]
