"""ICI-BONE-METASTASIS (consensus 6.2.1, 6.3; seed 002), worded per RULES.md 7.2.18. Consensus 6.2.1:
"Immunotherapy is the main treatment option for patients with driver-gene-negative advanced lung cancer ...
Reassuringly, several trials on the combination of immunotherapy with RANKL inhibitors in NSCLC are
ongoing." Consensus 6.3 / Table 1: bone-modifying drugs are indicated for confirmed bone metastasis. Del
Conte et al. (Int J Mol Sci 2022;23:6832, seed 002): "The lower efficacy of immunotherapy treatments in
BoM+ patients could be induced by the presence of a particular immunosuppressive tumor and bone
microenvironment".

Inclusion: patient-view, confirmed bone metastasis, and an active immune checkpoint inhibitor. Exclusion:
an oncology (or unknown-regimen) BMA already active. Decision: info, no suggestion (BMA-INITIATION carries
the BMA orders). The card says three things and no more (7.2.18): a BMA is indicated for the confirmed bone
metastasis whatever the ICI (6.3); bone metastasis is associated with less benefit from ICIs (seed 002);
whether a BMA improves ICI benefit is still being studied (6.2.1). It never says that a BMA improves ICI
outcomes, and says the ICI is not to be changed on this basis.

Decision beyond the catalog: documented life expectancy under 3 months (RULES.md 7.1.7, still current)
also excludes the card, because Table 1 recommends bone-modifying drugs only for a life expectancy of at
least 3 months and the card's one recommendation is to add one.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    active_bmas,
    condition_evidence,
    confirmed_bone_metastases,
    life_expectancy_limitations,
    medication_evidence,
)
from hooks.rules._why import CHART_REVIEW_ONLY, limited_life_expectancy, names, no_confirmed_metastasis
from hooks.why_not import not_fired

RULE_ID = "ICI-BONE-METASTASIS"
SEED_SOURCE = (
    "Del Conte et al., Bone metastasis and immune checkpoint inhibitors in NSCLC, "
    "Int J Mol Sci 2022;23:6832, doi:10.3390/ijms23126832"
)


def active_icis(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    return tuple(m for m in facts.medications if m.agent_class == "ici" and m.is_active)


def is_included(facts: ClinicalFacts) -> bool:
    """Patient-view, confirmed bone metastasis, on an immune checkpoint inhibitor."""
    return facts.hook == PATIENT_VIEW and bool(confirmed_bone_metastases(facts)) and bool(active_icis(facts))


def is_excluded(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Bone-targeted therapy already given, or documented life expectancy under 3 months (Table 1)."""
    return bool(active_bmas(facts)) or bool(life_expectancy_limitations(facts, t))


@rule(RULE_ID, consensus_section="6.2.1, 6.3", needs=("MedicationRequest",))
def ici_bone_metastasis(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """ICI-BONE-METASTASIS (consensus 6.2.1, 6.3; seed 002): the BMA is indicated whatever the ICI."""
    if not is_included(facts) or is_excluded(facts, t):
        return not_fired(lambda: _why_not(facts, t))
    icis = active_icis(facts)
    evidence = (
        *(condition_evidence("Confirmed bone metastasis", c) for c in confirmed_bone_metastases(facts)),
        *(medication_evidence(m) for m in icis),
    )
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        values={"ici": ", ".join(sorted({m.display for m in icis}))},
        evidence=evidence,
        outside_sources=(SEED_SOURCE,),
    )


def _why_not(facts: ClinicalFacts, t: Thresholds) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if not confirmed_bone_metastases(facts):
        return no_confirmed_metastasis(facts)
    if not active_icis(facts):
        return "No immune checkpoint inhibitor active"
    bmas = active_bmas(facts)
    if bmas:
        return f"A bone-modifying drug is already active beside the immunotherapy: {names(bmas)}"
    return limited_life_expectancy(facts, t)
