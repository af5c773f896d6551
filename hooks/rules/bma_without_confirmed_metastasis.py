"""BMA-WITHOUT-CONFIRMED-METASTASIS (consensus Table 1 instructions, 6.3): "Bone-modifying drugs are
recommended for patients with radiographic bone destruction or metastasis if there are no
contraindications, but they are not recommended for patients with a risk of bone metastasis alone but
undiagnosed"; 6.3: they "provide benefits for patients with confirmed bone metastasis".

Order hooks only (None in patient-view). Inclusion: a BMA drafted at an oncology regimen (Table 1's
doses, every 3-4 weeks). Exclusion: a confirmed bone metastasis (catalog section 2); a suspected one
counts as not confirmed. Decision: a warning with no suggestion; the card asks for an override reason
when the order goes ahead (Table 1: not for risk alone). Variants: `suspected` (bone metastasis recorded
as provisional, differential or unconfirmed: the card points to the imaging that would settle it) and
`not-diagnosed` (none recorded).

Decisions beyond the catalog, on what "an oncology dose" is:
- The stated dose decides: denosumab at the oncology dose (120 mg, within `dose_tolerance_mg`);
  zoledronic acid at most the full oncology dose (4 mg; the label's renal doses 3.0-3.5 mg are the same
  regimen, while 5 mg once a year is the osteoporosis product); ibandronate 6 mg; incadronate at most
  10 mg. Another dose (Prolia 60 mg, oral ibandronate 150 mg monthly) is not this rule's business.
- Without a readable dose, an interval of at most `oncology_interval_max_days` decides; without either,
  a denosumab order coded as the Xgeva product counts. An order with none of these cannot be placed in a
  regimen and does not fire (the card would have to guess).
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, ConditionFact, Evidence, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding
from hooks.rule_registry import rule
from hooks.rules._shared import (
    condition_evidence,
    drafted_bmas,
    has_confirmed_bone_metastasis,
    is_order_hook,
    medication_evidence,
    suspected_bone_metastases,
)

RULE_ID = "BMA-WITHOUT-CONFIRMED-METASTASIS"


def is_oncology_dose(order: MedicationFact, t: Thresholds) -> bool | None:
    """Whether the stated dose is Table 1's oncology dose for the agent; None when no dose is stated."""
    dose, tolerance = order.dose_mg, t["dose_tolerance_mg"]
    if dose is None:
        return None
    if order.agent == "denosumab":
        return abs(dose - t["denosumab_oncology_dose_mg"]) <= tolerance
    if order.agent == "zoledronic_acid":
        return dose <= t["za_dose_crcl_above_60_mg"] + tolerance
    if order.agent == "ibandronate":
        return abs(dose - t["ibandronate_oncology_dose_mg"]) <= tolerance
    if order.agent == "incadronate":
        return dose <= t["incadronate_oncology_dose_max_mg"] + tolerance
    return False


def is_oncology_regimen(order: MedicationFact, t: Thresholds) -> bool:
    """Inclusion: the dose decides; without one the interval; without either, the Xgeva product code."""
    by_dose = is_oncology_dose(order, t)
    if by_dose is not None:
        return by_dose
    if order.interval_days is not None:
        return order.interval_days <= t["oncology_interval_max_days"]
    return order.product == "xgeva"


def oncology_drafts(facts: ClinicalFacts, t: Thresholds) -> tuple[MedicationFact, ...]:
    """Inclusion: BMAs drafted at an oncology regimen, in the order hooks only."""
    if not is_order_hook(facts):
        return ()
    return tuple(m for m in drafted_bmas(facts) if is_oncology_regimen(m, t))


@rule(RULE_ID, consensus_section="Table 1, 6.3", needs=())
def bma_without_confirmed_metastasis(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-WITHOUT-CONFIRMED-METASTASIS (Table 1, 6.3): no BMA for a risk of bone metastasis alone."""
    drafts = oncology_drafts(facts, t)
    if not drafts or has_confirmed_bone_metastasis(facts):
        return None
    suspected = suspected_bone_metastases(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="suspected" if suspected else "not-diagnosed",
        values={"drafted": "; ".join(m.display for m in drafts)},
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
