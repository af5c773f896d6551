"""ZA-RENAL-DOSING (consensus 6.3.3; zoledronic acid label dose table and creatinine-rise rule)."""

from __future__ import annotations

import pytest

from hooks.rules.za_renal_dosing import za_label_dose, za_renal_dosing
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    crcl,
    denosumab,
    facts,
    lab,
    on_regimen,
    zoledronic_acid,
)

RULE = "ZA-RENAL-DOSING"
LABEL = "Zoledronic acid label (CrCl dose table, set from baseline CrCl)"


def on_za(clearance, *, dose=4.0, labs=(), hook="patient-view", **kw):
    """A patient with confirmed bone metastasis on zoledronic acid (active, or drafted in order hooks)."""
    if hook == "patient-view":
        days = kw.pop("za_days", 30)
        za = zoledronic_acid(dose_mg=dose, days=days)
        if not any(r.analyte == "creatinine" for r in labs):
            labs = (*labs, lab("creatinine", 1.0, days=days + 5))  # the baseline before the first dose
        return za, facts(
            conditions=[bone_metastasis()], medications=[za], clearance=clearance, labs=labs, **kw
        )
    za = zoledronic_acid(dose_mg=dose, draft=True, days=0)
    if not any(r.analyte == "creatinine" for r in labs):
        labs = (*labs, lab("creatinine", 1.0, days=5))  # measured before this dose (label, 7.3.24)
    return za, facts(
        hook=hook, conditions=[bone_metastasis()], drafts=[za], clearance=clearance, labs=labs, **kw
    )


@pytest.mark.parametrize(
    ("clearance", "dose", "key"),
    [
        (90, 4.0, "zoledronic_acid_4mg"),
        (60.5, 4.0, "zoledronic_acid_4mg"),
        (60, 3.5, "zoledronic_acid_3_5mg"),
        (50, 3.5, "zoledronic_acid_3_5mg"),
        (49.5, 3.3, "zoledronic_acid_3_3mg"),
        (40, 3.3, "zoledronic_acid_3_3mg"),
        (39.9, 3.0, "zoledronic_acid_3mg"),
        (30, 3.0, "zoledronic_acid_3mg"),
    ],
)
def test_label_dose_table_is_continuous(clearance, dose, key):
    """The label table covers every CrCl from 30 up, with no gap between 49 and 50 mL/min."""
    assert za_label_dose(clearance, THRESHOLDS) == (dose, key)


def test_label_dose_none_below_30():
    """Below 30 mL/min the label does not recommend zoledronic acid at any dose."""
    assert za_label_dose(29.9, THRESHOLDS) is None


def test_full_dose_at_crcl_55_fires_with_the_reduced_dose():
    """A patient on zoledronic acid 4 mg whose CrCl is 55 mL/min should be on 3.5 mg."""
    za, patient = on_za(crcl(55))
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "dose-above-label")
    assert (
        finding.values["label_dose"] == "3.5"
        and finding.values["dose"] == "4"
        and finding.values["crcl"] == "55"
    )
    assert za.reference in evidence_refs(finding)
    assert any("Creatinine clearance" in e.label for e in finding.evidence)
    assert finding.suggestions == ()
    assert finding.outside_sources == (LABEL,)


def test_normal_kidneys_no_card():
    """A patient on zoledronic acid 4 mg with CrCl 75 mL/min and stable creatinine needs no change."""
    assert za_renal_dosing(on_za(crcl(75))[1], THRESHOLDS) is None


def test_dose_already_reduced_no_card():
    """A patient with CrCl 45 mL/min already on 3.3 mg is on the label dose."""
    assert za_renal_dosing(on_za(crcl(45), dose=3.3)[1], THRESHOLDS) is None


def test_dose_within_tolerance_no_card():
    """A dose recorded as 3.54 mg for CrCl 55 mL/min counts as the 3.5 mg label dose."""
    assert za_renal_dosing(on_za(crcl(55), dose=3.54)[1], THRESHOLDS) is None


def test_crcl_below_30_is_critical_in_patient_view_without_suggestion():
    """A patient on zoledronic acid whose CrCl fell to 25 mL/min should stop it; the card offers no order."""
    _, patient = on_za(crcl(25))
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "not-recommended")
    assert finding.values["crcl"] == "25" and finding.values["crcl_floor"] == "30"
    assert finding.suggestions == ()


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_draft_at_crcl_below_30_is_replaced_by_denosumab(hook):
    """Zoledronic acid drafted for a patient with CrCl 25 mL/min: remove the draft and order denosumab."""
    za, patient = on_za(crcl(25), hook=hook)
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "not-recommended")
    (suggestion,) = finding.suggestions
    assert [(a.type, a.target, a.order_key) for a in suggestion.actions] == [
        ("delete", za.reference, None),
        ("create", None, "denosumab_120mg_q4w"),
    ]
    assert suggestion.is_recommended and finding.selection_behavior == "at-most-one"


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_draft_above_table_is_updated_to_label_dose(hook):
    """Zoledronic acid 4 mg drafted at CrCl 45 mL/min: update the draft to 3.3 mg."""
    za, patient = on_za(crcl(45), hook=hook)
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "dose-above-label")
    (suggestion,) = finding.suggestions
    (action,) = suggestion.actions
    assert (action.type, action.target, action.order_key) == ("update", za.reference, "zoledronic_acid_3_3mg")
    assert za.reference in evidence_refs(finding)


def test_draft_at_label_dose_no_card():
    """Zoledronic acid 3.0 mg drafted at CrCl 35 mL/min matches the table."""
    assert za_renal_dosing(on_za(crcl(35), dose=3.0, hook="order-sign")[1], THRESHOLDS) is None


def test_order_hook_ignores_active_zoledronic_acid_without_draft():
    """In order-sign, an active zoledronic acid order that is not being signed is not re-checked."""
    za = zoledronic_acid(dose_mg=4.0)
    patient = facts(hook="order-sign", medications=[za], drafts=[denosumab(draft=True)], clearance=crcl(25))
    assert za_renal_dosing(patient, THRESHOLDS) is None


def test_denosumab_needs_no_renal_check():
    """A patient on denosumab with CrCl 25 mL/min gets no zoledronic acid dosing card."""
    patient = facts(conditions=[bone_metastasis()], medications=[denosumab()], clearance=crcl(25))
    assert za_renal_dosing(patient, THRESHOLDS) is None


def test_dose_not_stated_with_reduced_crcl():
    """A zoledronic acid order without a readable dose, CrCl 52 mL/min: the card states 3.5 mg."""
    finding = za_renal_dosing(on_za(crcl(52), dose=None)[1], THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "dose-not-stated")
    assert finding.values["label_dose"] == "3.5" and finding.values["dose"] == "not stated"


def test_dose_not_stated_draft_is_updated():
    """A drafted zoledronic acid without a dose, CrCl 52 mL/min: update the draft to 3.5 mg."""
    za, patient = on_za(crcl(52), dose=None, hook="order-select")
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert finding.variant == "dose-not-stated"
    assert [(a.type, a.target, a.order_key) for a in finding.suggestions[0].actions] == [
        ("update", za.reference, "zoledronic_acid_3_5mg")
    ]


def test_dose_not_stated_with_normal_crcl_no_card():
    """Without a dose but with CrCl 80 mL/min, any label dose up to 4 mg is right."""
    assert za_renal_dosing(on_za(crcl(80), dose=None)[1], THRESHOLDS) is None


def test_creatinine_rise_with_normal_baseline_fires():
    """Creatinine rose from 0.9 to 1.5 mg/dL since zoledronic acid started: withhold it."""
    baseline = lab("creatinine", 0.9, days=205)
    current = lab("creatinine", 1.5, days=3)
    _, patient = on_za(crcl(65), labs=[baseline, current], za_days=200)
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "creatinine-rise")
    assert finding.values["baseline"] == "0.9" and finding.values["current"] == "1.5"
    assert finding.values["rise"] == "0.6" and finding.values["limit"] == "0.5"
    assert {baseline.reference, current.reference} <= evidence_refs(finding)
    assert "withhold" in finding.outside_sources[0]


def test_small_creatinine_rise_no_card():
    """Creatinine went from 0.9 to 1.3 mg/dL (rise 0.4) with CrCl 70: no card."""
    labs = [lab("creatinine", 0.9, days=205), lab("creatinine", 1.3, days=3)]
    assert za_renal_dosing(on_za(crcl(70), labs=labs, za_days=200)[1], THRESHOLDS) is None


def test_abnormal_baseline_needs_a_rise_of_one():
    """With a baseline of 1.6 mg/dL, a rise of 0.8 is tolerated and a rise of 1.1 is not."""
    small = [lab("creatinine", 1.6, days=205), lab("creatinine", 2.4, days=3)]
    large = [lab("creatinine", 1.6, days=205), lab("creatinine", 2.7, days=3)]
    assert za_renal_dosing(on_za(crcl(65), labs=small, za_days=200)[1], THRESHOLDS) is None
    finding = za_renal_dosing(on_za(crcl(65), labs=large, za_days=200)[1], THRESHOLDS)
    assert finding.variant == "creatinine-rise" and finding.values["limit"] == "1"


def test_baseline_outside_lookback_is_not_used():
    """A creatinine 120 days before the first dose is too old to be the baseline: no rise is claimed."""
    labs = [lab("creatinine", 0.8, days=320), lab("creatinine", 1.6, days=3)]
    assert za_renal_dosing(on_za(crcl(65), labs=labs, za_days=200)[1], THRESHOLDS) is None


def test_crcl_not_computable_fires_cannot_assess_with_egfr_context():
    """On zoledronic acid with no recent weight, CrCl cannot be computed: say what is missing, show eGFR."""
    egfr = lab("egfr", 48, days=5)
    _, patient = on_za(crcl(None, ("body weight within 90 days",)), labs=[egfr])
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "cannot-assess")
    assert finding.missing == ("body weight within 90 days",)
    assert finding.values["missing"] == "body weight within 90 days"
    assert finding.values["egfr"].startswith("48 mL/min/1.73 m\u00b2")  # the UCUM annotation, in words
    assert egfr.reference in evidence_refs(finding)
    assert finding.suggestions == ()


def test_crcl_not_computable_in_order_hook_is_a_warning():
    """Zoledronic acid drafted with no creatinine on file: a warning, and no dose is guessed."""
    _, patient = on_za(crcl(None, ("serum creatinine",)), hook="order-sign")
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "cannot-assess")
    assert finding.values["egfr"] == "none on file"
    assert finding.suggestions == ()


def test_no_clearance_fact_at_all_is_reported_as_missing():
    """When the facts carry no CrCl assessment at all, the card still says CrCl could not be computed."""
    finding = za_renal_dosing(on_za(None)[1], THRESHOLDS)
    assert finding.variant == "cannot-assess"
    assert finding.missing == ("creatinine clearance could not be computed",)


def test_template_fits_every_variant():
    """The ZA-RENAL-DOSING card template words every variant the rule returns within 140 characters."""
    rise = [lab("creatinine", 1.25, days=205), lab("creatinine", 1.95, days=3)]
    findings = [
        za_renal_dosing(on_za(crcl(24.6))[1], THRESHOLDS),
        za_renal_dosing(on_za(crcl(65.4), labs=rise, za_days=200)[1], THRESHOLDS),
        za_renal_dosing(on_za(crcl(44.7))[1], THRESHOLDS),
        za_renal_dosing(on_za(crcl(52.3), dose=None)[1], THRESHOLDS),
        za_renal_dosing(on_za(crcl(None, ("body weight within 90 days", "sex")))[1], THRESHOLDS),
        za_renal_dosing(
            on_za(crcl(70), hook="order-sign", labs=[lab("creatinine", 1.0, days=420)])[1], THRESHOLDS
        ),
        za_renal_dosing(on_za(crcl(70), labs=[lab("creatinine", 1.0, days=300)], za_days=100)[1], THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)


# RULES.md 7.2.12: the band comes from the baseline CrCl; decline acts through the rise.


def _baseline_patient(hook: str = "patient-view", *, weight_days: float = 205, **kw):
    """Man aged 67 on zoledronic acid 4 mg for 200 days; baseline creatinine 0.9 mg/dL with 70 kg
    (Cockcroft-Gault 78.9 mL/min); today's CrCl 55 mL/min."""
    labs = [lab("creatinine", 0.9, days=205), lab("weight", 70, days=weight_days), *kw.pop("labs", ())]
    chart_za = on_regimen(zoledronic_acid(days=200))
    drafts = [on_regimen(zoledronic_acid(draft=True, days=0))] if hook != "patient-view" else []
    patient = facts(
        hook=hook,
        conditions=[bone_metastasis()],
        medications=[chart_za],
        drafts=drafts,
        labs=labs,
        clearance=crcl(55),
        **kw,
    )
    return chart_za, drafts, patient


def test_dose_band_comes_from_the_baseline_crcl_not_todays():
    """Baseline CrCl 78.9 (4 mg band), today 55 without a creatinine rise: the 4 mg dose stands."""
    _, _, patient = _baseline_patient()
    assert za_renal_dosing(patient, THRESHOLDS) is None


def test_without_a_baseline_weight_the_current_crcl_sets_the_band_and_says_so():
    """No weight near the baseline creatinine: today's CrCl 55 sets the band (3.5 mg); the card says so."""
    _, _, patient = _baseline_patient(weight_days=400)
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.variant, finding.values["label_dose"]) == ("dose-above-label", "3.5")
    assert finding.values["crcl_basis"].startswith("current")


def test_crcl_exactly_60_is_the_3_5_mg_band():
    finding = za_renal_dosing(on_za(crcl(60))[1], THRESHOLDS)
    assert (finding.variant, finding.values["label_dose"], finding.values["crcl"]) == (
        "dose-above-label",
        "3.5",
        "60",
    )


@pytest.mark.parametrize("hook", ["patient-view", "order-sign"])
def test_osteoporosis_zoledronic_acid_is_never_told_to_reduce(hook):
    """Reclast 5 mg yearly at CrCl 45: out of scope (never 'reduce to 3.3 mg' for a 5 mg infusion)."""
    reclast = on_regimen(zoledronic_acid(dose_mg=5.0, interval_days=365, days=30), "osteoporosis")
    if hook == "patient-view":
        patient = facts(medications=[reclast], clearance=crcl(45))
    else:
        draft = on_regimen(
            zoledronic_acid(dose_mg=5.0, interval_days=365, draft=True, days=0), "osteoporosis"
        )
        patient = facts(hook=hook, drafts=[draft], clearance=crcl(45))
    assert za_renal_dosing(patient, THRESHOLDS) is None


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_rise_in_order_hooks_offers_withholding_the_draft_and_a_repeat_creatinine(hook):
    """On zoledronic acid for 200 days, creatinine 0.9 -> 1.6 mg/dL, next dose drafted: withhold it."""
    current = lab("creatinine", 1.6, days=2)
    _, [draft], patient = _baseline_patient(hook, labs=[current])
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "creatinine-rise")
    [suggestion] = finding.suggestions
    assert [(a.type, a.target, a.order_key) for a in suggestion.actions] == [
        ("delete", draft.reference, None),
        ("create", None, "lab_creatinine"),
    ]
    assert finding.values["current_crcl"] == "55 mL/min"


def test_rise_in_patient_view_suggests_a_repeat_creatinine():
    _, _, patient = _baseline_patient(labs=[lab("creatinine", 1.6, days=2)])
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert finding.variant == "creatinine-rise"
    assert [[a.order_key for a in s.actions] for s in finding.suggestions] == [["lab_creatinine"]]


def test_recovered_within_ten_percent_of_baseline_no_card():
    """Creatinine 0.9 -> 1.6 (withhold) -> 0.95 (within 10% of 0.9): treatment may resume."""
    recovered = [lab("creatinine", 1.6, days=40), lab("creatinine", 0.95, days=2)]
    assert za_renal_dosing(_baseline_patient(labs=recovered)[2], THRESHOLDS) is None


def test_still_above_ten_percent_after_a_rise_keeps_withholding():
    """Creatinine 0.9 -> 1.6 -> 1.2 (still over 0.99): withhold until back within 10%."""
    partial = [lab("creatinine", 1.6, days=40), lab("creatinine", 1.2, days=2)]
    finding = za_renal_dosing(_baseline_patient(labs=partial)[2], THRESHOLDS)
    assert finding.variant == "creatinine-rise"
    assert (finding.values["peak"], finding.values["current"], finding.values["recovered_below"]) == (
        "1.6",
        "1.2",
        "0.99",
    )


def test_baseline_after_the_first_dose_is_used_and_named():
    """No creatinine before the first dose; 0.8 mg/dL 10 days after it, 1.4 now: rise 0.6, card says so."""
    labs = [lab("creatinine", 0.8, days=190), lab("creatinine", 1.4, days=2)]
    finding = za_renal_dosing(on_za(crcl(70), labs=labs, za_days=200)[1], THRESHOLDS)
    assert finding.variant == "creatinine-rise"
    assert "first result after it" in finding.values["baseline_note"]


def test_no_creatinine_before_or_after_the_first_dose_says_the_rise_cannot_be_assessed():
    """On zoledronic acid for 100 days; the only creatinine is 300 days old: info, rise not assessable."""
    old = lab("creatinine", 1.0, days=300)
    finding = za_renal_dosing(on_za(crcl(70), labs=[old], za_days=100)[1], THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "no-baseline")
    assert [[a.order_key for a in s.actions] for s in finding.suggestions] == [["lab_creatinine"]]


# RULES.md 7.3.24: creatinine before each dose.


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_draft_with_a_14_month_old_creatinine_asks_for_a_new_one(hook):
    """Zoledronic acid drafted; the newest creatinine is 14 months old: warning, creatinine ServiceRequest."""
    stale = lab("creatinine", 0.9, days=426)
    za, patient = on_za(crcl(80), hook=hook, labs=[stale])
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "creatinine-not-recent")
    assert stale.reference in evidence_refs(finding) and za.reference in evidence_refs(finding)
    assert [[a.order_key for a in s.actions] for s in finding.suggestions] == [["lab_creatinine"]]
    assert finding.values["days"] == "30"


def test_draft_with_a_creatinine_from_last_week_passes():
    assert (
        za_renal_dosing(
            on_za(crcl(80), hook="order-sign", labs=[lab("creatinine", 0.9, days=7)])[1], THRESHOLDS
        )
        is None
    )


def test_egfr_below_30_without_crcl_is_a_warning_in_patient_view():
    """CrCl not computable (no weight) and eGFR 24: a warning, not info."""
    _, patient = on_za(crcl(None, ("body weight within 90 days",)), labs=[lab("egfr", 24, days=5)])
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "cannot-assess")


def _fhir_observation(rid: str, loinc: str, value: float, unit: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": "2026-11-20",
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def _za_order_cards(hook: str, creatinine_mg_dl: float) -> list[dict]:
    """A 68-year-old man of 70 kg with bone metastasis; zoledronic acid 4 mg every 4 weeks drafted (FHIR)."""
    from tests.rules.factories import fhir_chart, fhir_condition, fhir_medication_request, order_hook_cards

    chart = fhir_chart(
        fhir_condition("bm", "C79.51"),
        _fhir_observation("wt", "29463-7", 70, "kg"),
        _fhir_observation("cr", "2160-0", creatinine_mg_dl, "mg/dL"),
    )
    draft = fhir_medication_request(
        "za1", "77655", "Zoledronic acid 4 mg", dose_mg=4, period=4, period_unit="wk"
    )
    return order_hook_cards(hook, chart, [draft])


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_order_hook_update_is_valid_fhir_at_the_label_dose(hook):
    """CrCl 43.75 mL/min (creatinine 1.6 mg/dL): the drafted 4 mg becomes a valid 3.3 mg MedicationRequest."""
    from tests.rules.factories import card_for, validate_action_resources

    card = card_for(_za_order_cards(hook, 1.6), RULE)
    assert card is not None and card["indicator"] == "warning"
    (action,) = validate_action_resources(card)
    assert action["type"] == "update" and action["resource"]["id"] == "za1"
    assert action["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "77655"
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 3.3


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_order_hook_below_30_deletes_the_draft_and_creates_valid_denosumab(hook):
    """CrCl 28 mL/min (creatinine 2.5 mg/dL): delete MedicationRequest/za1, create denosumab 120 mg q4w."""
    from tests.rules.factories import card_for, validate_action_resources

    card = card_for(_za_order_cards(hook, 2.5), RULE)
    assert card is not None and card["indicator"] == "critical"
    delete, create = validate_action_resources(card)
    assert (delete["type"], delete["resourceId"]) == ("delete", "MedicationRequest/za1")
    assert create["type"] == "create" and create["resource"]["status"] == "draft"
    assert create["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "1046398"
    assert create["resource"]["subject"] == {"reference": "Patient/p1"}
    assert create["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 120


def test_dose_card_shows_the_baseline_clearance_that_set_the_band():
    """Baseline creatinine 1.2 mg/dL with 66 kg (CrCl 55.8): 3.5 mg band although today's CrCl is 70."""
    labs = [lab("creatinine", 1.2, days=205), lab("weight", 66, days=205), lab("creatinine", 1.1, days=3)]
    za = zoledronic_acid(days=200)
    patient = facts(conditions=[bone_metastasis()], medications=[za], labs=labs, clearance=crcl(70))
    finding = za_renal_dosing(patient, THRESHOLDS)
    assert (finding.variant, finding.values["label_dose"], finding.values["crcl"]) == (
        "dose-above-label",
        "3.5",
        "55.8",
    )
    assert (
        finding.values["crcl_basis"].startswith("baseline") and finding.values["current_crcl"] == "70 mL/min"
    )
    assert any(e.label == "Baseline creatinine clearance (Cockcroft-Gault)" for e in finding.evidence)


def test_a_card_relying_on_an_unread_regimen_says_so():
    """Zoledronic acid with no readable regimen (7.1.5) is checked as oncology, and the card says why."""
    unknown = on_regimen(zoledronic_acid(days=30), "unknown")
    patient = facts(medications=[unknown], clearance=crcl(55), labs=[lab("creatinine", 1.0, days=35)])
    assert "could not be read" in za_renal_dosing(patient, THRESHOLDS).values["regimen_note"]
    oncology = on_regimen(zoledronic_acid(days=30), "oncology")
    patient = facts(medications=[oncology], clearance=crcl(55), labs=[lab("creatinine", 1.0, days=35)])
    assert za_renal_dosing(patient, THRESHOLDS).values["regimen_note"] == ""
