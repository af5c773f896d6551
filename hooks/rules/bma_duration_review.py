"""BMA-DURATION-REVIEW (consensus Table 1 treatment duration, section 7): "the treatment duration is
recommended at 18 to 24 months depending on the patients' tolerance and benefit. The total treatment
duration may be prolonged by extending the treatment interval according to clinical judgment";
section 7: "the expert group has given a recommended treatment duration of less than 2 years."

Fires in patient-view when a BMA is active and the months since the earliest start of any BMA order on
the chart (any status, since a switch from zoledronic acid to denosumab continues one treatment) reach
`bma_duration_review_months` (info) or `bma_duration_warning_months` (warning). No suggestions: the
decision to continue, stop or space out doses is the clinician's.

Decisions beyond the catalog: orders that were never given (status draft, cancelled, entered-in-error)
do not start the clock; when no BMA order carries a start or authored date the duration is unknown and
the rule stays silent rather than guess (the evidence would be empty).
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding, Indicator
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    active_bmas,
    bma_history,
    earliest_start,
    fmt_number,
    medication_evidence,
    months_between,
)

RULE_ID = "BMA-DURATION-REVIEW"


def is_included(facts: ClinicalFacts) -> bool:
    """Patient-view, a BMA active."""
    return facts.hook == PATIENT_VIEW and bool(active_bmas(facts))


def treatment_start(facts: ClinicalFacts) -> date | None:
    """The first known start among all BMA orders that may have been given (any agent, any status)."""
    return earliest_start(bma_history(facts))


def indicator_for(months: float, t: Thresholds) -> Indicator | None:
    """Decision: warning at the upper end of 18-24 months (section 7: under 2 years), info from the lower."""
    if months >= t["bma_duration_warning_months"]:
        return "warning"
    if months >= t["bma_duration_review_months"]:
        return "info"
    return None


@rule(RULE_ID, consensus_section="Table 1, 7", needs=("MedicationRequest",))
def bma_duration_review(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-DURATION-REVIEW (consensus Table 1, section 7): review BMA treatment after 18-24 months."""
    if not is_included(facts):
        return None
    start = treatment_start(facts)
    if start is None:
        return None
    months = months_between(start, facts.today)
    level = indicator_for(months, t)
    if level is None:
        return None
    history = sorted(bma_history(facts), key=lambda m: m.start or m.authored or date.max)
    return Finding(
        rule_id=RULE_ID,
        indicator=level,
        variant="long-term" if level == "warning" else "review",
        values={
            "months": str(int(months)),
            "since": start.isoformat(),
            "review_months": fmt_number(t["bma_duration_review_months"]),
            "warning_months": fmt_number(t["bma_duration_warning_months"]),
        },
        evidence=tuple(medication_evidence(m) for m in history),
    )
