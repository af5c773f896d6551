"""What every response does after the rules ran (RULES.md 7.4): cards in a fixed order, each order once.

Done once for all rules, here, rather than in each rule: a rule does not know which other cards this
patient gets, and two cards offering the same order invite it to be placed twice (the urgent spine MRI of
SPINAL-CORD-COMPRESSION and BONE-IMAGING-WORKUP).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import yaml

from hooks.findings import INDICATOR_ORDER, ActionSpec, Finding, OrderPointer, SuggestionSpec

CARD_ORDER_PATH = Path(__file__).parent / "data" / "card_order.yaml"


@lru_cache(maxsize=1)
def card_ranks(path: Path = CARD_ORDER_PATH) -> tuple[dict[str, int], int]:
    """(rule ID -> position, the position of a rule not listed): clinical cards in their listed order, then
    one shared position for unlisted rules, then the data cards."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    clinical, data = list(raw["clinical"]), list(raw["data"])
    ranks = {rule_id: i for i, rule_id in enumerate(clinical)}
    ranks.update({rule_id: len(clinical) + 1 + i for i, rule_id in enumerate(data)})
    return ranks, len(clinical)


def sort_key(finding: Finding) -> tuple[int, int]:
    ranks, unlisted = card_ranks()
    return INDICATOR_ORDER[finding.indicator], ranks.get(finding.rule_id, unlisted)


def in_response_order(findings: Iterable[Finding]) -> list[Finding]:
    """Critical, warning, info; within an indicator, the RULES.md 7.4.28 order; then each order once."""
    return each_order_once(sorted(findings, key=sort_key))


def each_order_once(findings: list[Finding]) -> list[Finding]:
    """RULES.md 7.4.27: the first card (in response order) that suggests creating an order keeps it; a
    later card drops that suggestion and points to the card that has it. `findings` must be sorted."""
    holders: dict[str, str] = {}
    result = []
    for finding in findings:
        kept: list[SuggestionSpec] = []
        pointers: list[OrderPointer] = []
        for spec in finding.suggestions:
            taken = {
                k: holders[k] for k in _created(spec) if holders.get(k, finding.rule_id) != finding.rule_id
            }
            if taken:
                pointers += [OrderPointer(spec.label, rule_id) for rule_id in dict.fromkeys(taken.values())]
                rest = _without(spec, set(taken))
                if rest is not None:
                    kept.append(rest)
                continue
            kept.append(spec)
        for spec in kept:
            for key in _created(spec):
                holders.setdefault(key, finding.rule_id)
        if pointers:
            finding = replace(
                finding, suggestions=tuple(kept), order_pointers=finding.order_pointers + tuple(pointers)
            )
        result.append(finding)
    return result


def _created(spec: SuggestionSpec) -> list[str]:
    return [a.order_key for a in spec.actions if a.type == "create" and a.order_key]


def _without(spec: SuggestionSpec, keys: set[str]) -> SuggestionSpec | None:
    """The suggestion minus the orders another card holds; None when nothing of it is left. A suggestion
    that also stops or changes an order keeps that part, and its label says the rest is on the other card."""
    rest: tuple[ActionSpec, ...] = tuple(
        a for a in spec.actions if not (a.type == "create" and a.order_key in keys)
    )
    if not rest:
        return None
    return replace(spec, label=f"{spec.label} (the new order is offered on another card)", actions=rest)
