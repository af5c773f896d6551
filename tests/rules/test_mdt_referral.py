"""MDT-REFERRAL (consensus section 1, Fig. 1, 6.1): bone metastasis is managed under the MDT pattern."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fhir_mappings.facts import CareEvent
from hooks.rules.mdt_referral import mdt_referral
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    coded,
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

RULE = "MDT-REFERRAL"


def mdt_review(days: float, resource_type: str = "Encounter") -> CareEvent:
    return event("mdt_review", days=days, status="finished", resource_type=resource_type)


def test_confirmed_metastasis_without_mdt_is_info():
    """Bone metastasis confirmed 60 days ago, no MDT review, nothing high-risk: refer to MDT (info)."""
    metastasis = bone_metastasis(days=60)
    finding = mdt_referral(facts(conditions=[metastasis]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert order_keys(finding) == [["referral_mdt"]]
    assert finding.values["since"] == metastasis.since.isoformat()
    assert finding.values["escalators"] == "none"
    assert metastasis.reference in evidence_refs(finding)
    assert finding.outside_sources[0].startswith("hypercalcemia from CTCAE v5 grade 2: catalog")


def test_mdt_review_after_metastasis_no_card():
    """An MDT review 20 days after the metastasis was recorded: already covered."""
    patient = facts(conditions=[bone_metastasis(days=60)], events=[mdt_review(40)])
    assert mdt_referral(patient, THRESHOLDS) is None


def test_pending_mdt_referral_counts():
    """An active MDT referral ordered after the metastasis: no second referral."""
    referral = event("mdt_review", days=5, status="active", resource_type="ServiceRequest")
    assert mdt_referral(facts(conditions=[bone_metastasis(days=60)], events=[referral]), THRESHOLDS) is None


def test_mdt_review_on_the_day_of_the_metastasis_counts():
    """The MDT met the day the metastasis was recorded (the review that found it): covered."""
    patient = facts(conditions=[bone_metastasis(days=60)], events=[mdt_review(60)])
    assert mdt_referral(patient, THRESHOLDS) is None


def test_mdt_review_before_metastasis_fires_and_is_shown():
    """An MDT review at lung-cancer diagnosis, before the bone metastasis: a new review is needed."""
    earlier = mdt_review(150)
    finding = mdt_referral(facts(conditions=[bone_metastasis(days=60)], events=[earlier]), THRESHOLDS)
    assert finding is not None and earlier.reference in evidence_refs(finding)


def test_suspected_metastasis_only_no_card():
    """Bone metastasis only suspected: no MDT card for bone metastasis yet."""
    assert mdt_referral(facts(conditions=[bone_metastasis(verification="suspected")]), THRESHOLDS) is None


def test_no_metastasis_no_card():
    """Lung cancer without bone metastasis: no card."""
    assert mdt_referral(facts(), THRESHOLDS) is None


def test_pathological_fracture_escalates_to_warning():
    """Confirmed bone metastasis with a pathological fracture (an SRE): warning, and the fracture is named."""
    fracture = condition("pathological_fracture", code="M84.58")
    finding = mdt_referral(facts(conditions=[bone_metastasis(), fracture]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "escalated")
    assert finding.values["escalators"] == "pathological fracture"
    assert fracture.reference in evidence_refs(finding)


def test_suspected_fracture_is_not_an_sre():
    """A pathological fracture only suspected does not raise the card."""
    fracture = condition("pathological_fracture", verification="suspected", code="M84.58")
    assert mdt_referral(facts(conditions=[bone_metastasis(), fracture]), THRESHOLDS).indicator == "info"


def test_radiotherapy_performed_is_an_sre_but_an_order_is_not():
    """Palliative radiotherapy given is an SRE (warning); a radiotherapy order alone is not (info)."""
    given = event("radiotherapy", days=20, status="completed")
    ordered = event("radiotherapy", days=20, status="active", resource_type="ServiceRequest")
    assert (
        mdt_referral(facts(conditions=[bone_metastasis()], events=[given]), THRESHOLDS).indicator == "warning"
    )
    assert (
        mdt_referral(facts(conditions=[bone_metastasis()], events=[ordered]), THRESHOLDS).indicator == "info"
    )


@pytest.mark.parametrize(("score", "indicator"), [(8, "info"), (9, "warning")])
def test_mirels_boundary(score, indicator):
    """Mirels 9 (fixation indicated, Table 3) raises the card; 8 does not."""
    patient = facts(conditions=[bone_metastasis()], labs=[lab("mirels_score", score)])
    assert mdt_referral(patient, THRESHOLDS).indicator == indicator


@pytest.mark.parametrize(("grade", "indicator"), [("1b", "info"), ("1c", "warning"), ("3", "warning")])
def test_escc_boundary(grade, indicator):
    """ESCC 1c or higher raises the card; 1b does not."""
    patient = facts(conditions=[bone_metastasis()], coded_results=[coded("escc_grade", grade)])
    assert mdt_referral(patient, THRESHOLDS).indicator == indicator


@pytest.mark.parametrize(("grade", "indicator"), [(1, "info"), (2, "warning")])
def test_hypercalcemia_grade_boundary(grade, indicator):
    """Hypercalcemia CTCAE grade 2 raises the card; grade 1 does not."""
    patient = facts(conditions=[bone_metastasis()], calcium_status=calcium(11.8, grade=grade))
    assert mdt_referral(patient, THRESHOLDS).indicator == indicator


def test_every_escalator_is_listed():
    """Cord compression, Mirels 10, ESCC 2 and grade 3 hypercalcemia: all four named on the card."""
    scc = condition("spinal_cord_compression", code="G95.20")
    mirels = lab("mirels_score", 10)
    patient = facts(
        conditions=[bone_metastasis(), scc],
        labs=[mirels],
        coded_results=[coded("escc_grade", "2")],
        calcium_status=calcium(13.0, grade=3),
    )
    finding = mdt_referral(patient, THRESHOLDS)
    assert finding.values["escalators"] == (
        "spinal cord compression; Mirels score 10; ESCC grade 2; hypercalcemia CTCAE grade 3"
    )
    assert finding.values["escalator_count"] == "4"
    assert {scc.reference, mirels.reference} <= evidence_refs(finding)


def test_undated_metastasis_counts_any_mdt_review():
    """A metastasis with no onset or recorded date: any MDT review on record covers it."""
    metastasis = bone_metastasis()
    undated = replace(metastasis, onset=None, recorded=None)
    patient = facts(conditions=[undated], events=[mdt_review(400)])
    assert mdt_referral(patient, THRESHOLDS) is None
    finding = mdt_referral(facts(conditions=[undated]), THRESHOLDS)
    assert finding.values["since"] == "an unknown date"


def test_template_fits_every_variant():
    """The MDT-REFERRAL template words every variant within 140 characters."""
    scc = condition("spinal_cord_compression", code="G95.20")
    findings = [
        mdt_referral(facts(conditions=[bone_metastasis()]), THRESHOLDS),
        mdt_referral(facts(conditions=[bone_metastasis(), scc], labs=[lab("mirels_score", 12)]), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)


ASSESSMENT = "https://bonemet-cds.org/fhir/CodeSystem/assessment"


def test_card_from_fhir_chart_lists_the_escalator():
    """From raw FHIR: bone metastasis and ESCC grade 1c: a warning card naming ESCC 1c, with the MDT order."""
    chart = fhir_chart(
        fhir_condition("met", "C79.51"),
        fhir_observation("escc", ASSESSMENT, "escc-grade", {"valueString": "1c"}),
    )
    card = patient_view_card(mdt_referral, chart)
    assert card is not None
    assert card["source"]["topic"]["code"] == RULE and card["indicator"] == "warning"
    assert "ESCC grade 1c" in card["detail"] and "Observation/escc" in card["detail"]
    (action,) = validate_action_resources(card)
    assert action["resource"]["code"]["coding"][0]["code"] == "mdt-review"


def test_fhir_mdt_referral_after_metastasis_stops_the_card():
    """From raw FHIR: an MDT-review ServiceRequest authored after the metastasis onset: no card."""
    chart = fhir_chart(fhir_condition("met", "C79.51"), fhir_service_request("mdt", "mdt-review", days=5))
    assert patient_view_card(mdt_referral, chart) is None


def test_uncorrected_calcium_escalates_but_is_never_called_a_ctcae_grade():
    """An uncorrected total calcium in the grade-3 range still raises the card, named as a range."""
    uncorrected = calcium(13.0, grade=3, basis="total-uncorrected")
    finding = mdt_referral(facts(conditions=[bone_metastasis()], calcium_status=uncorrected), THRESHOLDS)
    assert finding.indicator == "warning"
    assert "CTCAE grade" not in finding.values["escalators"]
    assert "grade 3 range, not corrected for albumin" in finding.values["escalators"]
