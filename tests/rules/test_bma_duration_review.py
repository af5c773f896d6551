"""BMA-DURATION-REVIEW (consensus Table 1 duration, section 7): review after 18-24 months of treatment."""

from __future__ import annotations

from dataclasses import replace

from hooks.rules.bma_duration_review import bma_duration_review
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import THRESHOLDS, condition, denosumab, facts, on_regimen, zoledronic_acid

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
    """Zoledronic acid for 16 months, then denosumab for 10 after a 30-day gap: 26 months in one course."""
    first = on_regimen(zoledronic_acid(status="stopped", days=26 * MONTH), ended_days=10 * MONTH + 30)
    now = denosumab(days=10 * MONTH)
    finding = bma_duration_review(facts(medications=[now, first]), THRESHOLDS)
    assert finding.indicator == "warning"
    assert finding.values["since"] == first.start.isoformat()
    assert [e.reference for e in finding.evidence] == [first.reference, now.reference]


def test_restart_after_a_long_gap_starts_a_new_course():
    """Zoledronic acid 3 years ago for 20 months, stopped 16 months ago; denosumab restarted 10 months ago:
    the current course is 10 months old, so no review yet (the old course does not start today's clock)."""
    old = on_regimen(zoledronic_acid(status="stopped", days=36 * MONTH), ended_days=16 * MONTH)
    assert bma_duration_review(facts(medications=[old, denosumab(days=10 * MONTH)]), THRESHOLDS) is None


def test_osteoporosis_regimen_does_not_count():
    """Prolia for 4 years (osteoporosis), Xgeva for 5 months: the oncology course is 5 months old."""
    prolia = on_regimen(
        denosumab(product="prolia", dose_mg=60, interval_days=182, status="stopped", days=48 * MONTH),
        "osteoporosis",
        ended_days=5 * MONTH + 10,
    )
    xgeva = on_regimen(denosumab(days=5 * MONTH))
    assert bma_duration_review(facts(medications=[prolia, xgeva]), THRESHOLDS) is None
    only_prolia = on_regimen(denosumab(product="prolia", dose_mg=60, days=30 * MONTH), "osteoporosis")
    assert bma_duration_review(facts(medications=[only_prolia]), THRESHOLDS) is None


def test_extended_interval_after_24_months_is_info():
    """Zoledronic acid for 26 months, now every 12 weeks: the continuation Table 1 allows (info)."""
    spaced = zoledronic_acid(days=26 * MONTH, interval_days=84)
    finding = bma_duration_review(facts(medications=[spaced]), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "extended-interval")
    assert finding.values["interval_weeks"] == "12"


def test_eleven_weekly_interval_after_24_months_is_still_a_warning():
    finding = bma_duration_review(
        facts(medications=[zoledronic_acid(days=26 * MONTH, interval_days=77)]), THRESHOLDS
    )
    assert (finding.indicator, finding.variant) == ("warning", "long-term")


def test_limited_life_expectancy_on_treatment_is_info_whatever_the_duration():
    """On denosumab for 4 months with terminal illness documented: review whether to continue (info)."""
    terminal = condition("life_expectancy_limited", code="300936002", days=5)
    finding = bma_duration_review(
        facts(medications=[denosumab(days=4 * MONTH)], conditions=[terminal]), THRESHOLDS
    )
    assert (finding.indicator, finding.variant) == ("info", "limited-life-expectancy")
    assert terminal.reference in evidence_refs(finding)


def test_hospice_without_active_bma_no_card():
    """Terminal illness documented but the BMA was stopped: nothing to review."""
    terminal = condition("life_expectancy_limited", code="300936002", days=5)
    stopped = zoledronic_acid(status="stopped", days=200)
    assert bma_duration_review(facts(medications=[stopped], conditions=[terminal]), THRESHOLDS) is None


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
    """The BMA-DURATION-REVIEW template words every variant within 140 characters (undated start too)."""
    terminal = condition("life_expectancy_limited", code="300936002", days=5)
    findings = [
        bma_duration_review(facts(medications=[denosumab(days=19 * MONTH)]), THRESHOLDS),
        bma_duration_review(facts(medications=[denosumab(days=31 * MONTH)]), THRESHOLDS),
        bma_duration_review(facts(medications=[denosumab(days=31 * MONTH, interval_days=84)]), THRESHOLDS),
        bma_duration_review(
            facts(medications=[denosumab(days=3 * MONTH)], conditions=[terminal]), THRESHOLDS
        ),
        bma_duration_review(
            facts(medications=[replace(denosumab(), start=None, authored=None)], conditions=[terminal]),
            THRESHOLDS,
        ),
    ]
    assert_template_fits(RULE, findings)


def test_a_course_with_an_unread_regimen_says_so():
    unknown = on_regimen(zoledronic_acid(days=20 * MONTH), "unknown")
    finding = bma_duration_review(facts(medications=[unknown]), THRESHOLDS)
    assert "could not be read" in finding.values["regimen_note"]
