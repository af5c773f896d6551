"""What a rule returns: a finding, with no card prose and no FHIR in it.

A rule decides; `hooks/cards.py` words the decision (from `hooks/card_templates/<RULE-ID>.yaml`) and
`hooks/orders.py` turns suggestion specs into FHIR resources (from `hooks/data/orders.yaml`). Keeping the
three apart lets a clinician review a rule's logic, its wording and its orders separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fhir_mappings.facts import Evidence

Indicator = Literal["info", "warning", "critical"]
ActionType = Literal["create", "update", "delete"]

INDICATOR_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ActionSpec:
    """One suggestion action.

    create: `order_key` names an entry of `hooks/data/orders.yaml`; `reason` is the clinical reason text
    put in the resource's reasonCode.
    update: `target` is the drafted resource's reference (`MedicationRequest/abc`); `order_key` names the
    catalog entry whose dose and timing replace the draft's.
    delete: `target` is the reference of the draft to remove.
    """

    type: ActionType
    order_key: str | None = None
    target: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class SuggestionSpec:
    label: str
    actions: tuple[ActionSpec, ...]
    is_recommended: bool = False


@dataclass(frozen=True)
class OrderPointer:
    """A suggestion this card would have made that another card of the same response already offers
    (RULES.md 7.4.27): the card says where to find it instead of offering the order twice."""

    label: str
    rule_id: str


@dataclass(frozen=True)
class Finding:
    """A rule's decision for one patient.

    `variant` picks the wording in the card template (for example `first-dose` or `on-treatment`).
    `values` fills the template's `{placeholders}`; every placeholder a variant uses must be present.
    `missing` lists data the rule needed but did not have; the card says so.
    `outside_sources` names where numbers not in the consensus came from (drug label, CTCAE v5).
    """

    rule_id: str
    indicator: Indicator
    variant: str = "default"
    values: dict[str, str] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()
    suggestions: tuple[SuggestionSpec, ...] = ()
    selection_behavior: Literal["at-most-one", "any"] = "any"
    outside_sources: tuple[str, ...] = ()
    order_pointers: tuple[OrderPointer, ...] = ()
    """Filled after the rules ran (`hooks/response_order.py`), never by a rule."""
