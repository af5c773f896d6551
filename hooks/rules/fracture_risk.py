"""FRACTURE-RISK (consensus 6.6.2, Table 3): "Score <= 7 indicates a low risk of pathological fracture (4%)
and surgery should be not considered; Score = 8, indicates a fracture risk of 15%; Score = 9, indicates a
fracture risk of 33%; Score >= 9 implies an indication for preventive fixation." 6.6.3: "Contraindications
for surgical treatment include: (1) The life expectancy is less than 3 months". 6.5: radiotherapy can
"prevent pathological fracture".

Inclusion: patient-view and a newest Mirels score at or above `mirels_borderline_score`. Decision: warning
with `fixation` at or above `mirels_fixation_threshold`; info with `borderline` below it; no card at 7 or
less. Suggests an orthopedic oncology consult. With documented life expectancy under 3 months or hospice
(RULES.md 7.2.14, `_shared.life_expectancy_limitations`): `surgery-contraindicated`, info, suggests a
radiotherapy consult instead and says why. Exclusion: an orthopedic oncology consult or bone surgery (for
`surgery-contraindicated`: a radiotherapy consult or course) asked for, under way or done (7.1.6) on or after
the score's date.

Decision beyond the catalog:
- The newest Mirels score decides, whatever its age (its date is on the card): a lesion is re-scored
  after treatment, and an older higher score is superseded.
- A consult pending (active, on-hold, draft) or done on or after the score means the risk is already with
  the specialist: no card. A cancelled consult never reaches the facts.
- Short life expectancy applies to a score of 8 as well: surgery is contraindicated whatever the risk, and
  radiotherapy remains the way to protect the bone.
"""

from __future__ import annotations

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence, LabResult
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    asked_or_done,
    fmt_number,
    lab_evidence,
    life_expectancy_limitations,
)
from hooks.rules._why import CHART_REVIEW_ONLY, event_text, lab_text
from hooks.why_not import not_fired

RULE_ID = "FRACTURE-RISK"
ADDRESSED_KINDS = ("orthopedic_oncology_consult", "bone_surgery")
RADIOTHERAPY_KINDS = ("radiotherapy_consult", "radiotherapy")
CONTRAINDICATED = "surgery-contraindicated"
RISK_BY_SCORE_VARIANT = {"fixation": "33%", "borderline": "15%"}
"""Table 3: 33% fracture risk at a score of 9, 15% at 8 (the consensus's own figures)."""
CONSULT = SuggestionSpec(
    "Orthopedic oncology consultation (fracture risk)",
    (
        ActionSpec(
            "create",
            order_key="referral_orthopedic_oncology",
            reason="Mirels score: risk of pathological fracture (consensus 6.6.2, Table 3)",
        ),
    ),
)
RADIOTHERAPY = SuggestionSpec(
    "Radiotherapy consultation (fracture risk; surgery contraindicated)",
    (
        ActionSpec(
            "create",
            order_key="referral_radiotherapy",
            reason=(
                "Mirels score with life expectancy under 3 months: surgery contraindicated (consensus "
                "6.6.3); radiotherapy to prevent pathological fracture (6.5)"
            ),
        ),
    ),
)


def score_variant(score: LabResult | None, t: Thresholds) -> str | None:
    """Decision by Table 3: >= 9 preventive fixation, 8 borderline, <= 7 none."""
    if score is None:
        return None
    if score.value >= t["mirels_fixation_threshold"]:
        return "fixation"
    return "borderline" if score.value >= t["mirels_borderline_score"] else None


def variant_for(facts: ClinicalFacts, score: LabResult | None, t: Thresholds) -> str | None:
    """Table 3's variant, replaced by `surgery-contraindicated` when life expectancy is under 3 months."""
    variant = score_variant(score, t)
    if variant is not None and life_expectancy_limitations(facts, t):
        return CONTRAINDICATED
    return variant


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    return facts.hook == PATIENT_VIEW and score_variant(facts.latest("mirels_score"), t) is not None


def addressed_by(facts: ClinicalFacts, score: LabResult, variant: str) -> tuple[CareEvent, ...]:
    """Exclusion: the specialist this variant asks for already asked or done on or after the score."""
    kinds = RADIOTHERAPY_KINDS if variant == CONTRAINDICATED else ADDRESSED_KINDS
    return tuple(
        e
        for kind in kinds
        for e in asked_or_done(facts, kind)
        if e.last_day is not None and e.last_day >= score.day
    )


@rule(RULE_ID, consensus_section="6.6.2, Table 3", needs=("Observation", "ServiceRequest", "Procedure"))
def fracture_risk(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """FRACTURE-RISK (consensus 6.6.2, Table 3): refer a high Mirels score to orthopedic oncology."""
    score = facts.latest("mirels_score")
    if score is None or not is_included(facts, t):
        return not_fired(lambda: _low_or_none(facts, score, t))
    variant = variant_for(facts, score, t) or ""
    if addressed_by(facts, score, variant):
        return not_fired(lambda: _addressed(facts, score, variant))
    limits = life_expectancy_limitations(facts, t) if variant == CONTRAINDICATED else ()
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if variant == "fixation" else "info",
        variant=variant,
        values={
            "score": fmt_number(score.value),
            "risk": RISK_BY_SCORE_VARIANT[score_variant(score, t) or "borderline"],
            "fixation_from": fmt_number(t["mirels_fixation_threshold"]),
            "day": score.day.isoformat(),
            "limitation": "; ".join(sorted({e.label for e in limits})),
        },
        evidence=(_score_evidence(score), *limits),
        suggestions=(RADIOTHERAPY,) if variant == CONTRAINDICATED else (CONSULT,),
        selection_behavior="any",
        outside_sources=_outside_sources(t) if variant == CONTRAINDICATED else (),
    )


def _score_evidence(score: LabResult) -> Evidence:
    return lab_evidence("Mirels score (Table 3, of 12)", score)


def _outside_sources(t: Thresholds) -> tuple[str, ...]:
    hospice = t.entry("hospice_recent_days")
    return (f"hospice care counted within {fmt_number(hospice.value)} days: {hospice.source}",)


def _low_or_none(facts: ClinicalFacts, score: LabResult | None, t: Thresholds) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if score is None:
        return "No Mirels score on record"
    borderline = fmt_number(t["mirels_borderline_score"])
    return f"Newest Mirels score {lab_text(score)} is below {borderline}: low fracture risk (Table 3)"


def _addressed(facts: ClinicalFacts, score: LabResult, variant: str) -> str:
    done = addressed_by(facts, score, variant)[0]
    who = "Radiotherapy already asked for" if variant == CONTRAINDICATED else "Already with orthopedics"
    return f"{who} since the Mirels score {lab_text(score)}: {event_text(done)}"
