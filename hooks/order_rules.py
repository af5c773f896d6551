"""What order-select and order-sign share: the rules of RULES.md section 5 and when they apply."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from fhir_mappings.facts import ClinicalFacts

ORDER_RULE_IDS = (
    "BMA-DUPLICATION",
    "BMA-WITHOUT-CONFIRMED-METASTASIS",
    "HYPOCALCEMIA-CORRECTION",
    "ZA-RENAL-DOSING",
    "DENOSUMAB-RENAL-RISK",
    "DENOSUMAB-DOSE",
    "BISPHOSPHONATE-DOSE",
    "BMA-PRETREATMENT-WORKUP",
    "ORAL-EXAM",
    "CALCIUM-VITAMIN-D",
    "INVASIVE-DENTAL-ON-BMA",
)


def orders_to_check(facts: ClinicalFacts, selections: Collection[str] | None) -> bool:
    """A drafted BMA or invasive dental procedure triggers the checks; other orders pass with no card.

    order-select names the orders being composed in `selections`; only those trigger. order-sign passes
    None: every drafted order is about to be signed.
    """
    triggers = [m.reference for m in facts.drafts if m.agent_class == "bma"]  # every regimen: a Prolia draft
    # is checked too (DENOSUMAB-DOSE, BMA-DUPLICATION)
    triggers += [e.reference for e in facts.draft_events if e.kind == "invasive_dental"]
    if selections is None:
        return bool(triggers)
    return any(reference in selections for reference in triggers)


def scoped(facts: ClinicalFacts, selections: Collection[str] | None) -> ClinicalFacts:
    """RULES.md 7.3.20: order-select checks the drafts named in `selections`, the other drafts being context
    (a duplicate of a selected draft still counts); order-sign (None) checks every draft."""
    return replace(facts, checked_drafts=None if selections is None else frozenset(selections))
