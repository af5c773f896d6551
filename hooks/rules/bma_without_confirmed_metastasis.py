"""BMA-WITHOUT-CONFIRMED-METASTASIS (consensus Table 1 instructions, 6.3): "Bone-modifying drugs are
recommended for patients with radiographic bone destruction or metastasis if there are no
contraindications, but they are not recommended for patients with a risk of bone metastasis alone but
undiagnosed"; 6.3: they "provide benefits for patients with confirmed bone metastasis".

Order hooks only (None in patient-view). Inclusion: a BMA drafted (under check, 7.3.20) at the oncology
regimen as RULES.md 7.1.5 defines it (`MedicationFact.regimen`: product code first, then dose, then
interval); a regimen that cannot be read counts as oncology (7.1.5: safety) and the card says so; the
osteoporosis regimen (Prolia 60 mg, zoledronic acid 5 mg yearly, oral bisphosphonates) is not this rule's
business. Exclusions: a confirmed bone metastasis (catalog section 2; a suspected one counts as not
confirmed); zoledronic acid, ibandronate or pamidronate while corrected calcium is CTCAE grade >= 2
(`hcm_labelled_use_grade_from`, 7.3.23): hypercalcemia of malignancy is a labelled use of these drugs.
Decision: a warning with no suggestion; the card asks for an override reason when the order goes ahead
(Table 1: not for risk alone). Variants: `suspected` (bone metastasis recorded as provisional,
differential or unconfirmed: the card points to the imaging that would settle it) and `not-diagnosed`
(none recorded).

Decisions beyond the catalog:
- denosumab drafted while calcium is high still fires (its labels for hypercalcemia of malignancy are not
  the consensus's subject and differ by country).
- 7.3.23 says *corrected* calcium: the exemption needs a graded value (corrected or ionized,
  `_shared.ctcae_hypercalcemia_grade`). An uncorrected total calcium in the grade-2 range does not exempt
  (with a high albumin it may be normal once corrected); the card still fires and says the calcium was
  not corrected, so the clinician can correct it or give the hypercalcemia as the override reason.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, ConditionFact, Evidence, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding
from hooks.rule_registry import rule
from hooks.rules._shared import (
    HCM_LABELLED_AGENTS,
    condition_evidence,
    ctcae_hypercalcemia_grade,
    drafted_oncology_bmas,
    has_confirmed_bone_metastasis,
    is_order_hook,
    medication_evidence,
    regimen_note,
    suspected_bone_metastases,
    uncorrected_in_grade_range,
)
from hooks.rules._why import ORDER_HOOK_ONLY, calcium_text, names, no_oncology_draft
from hooks.why_not import not_fired

RULE_ID = "BMA-WITHOUT-CONFIRMED-METASTASIS"


def treats_hypercalcemia(order: MedicationFact, facts: ClinicalFacts, t: Thresholds) -> bool:
    """7.3.23: a bisphosphonate labelled for hypercalcemia of malignancy, with corrected (or ionized)
    calcium at CTCAE grade >= 2; an uncorrected calcium is not graded (module docstring)."""
    grade = ctcae_hypercalcemia_grade(facts.calcium)
    return order.agent in HCM_LABELLED_AGENTS and grade >= t["hcm_labelled_use_grade_from"]


def oncology_drafts(facts: ClinicalFacts, t: Thresholds) -> tuple[MedicationFact, ...]:
    """Inclusion: BMAs drafted at the oncology (or an unreadable) regimen, in the order hooks only, except
    a labelled treatment of hypercalcemia."""
    if not is_order_hook(facts):
        return ()
    return tuple(m for m in drafted_oncology_bmas(facts) if not treats_hypercalcemia(m, facts, t))


@rule(RULE_ID, consensus_section="Table 1, 6.3", needs=())
def bma_without_confirmed_metastasis(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-WITHOUT-CONFIRMED-METASTASIS (Table 1, 6.3): no BMA for a risk of bone metastasis alone."""
    drafts = oncology_drafts(facts, t)
    if not drafts or has_confirmed_bone_metastasis(facts):
        return not_fired(lambda: _why_not(facts, drafts))
    suspected = suspected_bone_metastases(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="suspected" if suspected else "not-diagnosed",
        values={
            "drafted": "; ".join(m.display for m in drafts),
            "regimen_note": regimen_note(drafts),
            "calcium_note": _calcium_note(facts, drafts, t),
        },
        evidence=_evidence(drafts, suspected),
    )


def _evidence(
    drafts: tuple[MedicationFact, ...], suspected: tuple[ConditionFact, ...]
) -> tuple[Evidence, ...]:
    orders = tuple(medication_evidence(m) for m in drafts)
    conditions = tuple(
        condition_evidence("Bone metastasis, suspected only (not confirmed)", c) for c in suspected
    )
    return orders + conditions


def _calcium_note(facts: ClinicalFacts, drafts: tuple[MedicationFact, ...], t: Thresholds) -> str:
    """Why a labelled bisphosphonate with a high calcium was not taken as a hypercalcemia treatment."""
    calcium = facts.calcium
    labelled = any(m.agent in HCM_LABELLED_AGENTS for m in drafts)
    if calcium is None or not labelled:
        return ""
    if not uncorrected_in_grade_range(calcium, t["hcm_labelled_use_grade_from"]):
        return ""
    return (
        f"Calcium is in the CTCAE grade {calcium.hypercalcemia_grade} range but was not corrected for "
        "albumin (grade not assigned), so this order was not taken as a treatment of hypercalcemia of "
        "malignancy (a labelled use from grade 2). Correct the calcium (albumin), or give the hypercalcemia "
        "as the override reason."
    )


def _why_not(facts: ClinicalFacts, drafts: tuple[MedicationFact, ...]) -> str:
    if not is_order_hook(facts):
        return ORDER_HOOK_ONLY
    if drafts:
        confirmed = facts.conditions_in("bone_metastasis", "confirmed")
        return f"Bone metastasis is confirmed: {'; '.join(c.display for c in confirmed)}"
    treating = drafted_oncology_bmas(facts)
    if treating and facts.calcium is not None:
        return (
            f"{names(treating)} treats hypercalcemia of malignancy, a labelled use: "
            f"{calcium_text(facts.calcium)}, CTCAE grade {ctcae_hypercalcemia_grade(facts.calcium)} "
            "(RULES.md 7.3.23)"
        )
    return no_oncology_draft(facts)
