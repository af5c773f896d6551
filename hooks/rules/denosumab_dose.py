"""DENOSUMAB-DOSE (consensus Table 1, 6.3.1): denosumab "120 mg, SC on the upper arm, upper thigh, or
abdomen, repeat every 4 weeks" is the recommended dose for bone metastasis; 60 mg every 6 months (Prolia)
is the osteoporosis regimen, a different one (catalog section 2).

Order hooks only (None in patient-view). Inclusion: denosumab drafted for a patient with a confirmed
bone metastasis (a suspected one is BMA-WITHOUT-CONFIRMED-METASTASIS's business). Decision: the draft is
at the osteoporosis regimen when its dose is below the oncology dose (60 mg and below, beyond
`dose_tolerance_mg`), its interval is at least `denosumab_osteoporosis_interval_days` (read as the
6-monthly schedule), or, with neither stated, it is coded as the Prolia product. Then a warning with an
`update` of the drafted order to 120 mg every 4 weeks (`denosumab_120mg_q4w`).

Decisions beyond the catalog:
- Intervals between the oncology schedule and 150 days (every 8 or 12 weeks) are not flagged: Table 1
  allows "extending the treatment interval according to clinical judgment".
- A denosumab draft that duplicates an active BMA of another agent or product (BMA-DUPLICATION's
  critical card deletes it) gets no update here: changing its dose would not make it right. A draft of
  the same product as the active order (a renewal) is checked.
- Several such drafts get one card with one suggestion each (selection `any`; each changes its own draft).
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    condition_evidence,
    confirmed_bone_metastases,
    drafts_duplicating_active,
    fmt_number,
    is_order_hook,
    medication_evidence,
)

RULE_ID = "DENOSUMAB-DOSE"
ONCOLOGY_ORDER = "denosumab_120mg_q4w"
PROLIA_SOURCE = "Prolia label (60 mg every 6 months, osteoporosis)"


def denosumab_drafts(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Inclusion: denosumab drafted in an order hook, except drafts BMA-DUPLICATION removes."""
    if not is_order_hook(facts):
        return ()
    duplicates = drafts_duplicating_active(facts)
    return tuple(m for m in facts.drafts if m.agent == "denosumab" and m not in duplicates)


def is_osteoporosis_regimen(order: MedicationFact, t: Thresholds) -> bool:
    """Decision: a dose below 120 mg, a 6-monthly interval, or (neither stated) the Prolia product."""
    low_dose = (
        order.dose_mg is not None and order.dose_mg < t["denosumab_oncology_dose_mg"] - t["dose_tolerance_mg"]
    )
    six_monthly = (
        order.interval_days is not None and order.interval_days >= t["denosumab_osteoporosis_interval_days"]
    )
    unstated = order.dose_mg is None and order.interval_days is None
    return low_dose or six_monthly or (unstated and order.product == "prolia")


@rule(RULE_ID, consensus_section="Table 1, 6.3.1", needs=("MedicationRequest",))
def denosumab_dose(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """DENOSUMAB-DOSE (Table 1, 6.3.1): bone metastasis takes denosumab 120 mg every 4 weeks, not 60 mg."""
    metastases = confirmed_bone_metastases(facts)
    if not metastases:
        return None
    wrong = tuple(m for m in denosumab_drafts(facts) if is_osteoporosis_regimen(m, t))
    if not wrong:
        return None
    first = wrong[0]
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="osteoporosis-regimen",
        values={
            "dose": fmt_number(first.dose_mg) if first.dose_mg is not None else "not stated",
            "interval": _interval_text(first),
            "drafted": "; ".join(m.display for m in wrong),
        },
        evidence=(
            *(medication_evidence(m) for m in wrong),
            condition_evidence("Bone metastasis, confirmed", metastases[0]),
        ),
        suggestions=tuple(_update(m) for m in wrong),
        selection_behavior="any",
        outside_sources=(PROLIA_SOURCE,),
    )


def _update(order: MedicationFact) -> SuggestionSpec:
    return SuggestionSpec(
        "Denosumab 120 mg SC every 4 weeks (bone metastasis dose)",
        (ActionSpec("update", order_key=ONCOLOGY_ORDER, target=order.reference),),
        is_recommended=True,
    )


def _interval_text(order: MedicationFact) -> str:
    if order.interval_days is None:
        return "interval not stated"
    return f"every {fmt_number(round(order.interval_days))} days"
