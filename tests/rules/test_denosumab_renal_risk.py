"""DENOSUMAB-RENAL-RISK (RULES.md 7.2.13; Xgeva label): severe hypocalcemia risk with failing kidneys."""

from __future__ import annotations

import pytest

from hooks.rules.denosumab_renal_risk import denosumab_renal_risk
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    condition,
    crcl,
    denosumab,
    facts,
    lab,
    zoledronic_acid,
)

RULE = "DENOSUMAB-RENAL-RISK"


def test_crcl_below_30_on_denosumab_is_a_warning_with_a_calcium_order():
    """On denosumab, CrCl 24 mL/min, last calcium 20 days ago: warning, serum calcium suggested."""
    drug = denosumab(days=90)
    old_calcium = lab("calcium_total", 9.1, days=20)
    finding = denosumab_renal_risk(
        facts(medications=[drug], clearance=crcl(24), labs=[old_calcium]), THRESHOLDS
    )
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "warning", "default")
    assert "creatinine clearance 24 mL/min" in finding.values["reason"]
    assert order_keys(finding) == [["lab_calcium"]]
    assert {drug.reference, old_calcium.reference} <= evidence_refs(finding)
    assert "Xgeva" in finding.outside_sources[0]


def test_recent_calcium_means_no_calcium_order():
    finding = denosumab_renal_risk(
        facts(medications=[denosumab()], clearance=crcl(24), labs=[lab("calcium_total", 9.1, days=3)]),
        THRESHOLDS,
    )
    assert finding.indicator == "warning" and finding.suggestions == ()


def test_crcl_of_30_or_more_no_card():
    assert denosumab_renal_risk(facts(medications=[denosumab()], clearance=crcl(30)), THRESHOLDS) is None


def test_egfr_decides_only_when_crcl_cannot_be_computed():
    """No weight (CrCl not computable), eGFR 22: warning naming the eGFR; with CrCl 45 the eGFR is ignored."""
    egfr = lab("egfr", 22, days=4)
    no_crcl = facts(medications=[denosumab()], clearance=crcl(None, ("body weight",)), labs=[egfr])
    finding = denosumab_renal_risk(no_crcl, THRESHOLDS)
    assert finding.values["reason"].startswith("eGFR 22") and egfr.reference in evidence_refs(finding)
    with_crcl = facts(medications=[denosumab()], clearance=crcl(45), labs=[egfr])
    assert denosumab_renal_risk(with_crcl, THRESHOLDS) is None


def test_dialysis_on_the_chart_fires_whatever_the_numbers():
    dialysis = condition("dialysis", code="Z99.2", days=400)
    finding = denosumab_renal_risk(
        facts(medications=[denosumab()], conditions=[dialysis], clearance=crcl(None)), THRESHOLDS
    )
    assert finding.values["reason"] == "dialysis on the chart" and dialysis.reference in evidence_refs(
        finding
    )


def test_zoledronic_acid_is_not_this_rule():
    """Zoledronic acid at CrCl 24 is ZA-RENAL-DOSING's (not recommended), not a denosumab card."""
    assert (
        denosumab_renal_risk(facts(medications=[zoledronic_acid()], clearance=crcl(24)), THRESHOLDS) is None
    )


def test_being_started_in_patient_view_fires():
    """Confirmed bone metastasis, no BMA yet (BMA-INITIATION recommends denosumab), CrCl 20: warning."""
    patient = facts(conditions=[bone_metastasis()], clearance=crcl(20), calcium_status=calcium(9.2))
    assert denosumab_renal_risk(patient, THRESHOLDS).indicator == "warning"


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_denosumab_draft_fires_in_order_hooks(hook):
    draft = denosumab(draft=True, days=0)
    finding = denosumab_renal_risk(facts(hook=hook, drafts=[draft], clearance=crcl(18)), THRESHOLDS)
    assert finding.indicator == "warning" and draft.reference in evidence_refs(finding)


def test_order_hook_without_denosumab_draft_no_card():
    patient = facts(hook="order-sign", medications=[denosumab()], drafts=[], clearance=crcl(18))
    assert denosumab_renal_risk(patient, THRESHOLDS) is None


def test_hypercalcemic_patient_is_not_told_to_take_calcium_now():
    high = calcium(12.0, grade=2)
    finding = denosumab_renal_risk(
        facts(medications=[denosumab()], clearance=crcl(25), calcium_status=high), THRESHOLDS
    )
    assert finding.variant == "hypercalcemia"


def test_template_fits_every_variant():
    findings = [
        denosumab_renal_risk(facts(medications=[denosumab()], clearance=crcl(24.4)), THRESHOLDS),
        denosumab_renal_risk(
            facts(medications=[denosumab()], clearance=crcl(25), calcium_status=calcium(12.0, grade=2)),
            THRESHOLDS,
        ),
    ]
    assert_template_fits(RULE, findings)
