"""BONE-SCAN-FOLLOWUP (consensus 5.1.4): "A baseline bone scan combined with regular bone monitoring (once or
twice annually) would achieve the dynamic comparison, which is clinically meaningful in the diagnosis of
bone metastasis."

Inclusion: patient-view, lung cancer, no confirmed bone metastasis, and a baseline done as
BASELINE-BONE-SCAN accepts it: a bone scan (NM) or PET-CT since the diagnosis, or a bone-scan order or
procedure recorded as done since then (with none, BASELINE-BONE-SCAN fires instead). Exclusion: the last
scan is not older than `bone_scan_followup_months` (calendar months: due on the same day of the month).
Decision: info, suggest a whole-body bone scan.

Decision beyond the catalog:
- "Known bone metastasis" is read as confirmed: with suspected metastasis monitoring continues (and
  BONE-IMAGING-WORKUP may ask for imaging now).
- The last scan is the newest dated one of the imaging studies done (NM or PT, `available`) and the
  bone-scan care events done (RULES.md 7.1.6: a ServiceRequest or Procedure `completed`): a chart that
  records the scan only as a completed order is monitored from that order's date, and the card's evidence
  says the date is the order's, not a study's. On the same day the study is shown.
- A scan exactly `bone_scan_followup_months` ago is due, not overdue: the card fires from the next day.
- The interval is counted in calendar months, not in days, as a clinician books a yearly scan.
- A follow-up scan already ordered (a bone-scan order pending) or booked (a study `registered`) stops the
  card, however long ago the last scan was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    add_months,
    done_events,
    event_evidence,
    fmt_number,
    has_confirmed_bone_metastasis,
    imaging_evidence,
    whole_body_bone_scans,
)
from hooks.rules._why import CHART_REVIEW_ONLY, evidence_text
from hooks.rules.baseline_bone_scan import baseline_done, scan_on_its_way
from hooks.why_not import not_fired

RULE_ID = "BONE-SCAN-FOLLOWUP"
LAST_SCAN = "Last bone scan"
BONE_SCAN = SuggestionSpec(
    "Follow-up whole-body bone scan (ECT)",
    (
        ActionSpec(
            "create",
            order_key="imaging_bone_scan_whole_body",
            reason="Regular bone monitoring in lung cancer, once or twice a year (consensus 5.1.4)",
        ),
    ),
)
EVENT_DATE_SOURCES = {
    "ServiceRequest": "date on the order, not a study date",
    "Procedure": "date performed, not a study date",
}


def is_included(facts: ClinicalFacts) -> bool:
    """Lung cancer without confirmed bone metastasis, with a baseline scan done since the diagnosis."""
    return facts.hook == PATIENT_VIEW and not has_confirmed_bone_metastasis(facts) and baseline_done(facts)


def last_scan(facts: ClinicalFacts) -> Evidence | None:
    """The newest dated bone scan or PET-CT study done, or bone-scan care event done (7.1.6): a chart may
    record the scan only as its completed order. A study wins a tie, being the scan itself."""
    studies = [imaging_evidence(LAST_SCAN, s) for s in whole_body_bone_scans(facts)]
    events = [_event_scan(e) for e in done_events(facts, "bone_scan") if e.day is not None]
    return max(studies + events, key=lambda e: e.when or date.min, default=None)


def _event_scan(event: CareEvent) -> Evidence:
    """The row says where its date came from: an order's date is not the day a study was acquired."""
    note = EVENT_DATE_SOURCES.get(event.resource_type, f"date of the {event.resource_type}, not a study date")
    return replace(event_evidence(LAST_SCAN, event), note=note)


def due_date(last: Evidence, t: Thresholds) -> date:
    """The same day of the month `bone_scan_followup_months` after the last scan (always dated here)."""
    return add_months(last.when or date.min, int(t["bone_scan_followup_months"]))


def is_excluded(facts: ClinicalFacts, last: Evidence, t: Thresholds) -> bool:
    """The last scan is within the interval: the follow-up is not yet overdue."""
    return facts.today <= due_date(last, t)


@rule(
    RULE_ID,
    consensus_section="5.1.4",
    needs=("ImagingStudy", "DiagnosticReport", "ServiceRequest", "Procedure"),
)
def bone_scan_followup(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BONE-SCAN-FOLLOWUP (consensus 5.1.4): bone monitoring once or twice a year."""
    last = last_scan(facts) if is_included(facts) else None
    if last is None:
        return not_fired(lambda: _not_included(facts))
    if is_excluded(facts, last, t) or scan_on_its_way(facts):
        return not_fired(lambda: _not_due(facts, last, t))
    months = int(t["bone_scan_followup_months"])
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        values={
            "last_scan": last.when.isoformat() if last.when else "",
            "interval_months": fmt_number(months),
            "due": due_date(last, t).isoformat(),
        },
        evidence=(last,),
        suggestions=(BONE_SCAN,),
        selection_behavior="any",
        outside_sources=(
            f"follow-up every {fmt_number(months)} months: {t.entry('bone_scan_followup_months').source}",
        ),
    )


def _not_included(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if has_confirmed_bone_metastasis(facts):
        return "Bone metastasis is confirmed: routine bone-scan monitoring for a new one does not apply"
    return "No bone scan or PET-CT since the diagnosis yet: BASELINE-BONE-SCAN asks for the first one"


def _not_due(facts: ClinicalFacts, last: Evidence, t: Thresholds) -> str:
    if is_excluded(facts, last, t):
        return f"{scan_text(last)}: the next one is due on {due_date(last, t).isoformat()}"
    return f"{scan_text(last)}; the follow-up is on its way: {evidence_text(scan_on_its_way(facts))}"


def scan_text(last: Evidence) -> str:
    """Last bone scan on 2026-06-04 (ServiceRequest completed; date on the order, not a study date)."""
    when = last.when.isoformat() if last.when else "an unknown date"
    source = f"{last.value}; {last.note}" if last.note else last.value
    return f"{LAST_SCAN} on {when} ({source})"
