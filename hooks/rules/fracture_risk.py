"""FRACTURE-RISK (consensus 6.6.2, Table 3): "Score <= 7 indicates a low risk of pathological fracture (4%)
and surgery should be not considered; Score = 8, indicates a fracture risk of 15%; Score = 9, indicates a
fracture risk of 33%; Score >= 9 implies an indication for preventive fixation."

Inclusion: patient-view and a newest Mirels score at or above `mirels_borderline_score`. Exclusion: an
orthopedic oncology consult or bone surgery dated on or after that score. Decision: warning with
`fixation` at or above `mirels_fixation_threshold`; info with `borderline` below it; no card at 7 or less.
Suggests an orthopedic oncology consult.

Decision beyond the catalog:
- The newest Mirels score decides, whatever its age (its date is on the card): a lesion is re-scored
  after treatment, and an older higher score is superseded.
- A consult or operation on or after the score, in any status the mapping keeps, means the risk is
  already with the surgeon: no card.
"""

from __future__ import annotations

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence, LabResult
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import PATIENT_VIEW, fmt_number, lab_evidence

RULE_ID = "FRACTURE-RISK"
ADDRESSED_KINDS = ("orthopedic_oncology_consult", "bone_surgery")
RISK_BY_VARIANT = {"fixation": "33%", "borderline": "15%"}
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


def variant_for(score: LabResult | None, t: Thresholds) -> str | None:
    """Decision by Table 3: >= 9 preventive fixation, 8 borderline, <= 7 none."""
    if score is None:
        return None
    if score.value >= t["mirels_fixation_threshold"]:
        return "fixation"
    return "borderline" if score.value >= t["mirels_borderline_score"] else None


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    return facts.hook == PATIENT_VIEW and variant_for(facts.latest("mirels_score"), t) is not None


def addressed_by(facts: ClinicalFacts, score: LabResult) -> tuple[CareEvent, ...]:
    """Exclusion: an orthopedic oncology consult or bone surgery on or after the score's date."""
    return tuple(
        e
        for kind in ADDRESSED_KINDS
        for e in facts.events_of(kind)
        if e.day is not None and e.day >= score.day
    )


@rule(RULE_ID, consensus_section="6.6.2, Table 3", needs=("Observation", "ServiceRequest", "Procedure"))
def fracture_risk(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """FRACTURE-RISK (consensus 6.6.2, Table 3): refer a high Mirels score to orthopedic oncology."""
    score = facts.latest("mirels_score")
    if score is None or not is_included(facts, t) or addressed_by(facts, score):
        return None
    variant = variant_for(score, t) or ""
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if variant == "fixation" else "info",
        variant=variant,
        values={
            "score": fmt_number(score.value),
            "risk": RISK_BY_VARIANT[variant],
            "fixation_from": fmt_number(t["mirels_fixation_threshold"]),
            "day": score.day.isoformat(),
        },
        evidence=(_score_evidence(score),),
        suggestions=(CONSULT,),
        selection_behavior="any",
    )


def _score_evidence(score: LabResult) -> Evidence:
    return lab_evidence("Mirels score (Table 3, of 12)", score)
