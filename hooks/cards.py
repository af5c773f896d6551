"""A rule's Finding, worded by its card template, as a CDS Hooks 2.0 card (RULES.md section 3, "Every card").

The card says what to do in a summary of at most 140 characters, shows its evidence (value with unit,
date, resource reference), what was missing (never guessed), the consensus section and any number from
outside the consensus, and names the consensus as its source with the rule ID as the topic, so EHRs and
feedback analytics can tell cards apart without reading their text. Suggestions are complete FHIR orders
built by `hooks/orders.py`; `selectionBehavior` accompanies them. Everything that came from the EHR or a
laboratory is escaped before it enters the Markdown detail (`hooks/markdown.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from fhir_mappings.facts import Evidence
from hooks.card_template import (
    SUMMARY_MAX_CHARS,
    CardTemplate,
    CardTemplateError,
    PlaceholderError,
    load_card_templates,
)
from hooks.code_systems import RULE_SYSTEM
from hooks.findings import INDICATOR_ORDER, Finding, SuggestionSpec
from hooks.markdown import escape_markdown, plain_text, table
from hooks.orders import OrderCatalog, build_action

__all__ = [
    "CONSENSUS_URL",
    "OVERRIDE_REASON_SYSTEM",
    "SOURCE_LABEL",
    "CardTemplate",
    "CardTemplateError",
    "PlaceholderError",
    "load_card_templates",
    "override_reasons",
    "render_card",
]

SOURCE_LABEL = "Chinese expert consensus on bone metastasis in lung cancer (2022)"
CONSENSUS_URL = "https://doi.org/10.1016/j.jncc.2023.08.004"
OVERRIDE_REASON_SYSTEM = "https://bonemet-cds.org/fhir/CodeSystem/override-reason"
"""Why a clinician dismissed a card; the codes come back in feedback (`overrideReason.reason`)."""

OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("already-addressed", "Already addressed"),
    ("patient-declined", "Patient declined"),
    ("not-clinically-appropriate", "Not clinically appropriate for this patient"),
    ("life-expectancy-under-3-months", "Life expectancy under 3 months"),
)
VALUE_MAX_CHARS = 1000
"""A placeholder value may be a list (the rules a DATA-UNAVAILABLE card could not run), so it gets more room
than an evidence cell; the cap still keeps one runaway EHR string from swamping the card."""

NOT_RECORDED = "not recorded"


def render_card(
    finding: Finding,
    template: CardTemplate,
    *,
    patient_id: str,
    draft_orders_by_ref: Mapping[str, Mapping[str, Any]],
    order_catalog: OrderCatalog,
    card_uuid: str | None = None,
    chart_orders_by_ref: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The card for one finding. A template for another rule, an unknown variant or indicator, or a
    placeholder the finding does not fill, raises: each is a programming error, never a blank card."""
    if template.rule_id != finding.rule_id:
        raise ValueError(f"finding of {finding.rule_id} rendered with the template of {template.rule_id}")
    if finding.indicator not in INDICATOR_ORDER:
        raise ValueError(
            f"{finding.rule_id}: indicator {finding.indicator!r} is not info, warning or critical"
        )
    summary, detail = template.fill(finding.variant, finding.values, _escape_value)
    card: dict[str, Any] = {
        "uuid": card_uuid or str(uuid4()),
        "summary": plain_text(summary, max_chars=SUMMARY_MAX_CHARS),
        "indicator": finding.indicator,
        "detail": card_detail(detail, finding, template),
        "source": card_source(template),
        "overrideReasons": override_reasons(),
        "links": [{"label": "Consensus full text (DOI)", "url": CONSENSUS_URL, "type": "absolute"}],
    }
    suggestions = [
        _suggestion(
            spec,
            patient_id=patient_id,
            drafts_by_ref=draft_orders_by_ref,
            catalog=order_catalog,
            chart_orders_by_ref=chart_orders_by_ref or {},
        )
        for spec in finding.suggestions
    ]
    if suggestions:
        _check_selection(finding)
        card["suggestions"] = suggestions
        card["selectionBehavior"] = finding.selection_behavior
    return card


def card_detail(worded: str, finding: Finding, template: CardTemplate) -> str:
    """The template's Markdown, then evidence, missing data and sources, as separate blocks."""
    blocks = [worded.strip()]
    if finding.evidence:
        blocks.append("**Evidence**\n\n" + evidence_table(finding.evidence))
    if finding.missing:
        blocks.append(missing_data(finding.missing))
    if finding.order_pointers:
        blocks.append(orders_elsewhere(finding))
    blocks.append(sources_line(template.consensus_section, finding.outside_sources))
    return "\n\n".join(blocks) + "\n"


def evidence_table(evidence: tuple[Evidence, ...]) -> str:
    rows = [
        [
            escape_markdown(item.label),
            escape_markdown(f"{item.value} ({item.note})" if item.note else item.value),
            _day(item.when),
            escape_markdown(item.reference) if item.reference else NOT_RECORDED,
        ]
        for item in evidence
    ]
    return table(["What", "Value", "Date", "Source reference"], rows)


def missing_data(missing: tuple[str, ...]) -> str:
    """Says plainly that nothing was guessed, so a clinician does not read a silent default into the card."""
    items = "\n".join(f"- {escape_markdown(item)}" for item in missing)
    return (
        "**Missing data**\n\n"
        "These were not found in the record. The rule did not guess or substitute them:\n\n" + items
    )


def orders_elsewhere(finding: Finding) -> str:
    """RULES.md 7.4.27: an order another card of this response already offers is not offered twice; the
    clinician is told where it is, so its absence here is not read as "not needed"."""
    items = "\n".join(
        f"- {escape_markdown(p.label)}: offered on the {escape_markdown(p.rule_id)} card of this response"
        for p in finding.order_pointers
    )
    return "**Offered on another card**\n\nNot repeated here, so that it is ordered once:\n\n" + items


def sources_line(consensus_section: str, outside_sources: tuple[str, ...]) -> str:
    """`6.3.3` reads "section 6.3.3"; `Table 1 instructions` or `section 5, Fig. 2` read as written."""
    outside = "; ".join(escape_markdown(source) for source in outside_sources) or "none"
    section = escape_markdown(consensus_section)
    where = f"section {section}" if consensus_section[:1].isdigit() else section
    return f"**Source**: {SOURCE_LABEL}, {where}. Numbers from outside the consensus: {outside}."


def card_source(template: CardTemplate) -> dict[str, Any]:
    """`topic.code` is the catalog rule ID: the stable handle for EHR filtering and feedback analytics."""
    topic = {"system": RULE_SYSTEM, "code": template.rule_id, "display": template.title or template.rule_id}
    return {"label": SOURCE_LABEL, "url": CONSENSUS_URL, "topic": topic}


def override_reasons() -> list[dict[str, str]]:
    """CDS Hooks requires a display on every override reason the service offers."""
    return [
        {"system": OVERRIDE_REASON_SYSTEM, "code": code, "display": display}
        for code, display in OVERRIDE_REASONS
    ]


def _suggestion(
    spec: SuggestionSpec,
    *,
    patient_id: str,
    drafts_by_ref: Mapping[str, Mapping[str, Any]],
    catalog: OrderCatalog,
    chart_orders_by_ref: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    suggestion: dict[str, Any] = {
        "uuid": str(uuid4()),
        "label": plain_text(spec.label),
        "isRecommended": spec.is_recommended,
    }
    actions = [
        build_action(
            action,
            patient_id=patient_id,
            drafts_by_ref=drafts_by_ref,
            catalog=catalog,
            chart_orders_by_ref=chart_orders_by_ref,
        )
        for action in spec.actions
    ]
    if actions:  # CDS Hooks: JSON elements are not empty
        suggestion["actions"] = actions
    return suggestion


def _check_selection(finding: Finding) -> None:
    """CDS Hooks allows several recommended suggestions only when the user may pick any number of them."""
    recommended = sum(1 for spec in finding.suggestions if spec.is_recommended)
    if finding.selection_behavior == "at-most-one" and recommended > 1:
        raise ValueError(
            f"{finding.rule_id}: {recommended} suggestions recommended with selectionBehavior at-most-one"
        )


def _escape_value(value: str) -> str:
    return escape_markdown(value, max_chars=VALUE_MAX_CHARS)


def _day(when: date | None) -> str:
    if when is None:
        return NOT_RECORDED
    return (when.date() if isinstance(when, datetime) else when).isoformat()
