"""BONE-SCAN-FOLLOWUP (consensus 5.1.4): bone monitoring once or twice a year (default every 12 months)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hooks.rules._shared import add_months
from hooks.rules.bone_scan_followup import bone_scan_followup
from hooks.why_not import listening
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import NOW, THRESHOLDS, bone_metastasis, event, facts, imaging, lung_cancer

RULE = "BONE-SCAN-FOLLOWUP"
# Exactly 12 calendar months before NOW (2026-11-23) is 2025-11-23.
TWELVE_MONTHS_DAYS = (NOW.date() - add_months(NOW.date(), -12)).days


def scanned(days, **kw):
    """Lung cancer diagnosed 800 days ago and a bone scan `days` ago."""
    return facts(
        with_lung_cancer=False,
        conditions=[lung_cancer(days=800), *kw.pop("conditions", ())],
        imaging_studies=[imaging("NM", days=days)],
        **kw,
    )


def test_scan_fourteen_months_ago_fires():
    patient = scanned(430)
    finding = bone_scan_followup(patient, THRESHOLDS)
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert order_keys(finding) == [["imaging_bone_scan_whole_body"]]
    assert patient.imaging[0].reference in evidence_refs(finding)


@pytest.mark.parametrize(("offset", "fires"), [(-1, False), (0, False), (1, True)])
def test_twelve_month_boundary(offset, fires):
    """A scan exactly 12 calendar months ago is due today, not overdue; one day more fires."""
    assert TWELVE_MONTHS_DAYS == 365
    assert (bone_scan_followup(scanned(TWELVE_MONTHS_DAYS + offset), THRESHOLDS) is not None) is fires


def test_due_date_shown():
    finding = bone_scan_followup(scanned(TWELVE_MONTHS_DAYS + 1), THRESHOLDS)
    assert finding.values["due"] == (NOW.date() - timedelta(days=1)).isoformat()


def test_confirmed_bone_metastasis_no_card():
    assert bone_scan_followup(scanned(500, conditions=[bone_metastasis()]), THRESHOLDS) is None


def test_suspected_metastasis_still_monitored():
    assert bone_scan_followup(scanned(500, conditions=[bone_metastasis("suspected")]), THRESHOLDS) is not None


def test_no_scan_since_diagnosis_is_left_to_baseline():
    """No bone scan since the diagnosis: BASELINE-BONE-SCAN fires instead, not this card."""
    assert bone_scan_followup(facts(), THRESHOLDS) is None


def test_outside_source_named():
    finding = bone_scan_followup(scanned(400), THRESHOLDS)
    assert finding.outside_sources[0].startswith("follow-up every 12 months: consensus 5.1.4")


def test_template_fits():
    assert_template_fits(RULE, [bone_scan_followup(scanned(790), THRESHOLDS)])


# The last scan on record only as a bone-scan care event done (RULES.md 7.1.6): an order or procedure.

DONE_AS = ["ServiceRequest", "Procedure"]


def scan_done_as(resource_type, days, **kw):
    """Lung cancer diagnosed 800 days ago; the only bone scan is a `completed` bone-scan `resource_type`."""
    done = event("bone_scan", days=days, status="completed", resource_type=resource_type)
    chart = facts(
        with_lung_cancer=False, conditions=[lung_cancer(days=800)], events=[done, *kw.pop("events", ())], **kw
    )
    return chart, done


@pytest.mark.parametrize("resource_type", DONE_AS)
def test_only_a_completed_scan_order_fourteen_months_ago_fires(resource_type):
    """BASELINE-BONE-SCAN takes the completed order as the baseline, so monitoring starts from its date."""
    patient, done = scan_done_as(resource_type, 430)
    with listening() as heard:
        finding = bone_scan_followup(patient, THRESHOLDS)
    assert finding is not None and heard == []
    assert (finding.rule_id, finding.indicator) == (RULE, "info")
    assert order_keys(finding) == [["imaging_bone_scan_whole_body"]]
    assert finding.values["last_scan"] == done.day.isoformat()
    [row] = finding.evidence
    assert (row.reference, row.when) == (done.reference, done.day)
    assert row.value == f"{resource_type} completed" and "not a study date" in row.note


@pytest.mark.parametrize("resource_type", DONE_AS)
def test_only_a_completed_scan_order_five_months_ago_names_its_date(resource_type):
    patient, done = scan_done_as(resource_type, 150)
    with listening() as heard:
        assert bone_scan_followup(patient, THRESHOLDS) is None
    due = add_months(done.day, 12).isoformat()
    assert heard[-1].startswith(f"Last bone scan on {done.day.isoformat()} ({resource_type} completed")
    assert heard[-1].endswith(f"the next one is due on {due}")


@pytest.mark.parametrize(("offset", "fires"), [(0, False), (1, True)])
def test_twelve_month_boundary_from_a_completed_order(offset, fires):
    patient, _ = scan_done_as("ServiceRequest", TWELVE_MONTHS_DAYS + offset)
    assert (bone_scan_followup(patient, THRESHOLDS) is not None) is fires


def test_newer_study_than_the_completed_order_is_the_last_scan():
    patient, _ = scan_done_as("ServiceRequest", 430, imaging_studies=[imaging("PT", days=100)])
    with listening() as heard:
        assert bone_scan_followup(patient, THRESHOLDS) is None
    assert heard[-1].startswith(f"Last bone scan on {patient.imaging[0].day.isoformat()} (PT")


def test_newer_completed_order_than_the_study_is_the_last_scan():
    patient, done = scan_done_as("Procedure", 400, imaging_studies=[imaging("NM", days=600)])
    finding = bone_scan_followup(patient, THRESHOLDS)
    assert finding is not None and evidence_refs(finding) == {done.reference}


def test_completed_order_fourteen_months_ago_and_a_follow_up_ordered_no_card():
    """Overdue, but the next scan is already ordered: the pending order stops the card, as with a study."""
    pending = event("bone_scan", days=2, status="active", resource_type="ServiceRequest")
    patient, _ = scan_done_as("ServiceRequest", 430, events=[pending])
    with listening() as heard:
        assert bone_scan_followup(patient, THRESHOLDS) is None
    assert "the follow-up is on its way" in heard[-1] and "ServiceRequest active" in heard[-1]


def test_completed_order_before_the_diagnosis_is_left_to_baseline():
    """A scan order done before the lung cancer (900 days ago) is no baseline: BASELINE-BONE-SCAN's card."""
    patient, _ = scan_done_as("ServiceRequest", 900)
    with listening() as heard:
        assert bone_scan_followup(patient, THRESHOLDS) is None
    assert "BASELINE-BONE-SCAN asks for the first one" in heard[-1]


def test_study_and_completed_order_on_the_same_day_shows_the_study():
    """The order of a scan whose study is on the chart too: the row shows the study, the scan itself."""
    patient, _ = scan_done_as("ServiceRequest", 430, imaging_studies=[imaging("NM", days=430)])
    finding = bone_scan_followup(patient, THRESHOLDS)
    assert finding is not None and evidence_refs(finding) == {patient.imaging[0].reference}


@pytest.mark.parametrize("unreadable", ["ServiceRequest", "Procedure"])
def test_scan_rules_are_skipped_not_guessed_when_orders_cannot_be_read(unreadable):
    """A scan on record only as a completed order or procedure is invisible when that type could not be
    read: the three bone-imaging rules are skipped (the DATA-UNAVAILABLE card names them) instead of asking
    for a baseline scan the patient may already have."""
    from hooks.patient_view import SERVICE
    from hooks.runner import run_rules

    chart = facts(with_lung_cancer=False, conditions=[lung_cancer(days=800)])
    assert "BASELINE-BONE-SCAN" in {f.rule_id for f in run_rules(SERVICE, chart, THRESHOLDS)}
    findings = run_rules(SERVICE, chart, THRESHOLDS, unavailable_types=frozenset({unreadable}))
    ids = {f.rule_id for f in findings}
    assert not ids & {"BASELINE-BONE-SCAN", "BONE-SCAN-FOLLOWUP", "BONE-IMAGING-WORKUP"}
    unavailable = next(f for f in findings if f.rule_id == "DATA-UNAVAILABLE")
    assert "BASELINE-BONE-SCAN" in " ".join(unavailable.values.values())
