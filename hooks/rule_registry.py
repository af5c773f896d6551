"""The rules, keyed by catalog ID.

A rule is a pure function `(facts, thresholds) -> Finding | None` registered with `@rule("RULE-ID")`.
Registering the same ID twice is a programming error and fails at import, never at a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.findings import Finding

RuleFunction = Callable[[ClinicalFacts, Thresholds], "Finding | None"]


@dataclass(frozen=True)
class RegisteredRule:
    rule_id: str
    evaluate: RuleFunction
    consensus_section: str
    needs: frozenset[str]


_RULES: dict[str, RegisteredRule] = {}
_loaded = False


def rule(
    rule_id: str, consensus_section: str, needs: tuple[str, ...]
) -> Callable[[RuleFunction], RuleFunction]:
    """Register `fn` as the implementation of catalog rule `rule_id` (one per ID, checked at import).

    `needs` lists the FHIR resource types the rule reads (Patient and Condition are always needed). When
    one of them could not be had from the EHR, the hook skips the rule and says so on a card instead of
    deciding on partial data.
    """

    def register(fn: RuleFunction) -> RuleFunction:
        if rule_id in _RULES:
            raise RuntimeError(f"rule {rule_id} is registered twice ({_RULES[rule_id].evaluate.__module__})")
        _RULES[rule_id] = RegisteredRule(rule_id, fn, consensus_section, frozenset(needs))
        return fn

    return register


def get_rule(rule_id: str) -> RegisteredRule:
    _load_rule_modules()
    try:
        return _RULES[rule_id]
    except KeyError:
        raise RuntimeError(f"no rule is registered under {rule_id}") from None


def all_rules() -> dict[str, RegisteredRule]:
    """Every rule, in the order of their modules' names: registration order depends on which module a
    test (or a site plug-in) imported first, and the generated catalog must not."""
    _load_rule_modules()
    return dict(sorted(_RULES.items(), key=lambda item: item[1].evaluate.__module__))


def _load_rule_modules() -> None:
    """Import every module of `hooks.rules` once so their decorators run (a package scan per call cost
    more than the small patient's rules themselves)."""
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    import hooks.rules as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"hooks.rules.{info.name}")
    _loaded = True
