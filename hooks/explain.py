"""Every rule of the catalog for one patient now, fired or not, and why (issue 12: the bone health review).

"Why not" matters as much as "why": a clinician who sees no ORAL-EXAM card should be able to read that an
exam on 2026-09-01 is within the 6-month interval, not guess whether the rule ran. The verdicts come from
the same run as the hook's cards (`hooks/runner.run_service`), listening to the reason each silent rule
gives (`hooks/why_not.py`); the gates, unreadable data and the hooks a rule belongs to explain the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.card_template import CardTemplate, load_card_templates
from hooks.data_notices import DATA_CARD_IDS, DATA_QUALITY, DATA_UNAVAILABLE, UNMAPPED_CODES
from hooks.findings import Finding, Indicator
from hooks.markdown import plain_text
from hooks.response_order import card_ranks
from hooks.rule_registry import RegisteredRule, all_rules
from hooks.runner import RuleOutcome, ServiceRun, run_service
from hooks.service_registry import CdsServiceDefinition, services

Status = Literal["fired", "not-fired", "not-evaluated"]

NO_LUNG_CANCER = (
    "No lung cancer on record: the catalog's rules apply to lung cancer only (RULES.md section 1)"
)
LUNG_CANCER_IN_TEXT = "; a record names lung cancer in words only, with no code the rules read (see the "
NO_ORDER = (
    "No bone-modifying drug or invasive dental procedure among the orders being checked: the order checks "
    "did not run"
)
UNEXPLAINED = "The rule did not fire (it recorded no reason)"
"""Never expected: every silent path of a rule gives its reason (a test walks the rules' code for it)."""
ORDER_HOOKS = frozenset({"order-select", "order-sign"})
ORDER_ONLY = (
    "Checked only when a bone-modifying drug or an invasive dental procedure is ordered (order-select, "
    "order-sign), not at chart review"
)
CHART_ONLY = "Checked at chart review (patient-view), not when an order is drafted"
DATA_TITLES = {
    DATA_UNAVAILABLE: "Data that could not be retrieved",
    DATA_QUALITY: "Results that could not be used",
    UNMAPPED_CODES: "Chart entries no rule could read",
}
DATA_QUIET = {
    DATA_UNAVAILABLE: "No rule had to be skipped: every kind of record the rules read could be retrieved",
    DATA_QUALITY: "No result or record had to be set aside (unknown unit, another patient's, unreadable)",
    UNMAPPED_CODES: (
        "No diagnosis or order names lung cancer, bone metastasis or a bone-modifying drug in words only"
    ),
}


@dataclass(frozen=True)
class RuleVerdict:
    """One catalog rule (or data card) for this patient: `fired` (its card is in the response, `finding`
    and `indicator` set), `not-fired` (it ran, or a gate stopped it, and `reason` says why) or
    `not-evaluated` (its data could not be read, or this hook does not run it; `reason` says which)."""

    rule_id: str
    title: str
    consensus_section: str
    status: Status
    reason: str
    finding: Finding | None = None
    indicator: Indicator | None = None


def explain_rules(
    facts: ClinicalFacts,
    thresholds: Thresholds,
    *,
    hook: str = "patient-view",
    unavailable_types: Collection[str] = frozenset(),
    selections: Collection[str] | None = None,
    templates: Mapping[str, CardTemplate] | None = None,
) -> list[RuleVerdict]:
    """A verdict for every registered rule, in catalog order (RULES.md 7.4.28), then the data cards.

    `facts` must be built for `hook`; `unavailable_types` are the resource types the EHR could not give
    (as for the hook call); `templates` word the fired reasons (default: the shipped card templates).
    """
    service, unavailable = service_for(hook), frozenset(unavailable_types)
    run = run_service(service, facts, thresholds, unavailable, selections, listen=True)
    words = templates if templates is not None else shipped_templates()
    fired = {f.rule_id: f for f in run.findings}
    outcomes = {o.rule_id: o for o in run.outcomes}
    verdicts = [
        _verdict(
            registered, _status_and_reason(registered, service, run, outcomes, unavailable), fired, words
        )
        for registered in catalog_rules()
    ]
    return verdicts + [_data_verdict(rule_id, fired, words) for rule_id in DATA_CARD_IDS]


def service_for(hook: str) -> CdsServiceDefinition:
    found = [s for s in services().values() if s.hook == hook]
    if not found:
        raise ValueError(f"no CDS service runs at hook {hook!r}")
    return found[0]


def catalog_rules() -> list[RegisteredRule]:
    """Registered rules in the clinical order of RULES.md 7.4 (`hooks/data/card_order.yaml`); a rule not
    listed there (a site plug-in) after them, by ID."""
    ranks, unlisted = card_ranks()
    return sorted(all_rules().values(), key=lambda r: (ranks.get(r.rule_id, unlisted), r.rule_id))


@lru_cache(maxsize=1)
def shipped_templates() -> Mapping[str, CardTemplate]:
    return load_card_templates()


def _status_and_reason(
    registered: RegisteredRule,
    service: CdsServiceDefinition,
    run: ServiceRun,
    outcomes: Mapping[str, RuleOutcome],
    unavailable: frozenset[str],
) -> tuple[Status, str]:
    if registered.rule_id not in service.rule_ids:
        return "not-evaluated", _when_checked(registered.rule_id)
    if run.gate == "no-order-to-check":
        return "not-fired", NO_ORDER
    if run.gate == "no-lung-cancer":
        return "not-fired", _no_lung_cancer(run)
    outcome = outcomes[registered.rule_id]
    if outcome.skipped:
        return "not-evaluated", _unreadable(registered, unavailable)
    if outcome.finding is not None:
        return "fired", ""
    return "not-fired", outcome.reasons[-1] if outcome.reasons else UNEXPLAINED


def _when_checked(rule_id: str) -> str:
    hooks = {s.hook for s in services().values() if rule_id in s.rule_ids}
    if not hooks:
        return "No service of this site runs this rule"
    if hooks <= ORDER_HOOKS:
        return ORDER_ONLY
    if hooks == {"patient-view"}:
        return CHART_ONLY
    return f"Checked at {', '.join(sorted(hooks))}"


def _no_lung_cancer(run: ServiceRun) -> str:
    unmapped = next((f for f in run.findings if f.rule_id == UNMAPPED_CODES), None)
    if unmapped is not None and "lung cancer" in unmapped.values.get("kinds", ""):
        return f"{NO_LUNG_CANCER}{LUNG_CANCER_IN_TEXT}{UNMAPPED_CODES} card)"
    return NO_LUNG_CANCER


def _unreadable(registered: RegisteredRule, unavailable: frozenset[str]) -> str:
    missing = ", ".join(sorted(registered.needs & unavailable))
    return f"Could not read {missing} from the EHR: the rule was not run (see the {DATA_UNAVAILABLE} card)"


def _verdict(
    registered: RegisteredRule,
    status_reason: tuple[Status, str],
    fired: Mapping[str, Finding],
    words: Mapping[str, CardTemplate],
) -> RuleVerdict:
    status, reason = status_reason
    template = words.get(registered.rule_id)
    finding = fired.get(registered.rule_id) if status == "fired" else None
    return RuleVerdict(
        rule_id=registered.rule_id,
        title=_title(registered, template),
        consensus_section=registered.consensus_section,
        status=status,
        reason=_summary(finding, template) if finding is not None else reason,
        finding=finding,
        indicator=finding.indicator if finding is not None else None,
    )


def _data_verdict(
    rule_id: str, fired: Mapping[str, Finding], words: Mapping[str, CardTemplate]
) -> RuleVerdict:
    finding = fired.get(rule_id)
    template = words.get(rule_id)
    title = (template.title if template else None) or DATA_TITLES[rule_id]
    if finding is None:
        return RuleVerdict(rule_id, title, "", "not-fired", DATA_QUIET[rule_id])
    return RuleVerdict(rule_id, title, "", "fired", _summary(finding, template), finding, finding.indicator)


def _title(registered: RegisteredRule, template: CardTemplate | None) -> str:
    """The card template's title, else what the rule's docstring says it does."""
    if template is not None and template.title:
        return template.title
    first = (registered.evaluate.__doc__ or registered.rule_id).strip().splitlines()[0]
    what = first.split("): ", 1)[-1].rstrip(".")
    return what[:1].upper() + what[1:]


def _summary(finding: Finding, template: CardTemplate | None) -> str:
    """A fired rule's one-line why: its card's summary."""
    if template is None:
        return f"{finding.rule_id} fired ({finding.indicator})"
    summary, _ = template.fill(finding.variant, finding.values, str)
    return plain_text(summary)
