"""BASELINE-BONE-SCAN (consensus 5.1.4): "The whole-body bone scanning is recommended for the tumor staging
in the confirmation of lung cancer. A baseline bone scan combined with regular bone monitoring (once or
twice annually) would achieve the dynamic comparison".

Inclusion: patient-view and lung cancer (the runner's gate). Exclusion: a dated bone scan (NM) or PET-CT
(PT) on or after the day the lung cancer became known (its earliest onset or recorded date). Decision: info,
suggest a whole-body bone scan.

Decision beyond the catalog:
- With several lung-cancer Conditions, the earliest date is the diagnosis; a scan since then counts.
- When no lung-cancer Condition carries a date, any dated bone scan counts as the baseline; with none the
  card fires and says the diagnosis date is missing.
- An undated bone scan cannot be placed after the diagnosis and does not stop the card.
- The card fires whether or not bone metastasis is confirmed: the baseline is also the comparison point
  for later scans (5.1.4 "dynamic comparison").
- Only imaging done counts (RULES.md 7.1.6: an ImagingStudy `available`, or a bone-scan ServiceRequest
  `completed` dated on or after the diagnosis); a bone scan or PET-CT already ordered (a pending
  ServiceRequest, or drafted now) or booked (a study only `registered`) means the scan is on its way: no
  card, since the card's one suggestion is that order.
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    WHOLE_BODY_BONE_MODALITIES,
    condition_evidence,
    done_events,
    imaging_evidence,
    pending_imaging,
    whole_body_bone_scans,
)
from hooks.rules._why import CHART_REVIEW_ONLY, event_text, evidence_text
from hooks.why_not import not_fired

RULE_ID = "BASELINE-BONE-SCAN"
DIAGNOSIS_DATE_MISSING = "date the lung cancer was diagnosed or recorded (Condition onset or recordedDate)"
BONE_SCAN = SuggestionSpec(
    "Whole-body bone scan (ECT) for staging",
    (
        ActionSpec(
            "create",
            order_key="imaging_bone_scan_whole_body",
            reason="Baseline whole-body bone scan for lung cancer staging (consensus 5.1.4)",
        ),
    ),
)


def diagnosis_day(facts: ClinicalFacts) -> date | None:
    """When the lung cancer became known: the earliest dated lung-cancer Condition."""
    days = [d for c in facts.conditions_in("lung_cancer") if (d := c.since) is not None]
    return min(days, default=None)


def is_included(facts: ClinicalFacts) -> bool:
    return facts.hook == PATIENT_VIEW and bool(facts.conditions_in("lung_cancer"))


def baseline_scan(facts: ClinicalFacts) -> Evidence | None:
    """Exclusion: the newest bone scan or PET-CT on or after the diagnosis (any, when it is undated)."""
    start = diagnosis_day(facts)
    scans = whole_body_bone_scans(facts)
    found = next((s for s in scans if start is None or (s.day and s.day >= start)), None)
    return imaging_evidence("Bone scan since diagnosis", found) if found else None


def scan_on_its_way(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    """A whole-body bone scan (or PET-CT) ordered and not yet done, or booked (7.1.6 pending)."""
    return pending_imaging(facts, "bone_scan", WHOLE_BODY_BONE_MODALITIES)


def completed_scan_orders(facts: ClinicalFacts, since: date | None) -> tuple[CareEvent, ...]:
    """Bone-scan orders completed (7.1.6 done) on or after `since` (any dated one when it is None)."""
    return tuple(
        e for e in done_events(facts, "bone_scan") if e.day is not None and (since is None or e.day >= since)
    )


@rule(RULE_ID, consensus_section="5.1.4", needs=("ImagingStudy", "DiagnosticReport"))
def baseline_bone_scan(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BASELINE-BONE-SCAN (consensus 5.1.4): a whole-body bone scan at the diagnosis of lung cancer."""
    if not is_included(facts) or baseline_scan(facts) is not None or scan_on_its_way(facts):
        return not_fired(lambda: _why_not(facts))
    if completed_scan_orders(facts, diagnosis_day(facts)):
        return not_fired(lambda: _ordered_done(facts))
    start = diagnosis_day(facts)
    older = next(iter(whole_body_bone_scans(facts)), None)
    evidence = tuple(condition_evidence("Lung cancer", c) for c in facts.conditions_in("lung_cancer"))
    if older is not None:
        evidence += (imaging_evidence("Last bone scan (before the diagnosis)", older),)
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        values={
            "diagnosis": start.isoformat() if start else "date not recorded",
            "last_scan": older.day.isoformat() if older and older.day else "none on record",
        },
        evidence=evidence,
        missing=() if start else (DIAGNOSIS_DATE_MISSING,),
        suggestions=(BONE_SCAN,),
        selection_behavior="any",
    )


def _why_not(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if not is_included(facts):
        return "No lung cancer on record"
    found = baseline_scan(facts)
    start = diagnosis_day(facts)
    since = f"the diagnosis on {start.isoformat()}" if start else "the diagnosis (date not recorded)"
    if found is not None:
        when = found.when.isoformat() if found.when else "an unknown date"
        return f"Baseline done: {found.value} on {when}, since {since}"
    return f"A whole-body bone scan is already on its way: {evidence_text(scan_on_its_way(facts))}"


def _ordered_done(facts: ClinicalFacts) -> str:
    done = completed_scan_orders(facts, diagnosis_day(facts))
    return f"Baseline done: {event_text(done[0])}, since the diagnosis"
