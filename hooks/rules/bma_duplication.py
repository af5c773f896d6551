"""BMA-DUPLICATION (consensus 6.3, Table 1; RULES.md 7.3.22): "Denosumab and bisphosphonates are
recommended for the treatment of patients with bone metastasis"; Table 1 gives each agent as its own
regimen ("Recommended initial dose and protocol": denosumab, zoledronic acid, ibandronate, incadronate), as
alternatives; it describes no combination of two. The Xgeva label adds that patients receiving it should
not take Prolia (same active ingredient), which the card names as an outside source.

Order hooks only (None in patient-view). Regimens as RULES.md 7.1.5 defines them (`MedicationFact.regimen`;
an unreadable regimen counts as oncology and the card says so). Three situations, one card:
- `with-active` (critical): a draft adds a second treatment to an active oncology BMA: an oncology draft of
  another agent, or any osteoporosis-regimen draft (Prolia while on Xgeva). One recommended suggestion
  deletes those drafts; the active order is never changed.
- `drafted-together` (critical): two or more BMA drafts that are not renewals of an active order. One
  suggestion per draft keeps it and deletes the others (`at-most-one`, none recommended: which agent to keep
  is the clinician's choice).
- `osteoporosis-active` (warning): an oncology draft while an osteoporosis regimen is active (Xgeva while on
  Prolia). The oncology draft is what bone metastasis needs and is never deleted; the suggestion stops the
  osteoporosis MedicationRequest (an `update` to status `stopped`).
When an osteoporosis regimen is active beside a critical case, every suggestion also stops it.

Scope (7.3.20): the card fires only when a draft under check (order-select's selections; every draft at
order-sign) is involved; the other drafts are context, so a selected draft duplicating an unselected one
still fires.

Decisions beyond the catalog:
- Renewal: a draft of the same agent as the active order, and not the other regimen (Prolia vs Xgeva), is a
  renewal of that order, not a duplicate (EHRs re-order a 4-weekly drug this way). Two drafts of the same
  agent at once are a duplicate: both cannot be renewals.
- A draft whose regimen cannot be read, of the same agent as an active osteoporosis order, is read as that
  order's renewal (`_shared.renews_osteoporosis`): stopping Prolia because of an unreadable renewal would be
  wrong. With confirmed bone metastasis, DENOSUMAB-DOSE changes such a denosumab renewal to 120 mg.
- An osteoporosis-regimen draft while an oncology BMA is active is a duplicate whatever the agent (two
  antiresorptives at once add risk without a known benefit); between osteoporosis regimens alone (no
  oncology order involved) this rule stays silent: that is not the consensus's subject.
"""

from __future__ import annotations

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.orders import STOP_ORDER
from hooks.rule_registry import rule
from hooks.rules._shared import (
    active_bmas,
    active_osteoporosis_bmas,
    all_drafted_bmas,
    drafts_duplicating_active,
    is_checked,
    is_oncology_like,
    is_order_hook,
    medication_evidence,
    regimen_note,
    renews_osteoporosis,
)
from hooks.rules._why import ORDER_HOOK_ONLY, names
from hooks.why_not import not_fired

RULE_ID = "BMA-DUPLICATION"
LABEL_SOURCE = "Xgeva label (patients receiving Xgeva should not take Prolia: same active ingredient)"
REASON = "Duplicate bone-modifying drug"
STOP_REASON = "Stopped for the oncology regimen of a bone-modifying drug (bone metastasis)"


def drafted_together(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Drafts that are not duplicates of an active order; two or more of them duplicate each other."""
    with_active = drafts_duplicating_active(facts)
    kept = tuple(d for d in all_drafted_bmas(facts) if d not in with_active)
    return kept if len(kept) >= 2 and any(is_oncology_like(d) for d in kept) else ()


def drafts_to_delete(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Every draft this rule may suggest deleting (other rules leave these drafts to it)."""
    if not is_order_hook(facts):
        return ()
    return (*drafts_duplicating_active(facts), *drafted_together(facts))


def oncology_drafts_on_osteoporosis(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Checked oncology drafts while an osteoporosis regimen is active (7.3.22's warning case)."""
    if not active_osteoporosis_bmas(facts):
        return ()
    return tuple(
        d
        for d in all_drafted_bmas(facts)
        if is_oncology_like(d) and is_checked(facts, d.reference) and not renews_osteoporosis(facts, d)
    )


@rule(RULE_ID, consensus_section="6.3, Table 1", needs=("MedicationRequest",))
def bma_duplication(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-DUPLICATION (6.3, Table 1): one bone-modifying drug at a time; delete the duplicate draft."""
    if not is_order_hook(facts):
        return not_fired(ORDER_HOOK_ONLY)
    with_active, together = drafts_duplicating_active(facts), drafted_together(facts)
    on_osteoporosis = oncology_drafts_on_osteoporosis(facts)
    involved = (*with_active, *together, *on_osteoporosis)
    if not any(is_checked(facts, d.reference) for d in involved):
        return not_fired(lambda: _no_duplicate(facts, involved))
    variant = "with-active" if with_active else "drafted-together" if together else "osteoporosis-active"
    active, stopping = active_bmas(facts), active_osteoporosis_bmas(facts)
    drafts = all_drafted_bmas(facts)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if variant == "osteoporosis-active" else "critical",
        variant=variant,
        values={
            "drafted": "; ".join(m.display for m in drafts),
            "active": "; ".join(m.display for m in active) or "none",
            "osteoporosis": "; ".join(m.display for m in stopping) or "none",
            "stop_note": _stop_note(stopping, variant),
            "regimen_note": regimen_note((*active, *drafts)),
        },
        evidence=tuple(medication_evidence(m) for m in (*active, *stopping, *drafts)),
        suggestions=_suggestions(with_active, together, stopping),
        selection_behavior="at-most-one",
        outside_sources=(LABEL_SOURCE,) if _mixes_denosumab_regimens(facts) else (),
    )


def _suggestions(
    with_active: tuple[MedicationFact, ...],
    together: tuple[MedicationFact, ...],
    stopping: tuple[MedicationFact, ...],
) -> tuple[SuggestionSpec, ...]:
    stops = _stops(stopping)
    if together:
        return tuple(
            SuggestionSpec(
                f"Keep {keep.display}; remove the other drafted bone-modifying drug(s)"
                + (" and stop the osteoporosis regimen" if stops else ""),
                (*_deletes((*with_active, *(m for m in together if m != keep))), *stops),
            )
            for keep in together
            if not (stops and not is_oncology_like(keep))
        )
    if with_active:
        label = "Remove the duplicate drafted order: " + "; ".join(m.display for m in with_active)
        return (SuggestionSpec(label, (*_deletes(with_active), *stops), is_recommended=True),)
    label = "Stop " + "; ".join(m.display for m in stopping) + " (osteoporosis regimen)"
    return (SuggestionSpec(label, stops, is_recommended=True),)


def _deletes(orders: tuple[MedicationFact, ...]) -> tuple[ActionSpec, ...]:
    return tuple(ActionSpec("delete", target=m.reference, reason=REASON) for m in orders)


def _stops(orders: tuple[MedicationFact, ...]) -> tuple[ActionSpec, ...]:
    return tuple(
        ActionSpec("update", order_key=STOP_ORDER, target=m.reference, reason=STOP_REASON) for m in orders
    )


def _stop_note(stopping: tuple[MedicationFact, ...], variant: str) -> str:
    if not stopping or variant == "osteoporosis-active":
        return ""
    names = "; ".join(m.display for m in stopping)
    return f"The osteoporosis regimen {names} is active too: stop it (the suggestions do)."


def _mixes_denosumab_regimens(facts: ClinicalFacts) -> bool:
    orders = (*facts.medications, *all_drafted_bmas(facts))
    regimens = {
        "oncology" if is_oncology_like(m) else "osteoporosis"
        for m in orders
        if m.agent == "denosumab" and (m.is_active or m.is_draft)
    }
    return regimens == {"oncology", "osteoporosis"}


def _no_duplicate(facts: ClinicalFacts, involved: tuple[MedicationFact, ...]) -> str:
    if involved:
        return f"The duplicate ({names(involved)}) involves no order being checked now"
    drafts, active = all_drafted_bmas(facts), active_bmas(facts)
    if not drafts:
        return "No bone-modifying drug among the drafted orders"
    if active:
        return f"{names(drafts)} renews the active order ({names(active)}): one bone-modifying drug"
    return f"{names(drafts)} is the only bone-modifying drug, drafted or active"
