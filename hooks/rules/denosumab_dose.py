"""DENOSUMAB-DOSE (consensus Table 1, 6.3.1): denosumab "120 mg, SC on the upper arm, upper thigh, or
abdomen, repeat every 4 weeks" is the recommended dose for bone metastasis; 60 mg every 6 months (Prolia)
is the osteoporosis regimen, a different one (catalog section 2).

Order hooks only (None in patient-view). Inclusion: denosumab drafted (under check, 7.3.20) for a patient
with a confirmed bone metastasis (a suspected one is BMA-WITHOUT-CONFIRMED-METASTASIS's business).
Decision: the draft is the osteoporosis regimen (RULES.md 7.1.5: Prolia product code, else 60 mg, else a
6-monthly interval), or its stated dose is below the oncology dose (beyond `dose_tolerance_mg`), or its
interval is at least `denosumab_osteoporosis_interval_days`. Then a warning with an `update` of the drafted
order to 120 mg every 4 weeks (`denosumab_120mg_q4w`). When Prolia is also active in the chart, the same
suggestion stops it (an `update` to status `stopped`): 60 mg and 120 mg are never given together (Xgeva
label).

Decisions beyond the catalog:
- Intervals between the oncology schedule and 150 days (every 8 or 12 weeks) are not flagged: Table 1
  allows "extending the treatment interval according to clinical judgment".
- A denosumab draft that BMA-DUPLICATION deletes (Prolia drafted while Xgeva or another oncology BMA is
  active, or drafted together with another BMA) gets no update here: changing its dose would not make it
  right, and two cards would disagree. A renewal of an active order is checked.
- A denosumab draft whose regimen cannot be read, while Prolia is active, is read as the Prolia renewal
  and changed to 120 mg (the card says the regimen could not be read).
- Several such drafts get one card with one suggestion each (selection `any`; each changes its own draft).
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.orders import STOP_ORDER
from hooks.rule_registry import rule
from hooks.rules._shared import (
    active_osteoporosis_bmas,
    bma_regimen,
    condition_evidence,
    confirmed_bone_metastases,
    drafted_bmas,
    fmt_number,
    interval_text,
    is_order_hook,
    medication_evidence,
    regimen_note,
    renews_osteoporosis,
)
from hooks.rules._why import ORDER_HOOK_ONLY, no_confirmed_metastasis
from hooks.rules.bma_duplication import drafts_to_delete
from hooks.why_not import not_fired

RULE_ID = "DENOSUMAB-DOSE"
ONCOLOGY_ORDER = "denosumab_120mg_q4w"
PROLIA_SOURCE = "Prolia label (60 mg every 6 months, osteoporosis)"
STOP_REASON = "Stopped for denosumab 120 mg every 4 weeks (bone metastasis); never with 60 mg (Xgeva label)"


def denosumab_drafts(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Inclusion: denosumab drafted in an order hook, except drafts BMA-DUPLICATION removes."""
    if not is_order_hook(facts):
        return ()
    duplicates = drafts_to_delete(facts)
    return tuple(m for m in drafted_bmas(facts) if m.agent == "denosumab" and m not in duplicates)


def is_osteoporosis_regimen(order: MedicationFact, t: Thresholds, facts: ClinicalFacts | None = None) -> bool:
    """Decision: the osteoporosis regimen (7.1.5), a dose below 120 mg, a 6-monthly interval, or an
    unreadable renewal of an active Prolia order."""
    if bma_regimen(order) == "osteoporosis" or (facts is not None and renews_osteoporosis(facts, order)):
        return True
    low_dose = (
        order.dose_mg is not None and order.dose_mg < t["denosumab_oncology_dose_mg"] - t["dose_tolerance_mg"]
    )
    six_monthly = (
        order.interval_days is not None and order.interval_days >= t["denosumab_osteoporosis_interval_days"]
    )
    return low_dose or six_monthly


@rule(RULE_ID, consensus_section="Table 1, 6.3.1", needs=("MedicationRequest",))
def denosumab_dose(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """DENOSUMAB-DOSE (Table 1, 6.3.1): bone metastasis takes denosumab 120 mg every 4 weeks, not 60 mg."""
    metastases = confirmed_bone_metastases(facts)
    if not metastases:
        return not_fired(lambda: _no_metastasis(facts))
    wrong = tuple(m for m in denosumab_drafts(facts) if is_osteoporosis_regimen(m, t, facts))
    if not wrong:
        return not_fired(lambda: _dose_right(facts))
    first, stopping = wrong[0], active_osteoporosis_bmas(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant="osteoporosis-regimen",
        values={
            "dose": f"{fmt_number(first.dose_mg)} mg" if first.dose_mg is not None else "dose not stated",
            "interval": _interval_text(first),
            "drafted": "; ".join(m.display for m in wrong),
            "stop_note": _stop_note(stopping),
            "regimen_note": regimen_note(wrong),
        },
        evidence=(
            *(medication_evidence(m) for m in wrong),
            *(medication_evidence(m) for m in stopping),
            condition_evidence("Bone metastasis, confirmed", metastases[0]),
        ),
        suggestions=tuple(_update(m, stopping) for m in wrong),
        selection_behavior="any",
        outside_sources=(PROLIA_SOURCE,),
    )


def _update(order: MedicationFact, stopping: tuple[MedicationFact, ...]) -> SuggestionSpec:
    stops = tuple(
        ActionSpec("update", order_key=STOP_ORDER, target=m.reference, reason=STOP_REASON) for m in stopping
    )
    return SuggestionSpec(
        "Denosumab 120 mg SC every 4 weeks (bone metastasis dose)"
        + ("; stop the osteoporosis regimen" if stops else ""),
        (ActionSpec("update", order_key=ONCOLOGY_ORDER, target=order.reference), *stops),
        is_recommended=True,
    )


def _stop_note(stopping: tuple[MedicationFact, ...]) -> str:
    if not stopping:
        return ""
    names = "; ".join(m.display for m in stopping)
    return f"The osteoporosis regimen {names} is active: the suggestion stops it (never 60 mg with 120 mg)."


def _interval_text(order: MedicationFact) -> str:
    """As the order was written ("every 6 months"), not as days the prescriber never wrote."""
    return interval_text(order.interval_days) or "interval not stated"


def _no_metastasis(facts: ClinicalFacts) -> str:
    if not is_order_hook(facts):
        return ORDER_HOOK_ONLY
    return (
        f"{no_confirmed_metastasis(facts)}: the oncology dose is checked for confirmed bone metastasis only"
    )


def _dose_right(facts: ClinicalFacts) -> str:
    if not is_order_hook(facts):
        return ORDER_HOOK_ONLY
    drafts = denosumab_drafts(facts)
    if drafts:
        shown = "; ".join(f"{m.display} ({_interval_text(m)})" for m in drafts)
        return f"Denosumab drafted at the oncology regimen: {shown}"
    removed = [m for m in drafts_to_delete(facts) if m.agent == "denosumab"]
    if removed:
        return "The denosumab draft duplicates another bone-modifying drug: BMA-DUPLICATION removes it"
    return "No denosumab among the orders being checked"
