"""MDT-REFERRAL (consensus section 1, Fig. 1, 6.1): "it is necessary to establish individualized,
comprehensive regimens for bone metastasis in a planned and reasonable way, under the guidance of the
multi-disciplinary therapy (MDT) pattern" (section 1); Fig. 1: "The core of the MDT concept is the
collaborative participation of multiple disciplines (e.g., oncology, orthopedics, radiotherapy, etc.)";
6.1: "For hospitals that have no MDT team, it is recommended to consult a specialist team".

Inclusion: patient-view and confirmed bone metastasis. Exclusion: an MDT review (a review, or a referral
to one) dated on or after the day the metastasis became known. Decision: info, raised to warning by any
escalator: a skeletal-related event (pathological fracture, spinal cord compression, radiotherapy or
surgery to bone: `_shared.skeletal_related_events`), a Mirels score at or above
`mirels_fixation_threshold`, an ESCC grade of 1c or higher, or hypercalcemia of CTCAE grade
`mdt_hypercalcemia_grade_from` or more. The card lists the escalators found. Suggests an MDT review.

Decision beyond the catalog:
- "Since it was recorded" is read as since the earliest confirmed bone-metastasis Condition's onset (or,
  without one, its recorded date). When no date is known, any MDT review on record counts.
- An MDT review from before the metastasis does not stop the card; it is shown as evidence.
- Only confirmed pathological fractures and cord compressions are SREs; radiotherapy and bone surgery
  (spine surgery included) count once performed (a Procedure or Encounter done or under way, 7.1.6), at
  any date, because the code sets carry no body site.
- An MDT review counts when done, or when a referral to one is pending (an active, on-hold or draft
  ServiceRequest: the review has been asked for); a cancelled referral does not.
- The newest Mirels score and ESCC grade are used, whatever their age (their dates are on the card).
- An uncorrected total calcium in the grade range still raises the card (an MDT discussion of a calcium
  that may be high costs little; missing a grade-3 hypercalcemia costs much), but the card names it as a
  range, not corrected for albumin, never as a CTCAE grade (`_shared.hypercalcemia_grade_label`).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    asked_or_done,
    condition_evidence,
    confirmed_bone_metastases,
    escc_at_least,
    fmt_number,
    hypercalcemia_grade_label,
    lab_evidence,
    skeletal_related_events,
)
from hooks.rules._why import CHART_REVIEW_ONLY, event_text, no_confirmed_metastasis
from hooks.why_not import not_fired

RULE_ID = "MDT-REFERRAL"
ESCC_ESCALATION_GRADE = "1c"
"""Catalog: ESCC >= 1c raises the card (a categorical grade on the Fig. 3 scale, not a number)."""
REFERRAL = SuggestionSpec(
    "Refer for multidisciplinary team (MDT) review",
    (
        ActionSpec(
            "create",
            order_key="referral_mdt",
            reason="Bone metastasis of lung cancer: MDT-guided treatment (consensus section 1, Fig. 1, 6.1)",
        ),
    ),
)


class Escalator(NamedTuple):
    """A finding that makes an MDT review more pressing, with what shows it."""

    name: str
    evidence: tuple[Evidence, ...]


def metastasis_known_since(facts: ClinicalFacts) -> date | None:
    """The earliest day a confirmed bone metastasis was known (onset, else recorded date)."""
    return min((d for c in confirmed_bone_metastases(facts) if (d := c.since)), default=None)


def is_included(facts: ClinicalFacts) -> bool:
    return facts.hook == PATIENT_VIEW and bool(confirmed_bone_metastases(facts))


def reviews_since(facts: ClinicalFacts, since: date | None) -> tuple[CareEvent, ...]:
    """MDT reviews done, or referrals pending (7.1.6), on or after the metastasis date; any at all when that
    date is unknown. A cancelled or entered-in-error referral never reaches the facts."""
    reviews = asked_or_done(facts, "mdt_review")
    if since is None:
        return reviews
    return tuple(e for e in reviews if e.day is not None and e.day >= since)


def is_excluded(facts: ClinicalFacts) -> bool:
    """An MDT review already covers this metastasis."""
    return bool(reviews_since(facts, metastasis_known_since(facts)))


def escalators(facts: ClinicalFacts, t: Thresholds) -> tuple[Escalator, ...]:
    """Each catalog reason to raise the card to a warning that this patient has."""
    found = [Escalator(sre.name, (sre.evidence,)) for sre in skeletal_related_events(facts)]
    mirels = facts.latest("mirels_score")
    if mirels is not None and mirels.value >= t["mirels_fixation_threshold"]:
        found.append(
            Escalator(f"Mirels score {fmt_number(mirels.value)}", (lab_evidence("Mirels score", mirels),))
        )
    escc = facts.latest_coded("escc_grade")
    if escc is not None and escc_at_least(escc.value, ESCC_ESCALATION_GRADE):
        shown = Evidence("ESCC grade", escc.value, escc.effective.date(), escc.reference)
        found.append(Escalator(f"ESCC grade {escc.value}", (shown,)))
    calcium = facts.calcium
    if calcium is not None and calcium.hypercalcemia_grade >= t["mdt_hypercalcemia_grade_from"]:
        found.append(Escalator(f"hypercalcemia {hypercalcemia_grade_label(calcium)}", calcium.evidence))
    return tuple(found)


@rule(
    RULE_ID,
    consensus_section="1, Fig. 1, 6.1",
    needs=("Observation", "Procedure", "Encounter", "ServiceRequest"),
)
def mdt_referral(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """MDT-REFERRAL (consensus section 1, Fig. 1, 6.1): bone metastasis is managed under the MDT pattern."""
    if not is_included(facts) or is_excluded(facts):
        return not_fired(lambda: _why_not(facts))
    found = escalators(facts, t)
    grade_from = t.entry("mdt_hypercalcemia_grade_from")
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if found else "info",
        variant="escalated" if found else "default",
        values=_values(metastasis_known_since(facts), found, t),
        evidence=_evidence(facts, found),
        suggestions=(REFERRAL,),
        selection_behavior="any",
        outside_sources=(
            f"hypercalcemia from CTCAE v5 grade {fmt_number(grade_from.value)}: {grade_from.source}",
        ),
    )


def _values(since: date | None, found: tuple[Escalator, ...], t: Thresholds) -> dict[str, str]:
    return {
        "since": since.isoformat() if since else "an unknown date",
        "escalators": "; ".join(e.name for e in found) or "none",
        "escalator_count": str(len(found)),
        "mirels_from": fmt_number(t["mirels_fixation_threshold"]),
        "escc_from": ESCC_ESCALATION_GRADE,
        "hypercalcemia_from": fmt_number(t["mdt_hypercalcemia_grade_from"]),
    }


def _evidence(facts: ClinicalFacts, found: tuple[Escalator, ...]) -> tuple[Evidence, ...]:
    """The metastasis, what raised the card, and any MDT review that predates the metastasis."""
    earlier = tuple(
        Evidence(
            "MDT review before the metastasis" if e.day else "MDT review, undated",
            e.status,
            e.day,
            e.reference,
        )
        for e in asked_or_done(facts, "mdt_review")
    )
    return (
        *(condition_evidence("Confirmed bone metastasis", c) for c in confirmed_bone_metastases(facts)),
        *(item for escalator in found for item in escalator.evidence),
        *earlier,
    )


def _why_not(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if not is_included(facts):
        return no_confirmed_metastasis(facts)
    since = metastasis_known_since(facts)
    review = reviews_since(facts, since)[0]
    if since is None:
        return f"MDT review on record: {event_text(review)} (the metastasis has no date)"
    return f"MDT review since the metastasis was recorded on {since.isoformat()}: {event_text(review)}"
