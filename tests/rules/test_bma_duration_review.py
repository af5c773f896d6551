"""BMA-DURATION-REVIEW (consensus Table 1 duration, section 7): review after 18-24 months of treatment."""

from __future__ import annotations

from dataclasses import replace

from hooks.rules.bma_duration_review import bma_duration_review
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import THRESHOLDS, denosumab, facts, zoledronic_acid

RULE = "BMA-DURATION-REVIEW"
MONTH = 30.44


def test_twenty_months_on_denosumab_is_info():
    """On denosumab for 20 months: review whether to continue (info)."""
    drug = denosumab(days=20 * MONTH)
    finding = bma_duration_review(facts(medications=[drug]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "review")
    assert finding.values["months"] == "20" and finding.values["since"] == drug.start.isoformat()
    assert (finding.values["review_months"], finding.values["warning_months"]) == ("18", "24")
    assert evidence_refs(finding) == {drug.reference}
    assert finding.suggestions == ()


def test_twenty_five_months_is_a_warning():
    """On zoledronic acid for 25 months: beyond the 2 years of section 7 (warning)."""
    finding = bma_duration_review(facts(medications=[zoledronic_acid(days=25 * MONTH)]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "long-term")


def test_twelve_months_no_card():
    """On denosumab for 12 months: too early to review."""
    assert bma_duration_review(facts(medications=[denosumab(days=12 * MONTH)]), THRESHOLDS) is None


def test_switch_counts_from_the_first_agent():
    """Zoledronic acid for 16 months, then denosumab for 10: 26 months of treatment in all."""
    first = zoledronic_acid(status="stopped", days=26 * MONTH)
    now = denosumab(days=10 * MONTH)
    finding = bma_duration_review(facts(medications=[now, first]), THRESHOLDS)
    assert finding.indicator == "warning"
    assert finding.values["since"] == first.start.isoformat()
    assert [e.reference for e in finding.evidence] == [first.reference, now.reference]


def test_cancelled_order_does_not_start_the_clock():
    """A zoledronic acid order cancelled 30 months ago was never given: 10 months of denosumab only."""
    cancelled = zoledronic_acid(status="cancelled", days=30 * MONTH)
    assert bma_duration_review(facts(medications=[denosumab(days=10 * MONTH), cancelled]), THRESHOLDS) is None


def test_no_active_bma_no_card():
    """Zoledronic acid stopped after 30 months: nothing active to review."""
    stopped = zoledronic_acid(status="stopped", days=30 * MONTH)
    assert bma_duration_review(facts(medications=[stopped]), THRESHOLDS) is None


def test_undated_orders_no_card():
    """Active denosumab with no start or authored date: the duration is unknown and not guessed."""
    undated = replace(denosumab(), start=None, authored=None)
    assert bma_duration_review(facts(medications=[undated]), THRESHOLDS) is None


def test_order_hooks_no_card():
    """Duration review is a chart-review card; it does not run on order-sign."""
    patient = facts(
        hook="order-sign", medications=[denosumab(days=30 * MONTH)], drafts=[denosumab(draft=True)]
    )
    assert bma_duration_review(patient, THRESHOLDS) is None


def test_template_fits_every_variant():
    """The BMA-DURATION-REVIEW template words both variants within 140 characters."""
    findings = [
        bma_duration_review(facts(medications=[denosumab(days=19 * MONTH)]), THRESHOLDS),
        bma_duration_review(facts(medications=[denosumab(days=31 * MONTH)]), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)
