"""BONE-SCAN-FOLLOWUP (consensus 5.1.4): "A baseline bone scan combined with regular bone monitoring (once or
twice annually) would achieve the dynamic comparison, which is clinically meaningful in the diagnosis of
bone metastasis."

Inclusion: patient-view, lung cancer, no confirmed bone metastasis, and a bone scan (NM) or PET-CT since the
diagnosis (with none, BASELINE-BONE-SCAN fires instead). Exclusion: the newest one is not older than
`bone_scan_followup_months` (calendar months: due on the same day of the month). Decision: info, suggest a
whole-body bone scan.

Decision beyond the catalog:
- "Known bone metastasis" is read as confirmed: with suspected metastasis monitoring continues (and
  BONE-IMAGING-WORKUP may ask for imaging now).
- A scan exactly `bone_scan_followup_months` ago is due, not overdue: the card fires from the next day.
- The interval is counted in calendar months, not in days, as a clinician books a yearly scan.
- Only scans done count (RULES.md 7.1.6: a study `available`, or a bone-scan order `completed` within the
  interval); a follow-up scan already ordered or booked stops the card.
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import ClinicalFacts, ImagingFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    add_months,
    fmt_number,
    has_confirmed_bone_metastasis,
    imaging_evidence,
    whole_body_bone_scans,
)
from hooks.rules._why import CHART_REVIEW_ONLY, event_text, evidence_text
from hooks.rules.baseline_bone_scan import (
    baseline_scan,
    completed_scan_orders,
    diagnosis_day,
    scan_on_its_way,
)
from hooks.why_not import not_fired

RULE_ID = "BONE-SCAN-FOLLOWUP"
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


def is_included(facts: ClinicalFacts) -> bool:
    """Lung cancer without confirmed bone metastasis, with a baseline scan since the diagnosis."""
    return (
        facts.hook == PATIENT_VIEW
        and not has_confirmed_bone_metastasis(facts)
        and baseline_scan(facts) is not None
    )


def due_date(last: ImagingFact, t: Thresholds) -> date:
    """The same day of the month `bone_scan_followup_months` after the last scan (always dated here)."""
    return add_months(last.day or date.min, int(t["bone_scan_followup_months"]))


def is_excluded(facts: ClinicalFacts, last: ImagingFact, t: Thresholds) -> bool:
    """The newest scan is within the interval: the follow-up is not yet overdue."""
    return facts.today <= due_date(last, t)


@rule(RULE_ID, consensus_section="5.1.4", needs=("ImagingStudy", "DiagnosticReport"))
def bone_scan_followup(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BONE-SCAN-FOLLOWUP (consensus 5.1.4): bone monitoring once or twice a year."""
    if not is_included(facts):
        return not_fired(lambda: _not_included(facts))
    last = whole_body_bone_scans(facts)[0]
    if is_excluded(facts, last, t) or scan_on_its_way(facts):
        return not_fired(lambda: _not_due(facts, last, t))
    months = int(t["bone_scan_followup_months"])
    if any(
        facts.today <= add_months(e.day or date.min, months) for e in completed_scan_orders(facts, last.day)
    ):
        return not_fired(lambda: _ordered_done(facts, last))
    months = int(t["bone_scan_followup_months"])
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        values={
            "last_scan": last.day.isoformat() if last.day else "",
            "interval_months": fmt_number(months),
            "due": due_date(last, t).isoformat(),
        },
        evidence=(imaging_evidence("Last bone scan", last),),
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
    ordered = completed_scan_orders(facts, diagnosis_day(facts))
    if ordered:
        return (
            f"The baseline is on record only as {event_text(ordered[0])}, not as an imaging study: the "
            "follow-up interval is counted from imaging studies"
        )
    return "No bone scan or PET-CT since the diagnosis yet: BASELINE-BONE-SCAN asks for the first one"


def _not_due(facts: ClinicalFacts, last: ImagingFact, t: Thresholds) -> str:
    when = last.day.isoformat() if last.day else "an unknown date"
    if is_excluded(facts, last, t):
        return f"Last bone scan on {when}: the next one is due on {due_date(last, t).isoformat()}"
    return f"Last bone scan on {when}; the follow-up is on its way: {evidence_text(scan_on_its_way(facts))}"


def _ordered_done(facts: ClinicalFacts, last: ImagingFact) -> str:
    newest = max(completed_scan_orders(facts, last.day), key=lambda e: e.day or date.min)
    return f"A follow-up bone scan was done since the last study: {event_text(newest)}"
