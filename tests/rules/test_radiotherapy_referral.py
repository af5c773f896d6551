"""RADIOTHERAPY-REFERRAL (consensus 6.5, Table 2): radiotherapy consult for painful bone metastasis."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fhir_mappings.facts import UnusableResult
from hooks.rules.radiotherapy_referral import radiotherapy_referral
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    condition,
    event,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_observation,
    fhir_service_request,
    lab,
    patient_view_card,
    validate_action_resources,
)

RULE = "RADIOTHERAPY-REFERRAL"


def painful(*, pain=6.0, ecog=None, events=(), conditions=(), metastasis=None):
    """A patient with lung cancer, confirmed bone metastasis, a pain score and optionally an ECOG."""
    labs = [lab("pain_score", pain, days=2)] if pain is not None else []
    labs += [lab("ecog", ecog, days=5)] if ecog is not None else []
    return facts(conditions=[metastasis or bone_metastasis(), *conditions], labs=labs, events=events)


def test_pain_six_and_ecog_three_fires_single_fraction():
    """Bone metastasis, pain 6/10, ECOG 3, no radiotherapy: refer; Table 2 favours a single fraction."""
    patient = painful(pain=6, ecog=3)
    finding = radiotherapy_referral(patient, THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "single-fraction")
    assert order_keys(finding) == [["referral_radiotherapy"]]
    assert finding.values["pain"] == "pain 6/10" and finding.values["ecog"] == "3"
    assert finding.values["single_fraction_reason"] == "performance status ECOG 3, above 2"
    refs = {patient.latest("pain_score").reference, patient.latest("ecog").reference}
    refs.add(next(c.reference for c in patient.conditions if c.category == "bone_metastasis"))
    assert refs <= evidence_refs(finding)
    assert finding.missing == ()


def test_ecog_two_gives_site_guidance():
    """ECOG 2 is not above the cut-off: the card gives the by-site options (single fraction or 30 Gy/10 f)."""
    finding = radiotherapy_referral(painful(ecog=2), THRESHOLDS)
    assert finding.variant == "by-site"


def test_ecog_missing_is_said():
    """Painful bone metastasis with no ECOG on record: still refer, and say ECOG is missing."""
    finding = radiotherapy_referral(painful(ecog=None), THRESHOLDS)
    assert finding.variant == "ecog-missing"
    assert finding.values["ecog"] == "not recorded"
    assert any("ECOG" in item for item in finding.missing)


def test_unusable_ecog_is_named_in_missing_data():
    """An ECOG result that could not be read is named, so the clinician knows why ECOG is missing."""
    issue = UnusableResult("ecog", "unknown unit", "Observation/ecog-bad", "3 points")
    patient = replace(painful(), data_issues=(issue,))
    finding = radiotherapy_referral(patient, THRESHOLDS)
    assert any("Observation/ecog-bad" in item for item in finding.missing)


@pytest.mark.parametrize(("pain", "fires"), [(3, False), (4, True)])
def test_pain_threshold_boundary(pain, fires):
    """Pain 3/10 is below the catalog threshold of 4; pain 4/10 reaches it."""
    assert (radiotherapy_referral(painful(pain=pain), THRESHOLDS) is not None) is fires


def test_no_pain_no_card():
    """Confirmed bone metastasis with no pain score and no bone-pain Condition: no radiotherapy card."""
    assert radiotherapy_referral(painful(pain=None), THRESHOLDS) is None


def test_newest_pain_score_decides():
    """Pain was 7/10 a month ago and is 2/10 today: pain is controlled, no card."""
    patient = facts(
        conditions=[bone_metastasis()], labs=[lab("pain_score", 7, days=30), lab("pain_score", 2, days=1)]
    )
    assert radiotherapy_referral(patient, THRESHOLDS) is None


def test_bone_pain_condition_without_score_fires():
    """A bone-pain Condition and no pain score: bone pain is documented, refer."""
    pain = condition("bone_pain", code="12584003")
    finding = radiotherapy_referral(painful(pain=None, conditions=[pain]), THRESHOLDS)
    assert finding is not None and finding.values["pain"] == "bone pain on record"
    assert pain.reference in evidence_refs(finding)


def test_consult_ten_days_ago_no_card():
    """A radiotherapy consult 10 days ago: radiotherapy is already being considered."""
    consult = event("radiotherapy_consult", days=10, status="active", resource_type="ServiceRequest")
    assert radiotherapy_referral(painful(events=[consult]), THRESHOLDS) is None


def test_radiotherapy_course_in_window_no_card():
    """A radiotherapy course performed 5 days ago: no new consult is suggested."""
    course = event("radiotherapy", days=5, status="in-progress")
    assert radiotherapy_referral(painful(events=[course]), THRESHOLDS) is None


@pytest.mark.parametrize(("days", "fires"), [(29, False), (30, False), (31, True)])
def test_consult_window_boundary(days, fires):
    """A consult 29 or 30 days ago is within the 30-day window; one 31 days ago is not."""
    consult = event("radiotherapy_consult", days=days, resource_type="ServiceRequest")
    assert (radiotherapy_referral(painful(events=[consult]), THRESHOLDS) is not None) is fires


def test_scheduled_consult_no_card():
    """A radiotherapy consult booked for next week counts as arranged."""
    consult = event("radiotherapy_consult", days=-7, status="active", resource_type="ServiceRequest")
    assert radiotherapy_referral(painful(events=[consult]), THRESHOLDS) is None


def test_undated_consult_does_not_stop_the_card():
    """A radiotherapy consult with no date cannot be placed in the 30-day window: the card still fires."""
    undated = replace(event("radiotherapy_consult", resource_type="ServiceRequest"), day=None)
    assert radiotherapy_referral(painful(events=[undated]), THRESHOLDS) is not None


def test_suspected_metastasis_only_no_card():
    """Pain 8/10 but bone metastasis only suspected: imaging first (BONE-IMAGING-WORKUP), not this card."""
    patient = painful(pain=8, metastasis=bone_metastasis(verification="suspected"))
    assert radiotherapy_referral(patient, THRESHOLDS) is None


def test_order_hook_no_card():
    """The rule belongs to patient-view: an order-sign call does not produce it."""
    patient = facts(hook="order-sign", conditions=[bone_metastasis()], labs=[lab("pain_score", 8)])
    assert radiotherapy_referral(patient, THRESHOLDS) is None


def test_card_names_the_catalog_defaults_as_outside_sources():
    """The pain threshold and the window are catalog defaults, not consensus numbers: the card says so."""
    finding = radiotherapy_referral(painful(), THRESHOLDS)
    assert finding.outside_sources == (
        "bone pain from a pain score of 4 of 10: catalog (pain score >= 4 of 10: moderate pain)",
        "radiotherapy consult or course within 30 days: "
        "catalog (no radiotherapy consult or course in 30 days)",
    )


def test_short_life_expectancy_favours_single_fraction_without_ecog():
    """No ECOG, but documented terminal illness: Table 2 (short life expectancy) favours one fraction."""
    terminal = condition("life_expectancy_limited", code="300936002")
    finding = radiotherapy_referral(painful(ecog=None, conditions=[terminal]), THRESHOLDS)
    assert finding.variant == "single-fraction"
    assert finding.values["single_fraction_reason"] == "documented short life expectancy"
    assert terminal.reference in evidence_refs(finding)


def test_template_fits_every_variant():
    """The RADIOTHERAPY-REFERRAL template words every variant within 140 characters."""
    findings = [radiotherapy_referral(painful(pain=10, ecog=e), THRESHOLDS) for e in (4, 1, None)]
    findings.append(
        radiotherapy_referral(painful(pain=None, conditions=[condition("bone_pain")]), THRESHOLDS)
    )
    assert_template_fits(RULE, findings)


LOINC = "http://loinc.org"


def test_card_from_fhir_chart():
    """From raw FHIR: bone metastasis, pain 7/10 (LOINC 72514-3), ECOG 3 as a LOINC answer: full card."""
    chart = fhir_chart(
        fhir_condition("met", "C79.51"),
        fhir_observation("pain", LOINC, "72514-3", {"valueInteger": 7}),
        fhir_observation(
            "ecog",
            LOINC,
            "89247-1",
            {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9625-0"}]}},
        ),
    )
    card = patient_view_card(radiotherapy_referral, chart)
    assert card is not None
    assert card["source"]["topic"]["code"] == RULE and card["indicator"] == "info"
    assert "pain 7/10" in card["summary"] and "ECOG 3" in card["summary"]
    assert "Observation/pain" in card["detail"] and "Observation/ecog" in card["detail"]
    assert card["selectionBehavior"] == "any"
    (action,) = validate_action_resources(card)
    assert action["resource"]["code"]["coding"][0]["code"] == "radiotherapy-consult"


def test_fhir_consult_ordered_last_week_stops_the_card():
    """From raw FHIR: an active radiotherapy-consult ServiceRequest authored 7 days ago: no card."""
    chart = fhir_chart(
        fhir_condition("met", "C79.51"),
        fhir_observation("pain", LOINC, "72514-3", {"valueInteger": 7}),
        fhir_service_request("rt", "radiotherapy-consult", days=7),
    )
    assert patient_view_card(radiotherapy_referral, chart) is None


def test_cord_compression_leaves_the_consult_to_the_urgent_card():
    """Painful bone metastasis with cord compression (G95.20): the card keeps its Table 2 guidance, but the
    urgent radiotherapy consult is suggested by SPINAL-CORD-COMPRESSION, not a second routine one here."""
    scc = condition("spinal_cord_compression", code="G95.20", days=1)
    finding = radiotherapy_referral(painful(pain=7, ecog=1, conditions=[scc]), THRESHOLDS)
    assert finding is not None and finding.suggestions == ()
    assert radiotherapy_referral(painful(pain=7, ecog=1), THRESHOLDS).suggestions != ()
