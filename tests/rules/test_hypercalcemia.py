"""HYPERCALCEMIA (consensus sections 4 and 6; CTCAE v5 grades): grade a high calcium."""

from __future__ import annotations

import re

import pytest

from hooks.rules.hypercalcemia import hypercalcemia
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, load_template
from tests.rules.factories import THRESHOLDS, bone_metastasis, calcium, facts

RULE = "HYPERCALCEMIA"


def high(value, grade, **kw):
    return facts(conditions=[bone_metastasis()], calcium_status=calcium(value, grade=grade, **kw))


def test_grade_1_is_info():
    """Corrected calcium 11.0 mg/dL (CTCAE grade 1): info, value and unit as reported."""
    patient = high(11.0, 1)
    finding = hypercalcemia(patient, THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert finding.values["grade"] == "1"
    assert (finding.values["value"], finding.values["unit"]) == ("11", "mg/dL")
    assert finding.values["basis"] == "total calcium corrected for albumin"
    assert patient.calcium.evidence[0].reference in evidence_refs(finding)
    assert finding.outside_sources == ("CTCAE v5 (hypercalcemia grades)",)
    assert finding.suggestions == ()


@pytest.mark.parametrize(
    ("value", "grade", "indicator", "variant"),
    [(12.0, 2, "warning", "default"), (13.0, 3, "critical", "severe"), (14.2, 4, "critical", "severe")],
)
def test_indicator_follows_ctcae_grade(value, grade, indicator, variant):
    """Grade 2 is a warning; grades 3 and 4 are critical."""
    finding = hypercalcemia(high(value, grade), THRESHOLDS)
    assert (finding.indicator, finding.variant, finding.values["grade"]) == (indicator, variant, str(grade))


def test_mmol_per_litre_is_shown_as_reported():
    """Corrected calcium 3.2 mmol/L (grade 3 in mmol/L) is shown in mmol/L."""
    finding = hypercalcemia(high(3.2, 3, unit="mmol/L", low=2.12, high=2.62), THRESHOLDS)
    assert (finding.values["value"], finding.values["unit"], finding.values["high_limit"]) == (
        "3.2",
        "mmol/L",
        "2.62",
    )
    assert finding.indicator == "critical"


def test_uncorrected_basis_is_named():
    """Total calcium 11.4 mg/dL with no albumin: the card says it is not albumin-corrected."""
    finding = hypercalcemia(high(11.4, 1, basis="total-uncorrected"), THRESHOLDS)
    assert "NOT corrected for albumin" in finding.values["basis"]


def test_high_by_local_range_but_not_ctcae_is_grade_1():
    """Above the laboratory's upper limit (10.2) but graded 0: shown as grade 1 (above the upper limit)."""
    finding = hypercalcemia(high(10.4, 0, high=10.2), THRESHOLDS)
    assert (finding.indicator, finding.values["grade"]) == ("info", "1")


def test_normal_or_low_calcium_no_card():
    """Corrected calcium 9.5 or 7.9 mg/dL is not hypercalcemia."""
    assert hypercalcemia(high(9.5, 0), THRESHOLDS) is None
    assert hypercalcemia(high(7.9, 0), THRESHOLDS) is None


def test_no_calcium_result_no_card():
    """No calcium on file: hypercalcemia cannot be claimed."""
    assert hypercalcemia(facts(conditions=[bone_metastasis()]), THRESHOLDS) is None


def test_order_hooks_no_card():
    """Hypercalcemia is a patient-view card only."""
    patient = facts(hook="order-sign", calcium_status=calcium(13.0, grade=3))
    assert hypercalcemia(patient, THRESHOLDS) is None


def test_template_fits_every_variant():
    """The HYPERCALCEMIA template words both variants within 140 characters."""
    findings = [
        hypercalcemia(high(2.95, 2, unit="mmol/L", low=2.12, high=2.62), THRESHOLDS),
        hypercalcemia(high(13.75, 4), THRESHOLDS),
        hypercalcemia(high(11.4, 1, basis="total-uncorrected"), THRESHOLDS),
        hypercalcemia(high(13.0, 3, basis="total-uncorrected"), THRESHOLDS),
    ]
    assert_template_fits(RULE, findings)


def test_uncorrected_calcium_is_never_labelled_with_a_ctcae_grade():
    """Total calcium 13.0 mg/dL with no albumin: critical (severe range) but no CTCAE grade is claimed."""
    finding = hypercalcemia(high(13.0, 3, basis="total-uncorrected"), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("critical", "uncorrected-severe")
    variant = load_template(RULE)["variants"][finding.variant]
    summary = variant["summary"].format_map(finding.values)
    detail = variant["detail"].format_map(finding.values)
    assert "grade not assigned" in summary and "CTCAE grade 3" not in summary
    assert not re.search(r"CTCAE (v5 )?grade \d", detail) and "not corrected for albumin" in detail


def test_corrected_calcium_keeps_its_ctcae_grade_in_the_summary():
    finding = hypercalcemia(high(12.0, 2), THRESHOLDS)
    summary = load_template(RULE)["variants"][finding.variant]["summary"].format_map(finding.values)
    assert finding.variant == "default" and "CTCAE grade 2" in summary


def test_shared_grade_helpers_never_grade_uncorrected_calcium():
    """For other cards (MDT-REFERRAL escalation, labelled hypercalcemia treatment): no CTCAE grade is
    claimed for an uncorrected total calcium."""
    from hooks.rules._shared import ctcae_hypercalcemia_grade, hypercalcemia_grade_label

    corrected = calcium(13.0, grade=3)
    uncorrected = calcium(13.0, grade=3, basis="total-uncorrected")
    assert (ctcae_hypercalcemia_grade(corrected), ctcae_hypercalcemia_grade(uncorrected)) == (3, 0)
    assert hypercalcemia_grade_label(corrected) == "CTCAE grade 3"
    assert hypercalcemia_grade_label(uncorrected) == (
        "grade 3 range, not corrected for albumin (grade not assigned)"
    )
