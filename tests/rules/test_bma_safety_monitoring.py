"""BMA-SAFETY-MONITORING (consensus Table 1 precautions): calcium and creatinine monitoring on a BMA."""

from __future__ import annotations

from hooks.rules.bma_safety_monitoring import bma_safety_monitoring
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, bone_metastasis, denosumab, facts, lab, zoledronic_acid

RULE = "BMA-SAFETY-MONITORING"
TABLE_1_SET = [["lab_calcium"], ["lab_creatinine"], ["lab_phosphate"], ["lab_magnesium"]]


def test_stale_calcium_on_denosumab_fires_with_the_monitoring_set():
    """On denosumab, calcium last measured 45 days ago: order calcium, creatinine, phosphate, magnesium."""
    drug = denosumab()
    old_calcium = lab("calcium_total", 9.1, days=45)
    patient = facts(medications=[drug], labs=[old_calcium, lab("creatinine", 0.9, days=10)])
    finding = bma_safety_monitoring(patient, THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert finding.values == {"overdue": "calcium", "recency_days": "30"}
    assert order_keys(finding) == TABLE_1_SET
    assert all(a.type == "create" for s in finding.suggestions for a in s.actions)
    assert finding.selection_behavior == "any"
    assert {drug.reference, old_calcium.reference} <= evidence_refs(finding)
    assert finding.missing == ("Calcium within 30 days",)


def test_fresh_results_no_card():
    """On zoledronic acid with calcium and creatinine from last week: monitoring is current."""
    labs = [lab("calcium_corrected", 9.2, days=7), lab("creatinine", 1.0, days=7)]
    assert bma_safety_monitoring(facts(medications=[zoledronic_acid()], labs=labs), THRESHOLDS) is None


def test_no_results_at_all_lists_both():
    """On denosumab with no calcium or creatinine on file: both are missing."""
    finding = bma_safety_monitoring(facts(medications=[denosumab()]), THRESHOLDS)
    assert finding.values["overdue"] == "calcium and creatinine"
    assert finding.missing == ("Calcium within 30 days", "Creatinine within 30 days")


def test_phosphate_and_magnesium_alone_do_not_trigger():
    """Phosphate and magnesium missing while calcium and creatinine are fresh: no card."""
    labs = [lab("calcium_total", 9.2, days=3), lab("creatinine", 1.0, days=3)]
    assert bma_safety_monitoring(facts(medications=[denosumab()], labs=labs), THRESHOLDS) is None


def test_no_active_bma_no_card():
    """Confirmed bone metastasis but no BMA: nothing to monitor."""
    assert bma_safety_monitoring(facts(conditions=[bone_metastasis()]), THRESHOLDS) is None


def test_stopped_bma_no_card():
    """Zoledronic acid stopped last year: no monitoring card."""
    assert bma_safety_monitoring(facts(medications=[zoledronic_acid(status="stopped")]), THRESHOLDS) is None


def test_order_hooks_no_card():
    """Monitoring is a chart-review card; it does not run on order-sign."""
    patient = facts(hook="order-sign", medications=[denosumab()], drafts=[denosumab(draft=True)])
    assert bma_safety_monitoring(patient, THRESHOLDS) is None


def test_template_fits_every_variant():
    """The BMA-SAFETY-MONITORING template words its variant within 140 characters."""
    assert_template_fits(RULE, [bma_safety_monitoring(facts(medications=[denosumab()]), THRESHOLDS)])
