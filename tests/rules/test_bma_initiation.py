"""BMA-INITIATION (consensus 6.3, Table 1): a bone-modifying drug for confirmed bone metastasis."""

from __future__ import annotations

from hooks.orders import STOP_ORDER
from hooks.rules.bma_initiation import bma_initiation
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    coded,
    condition,
    crcl,
    denosumab,
    event,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    patient_view_card,
    validate_action_resources,
    zoledronic_acid,
)

RULE = "BMA-INITIATION"


def untreated(clearance=None, **kw):
    """A patient with lung cancer and confirmed bone metastasis, on no bone-modifying drug."""
    kw.setdefault("conditions", [bone_metastasis()])
    kw.setdefault("calcium_status", calcium(9.4))
    return facts(clearance=clearance if clearance is not None else crcl(72), **kw)


def test_confirmed_metastasis_without_bma_fires_with_denosumab_preferred():
    """Confirmed bone metastasis, no BMA, normal calcium, CrCl 72: denosumab, or zoledronic acid 4 mg."""
    metastasis = bone_metastasis()
    finding = bma_initiation(untreated(conditions=[metastasis]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "default")
    assert order_keys(finding) == [["denosumab_120mg_q4w"], ["zoledronic_acid_4mg"]]
    assert [s.is_recommended for s in finding.suggestions] == [True, False]
    assert all(a.type == "create" for s in finding.suggestions for a in s.actions)
    assert finding.selection_behavior == "at-most-one"
    assert finding.values["za_dose"] == "4"
    assert finding.values["life_expectancy"] == "not documented"
    assert (finding.values["duration_from"], finding.values["duration_to"]) == ("18", "24")
    assert metastasis.reference in evidence_refs(finding)
    assert finding.missing == ()


def test_zoledronic_acid_alternative_follows_crcl():
    """With CrCl 45 mL/min the zoledronic acid alternative is the 3.3 mg label dose."""
    finding = bma_initiation(untreated(crcl(45)), THRESHOLDS)
    assert order_keys(finding) == [["denosumab_120mg_q4w"], ["zoledronic_acid_3_3mg"]]
    assert finding.values["za_dose"] == "3.3"


def test_crcl_below_30_offers_only_denosumab():
    """With CrCl 24 mL/min zoledronic acid is not recommended, so only denosumab is offered."""
    finding = bma_initiation(untreated(crcl(24)), THRESHOLDS)
    assert finding.variant == "za-not-recommended"
    assert order_keys(finding) == [["denosumab_120mg_q4w"]]
    assert finding.values["crcl"] == "24"


def test_crcl_unknown_lists_what_is_missing_and_offers_no_zoledronic_acid():
    """No recent weight: CrCl cannot be computed, so no zoledronic acid dose is guessed."""
    finding = bma_initiation(untreated(crcl(None, ("body weight within 90 days",))), THRESHOLDS)
    assert finding.variant == "za-dose-unknown"
    assert order_keys(finding) == [["denosumab_120mg_q4w"]]
    assert finding.missing == ("body weight within 90 days",)
    assert finding.values["crcl_missing"] == "body weight within 90 days"


def test_suspected_metastasis_never_fires():
    """A bone lesion only suspected (provisional) must not start a bone-modifying drug (Table 1)."""
    patient = untreated(conditions=[bone_metastasis(verification="suspected")])
    assert bma_initiation(patient, THRESHOLDS) is None


def test_lung_cancer_without_metastasis_no_card():
    """Lung cancer without bone metastasis (risk alone) is no indication."""
    assert bma_initiation(untreated(conditions=[]), THRESHOLDS) is None


def test_active_bma_no_card():
    """A patient already on denosumab needs no initiation card."""
    assert bma_initiation(untreated(medications=[denosumab()]), THRESHOLDS) is None


def test_stopped_bma_does_not_count_as_active():
    """A patient whose zoledronic acid was stopped is again a candidate."""
    stopped = zoledronic_acid(status="stopped", days=400)
    assert bma_initiation(untreated(medications=[stopped]), THRESHOLDS) is not None


def test_documented_short_life_expectancy_no_card():
    """A patient documented as terminally ill, or in hospice, is not offered a bone-modifying drug."""
    terminal = condition("life_expectancy_limited", code="300936002")
    assert bma_initiation(untreated(conditions=[bone_metastasis(), terminal]), THRESHOLDS) is None
    assert bma_initiation(untreated(events=[event("hospice", status="in-progress")]), THRESHOLDS) is None


def test_documented_life_expectancy_of_three_months_or_more_is_shown():
    """An assessment saying life expectancy is not under 3 months is shown instead of asking for it."""
    assessment = coded("life_expectancy_under_3_months", "false")
    finding = bma_initiation(untreated(coded_results=[assessment]), THRESHOLDS)
    assert finding.values["life_expectancy"] == "at least 3 months (documented)"
    assert assessment.reference in evidence_refs(finding)


def test_low_calcium_defers_to_hypocalcemia_correction():
    """Corrected calcium 7.9 mg/dL: correct it first (HYPOCALCEMIA-CORRECTION), no initiation card."""
    assert bma_initiation(untreated(calcium_status=calcium(7.9)), THRESHOLDS) is None


def test_missing_calcium_does_not_block():
    """No calcium result on file does not block the recommendation (the work-up card asks for it)."""
    assert bma_initiation(untreated(calcium_status=None), THRESHOLDS) is not None


def test_order_hooks_never_fire():
    """In order-sign the clinician is already ordering: initiation is a patient-view card only."""
    assert bma_initiation(untreated(hook="order-sign", drafts=[denosumab(draft=True)]), THRESHOLDS) is None


def on_prolia():
    return denosumab(dose_mg=60, interval_days=183, product="prolia")


def test_prolia_with_confirmed_metastasis_switches_to_the_oncology_regimen():
    """7.1.5 / 7.2.10: on Prolia with confirmed bone metastasis: start 120 mg and stop Prolia, together."""
    prolia = on_prolia()
    finding = bma_initiation(untreated(medications=[prolia]), THRESHOLDS)
    assert finding is not None and finding.variant == "switch"
    assert [[(a.type, a.order_key, a.target) for a in s.actions] for s in finding.suggestions] == [
        [("create", "denosumab_120mg_q4w", None), ("update", STOP_ORDER, prolia.reference)],
        [("create", "zoledronic_acid_4mg", None), ("update", STOP_ORDER, prolia.reference)],
    ]
    assert prolia.reference in evidence_refs(finding)
    assert any("Xgeva label" in s for s in finding.outside_sources)


def test_active_oncology_denosumab_still_means_no_initiation():
    """Xgeva active: not indicated (the switch is only for an osteoporosis regimen)."""
    assert bma_initiation(untreated(medications=[denosumab()]), THRESHOLDS) is None


def test_unreadable_regimen_counts_as_an_active_bma():
    """7.1.5: an active denosumab order with no product, dose or interval counts as oncology: no card."""
    unread = denosumab(dose_mg=None, product=None, interval_days=None)
    assert unread.regimen == "unknown"
    assert bma_initiation(untreated(medications=[unread]), THRESHOLDS) is None


def test_hypercalcemia_card_does_not_tell_to_take_calcium():
    """7.2.10: calcium high: supplementation starts once calcium is normal."""
    finding = bma_initiation(untreated(calcium_status=calcium(11.8, grade=2)), THRESHOLDS)
    text = finding.values["before_first_dose"]
    assert "once calcium is back to normal" in text and "no calcium supplement now" in text
    normal = bma_initiation(untreated(), THRESHOLDS).values["before_first_dose"]
    assert normal.startswith("Before the first dose: calcium and vitamin D")


def test_switch_card_from_fhir_stops_the_chart_prolia_order():
    """FHIR patient-view: Prolia 60 mg active, bone metastasis confirmed: the stop is a valid full order."""
    prolia = fhir_medication_request(
        "prolia1", "993452", "Prolia 60 mg", dose_mg=60, period=6, period_unit="mo", status="active"
    )
    card = patient_view_card(bma_initiation, fhir_chart(fhir_condition("bm", "C79.51"), prolia))
    assert card is not None
    actions = validate_action_resources(card)
    stops = [a for a in actions if a["type"] == "update"]
    assert stops and all(
        a["resource"]["id"] == "prolia1" and a["resource"]["status"] == "stopped" for a in stops
    )
    assert card["summary"].startswith("Bone metastasis: stop the osteoporosis regimen")


def test_template_fits_every_variant():
    """The BMA-INITIATION card template words every variant the rule returns within 140 characters."""
    missing = ("body weight within 90 days", "serum creatinine")
    findings = [
        bma_initiation(untreated(crcl(57.3)), THRESHOLDS),
        bma_initiation(untreated(crcl(24.6)), THRESHOLDS),
        bma_initiation(untreated(crcl(None, missing)), THRESHOLDS),
        bma_initiation(untreated(crcl(57.3), medications=[on_prolia()]), THRESHOLDS),
        bma_initiation(untreated(crcl(24.6), medications=[on_prolia()]), THRESHOLDS),
        bma_initiation(untreated(crcl(None, missing), medications=[on_prolia()]), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)
