"""A rule's Finding, worded by its card template, as a CDS Hooks 2.0 card (RULES.md section 3, "Every card").

The card says what to do in a summary of at most 140 characters, shows its evidence (value with unit,
date, resource reference), what was missing (never guessed), the consensus section and any number from
outside the consensus, and names the consensus as its source with the rule ID as the topic, so EHRs and
feedback analytics can tell cards apart without reading their text. Suggestions are complete FHIR orders
built by `hooks/orders.py`; `selectionBehavior` accompanies them. Everything that came from the EHR or a
laboratory is escaped before it enters the Markdown detail (`hooks/markdown.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    "smart_link",
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
SMART_LAUNCH_PATH = "/smart/launch"
SMART_LINK_LABEL = "Bone health review"


def render_card(
    finding: Finding,
    template: CardTemplate,
    *,
    patient_id: str,
    draft_orders_by_ref: Mapping[str, Mapping[str, Any]],
    order_catalog: OrderCatalog,
    card_uuid: str | None = None,
    chart_orders_by_ref: Mapping[str, Mapping[str, Any]] | None = None,
    public_base_url: str | None = None,
) -> dict[str, Any]:
    """The card for one finding. A template for another rule, an unknown variant or indicator, or a
    placeholder the finding does not fill, raises: each is a programming error, never a blank card.

    With `public_base_url` (the service as the EHR reaches it) the card links to the SMART app there;
    without one (an offline run with no BONEMET_PUBLIC_URL) there is no URL to give, so no SMART link."""
    if template.rule_id != finding.rule_id:
        raise ValueError(f"finding of {finding.rule_id} rendered with the template of {template.rule_id}")
    if finding.indicator not in INDICATOR_ORDER:
        raise ValueError(
            f"{finding.rule_id}: indicator {finding.indicator!r} is not info, warning or critical"
        )
    summary, detail = template.fill(finding.variant, finding.values, _escape_value)
    uuid = card_uuid or str(uuid4())
    # The consensus DOI is card.source.url, which every EHR shows with the source label: a second link to
    # it would be a doubled source and one more line on every card (issue 12).
    links = [smart_link(public_base_url, finding.rule_id, uuid)] if public_base_url else []
    card: dict[str, Any] = {
        "uuid": uuid,
        "summary": plain_text(summary, max_chars=SUMMARY_MAX_CHARS),
        "indicator": finding.indicator,
        "detail": card_detail(detail, finding, template),
        "source": card_source(template),
        "overrideReasons": override_reasons(),
    }
    if links:  # CDS Hooks: no empty arrays
        card["links"] = links
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


def smart_link(public_base_url: str, rule_id: str, card_uuid: str) -> dict[str, str]:
    """CDS Hooks 2.0 SMART link: the EHR launches the app with its own `iss` and `launch`, and hands
    back `appContext`, which names the rule and the card the clinician came from."""
    return {
        "label": SMART_LINK_LABEL,
        "url": public_base_url.rstrip("/") + SMART_LAUNCH_PATH,
        "type": "smart",
        "appContext": json.dumps({"rule": rule_id, "card": card_uuid}, separators=(",", ":")),
    }


def card_detail(worded: str, finding: Finding, template: CardTemplate) -> str:
    """What to do and why (the template's few lines), one evidence table, one source line.

    The table also carries what was missing (said to be missing, never guessed) and the orders another
    card offers, as rows: a clinician reads one table, not three lists. The long explanation is the
    template's `rationale`, shown by the SMART app the card links to.
    """
    blocks = [_short_lines(worded)]
    rows = evidence_rows(finding.evidence) + missing_rows(finding.missing) + pointer_rows(finding)
    if rows:
        blocks.append(table(EVIDENCE_HEADERS, rows))
    blocks.append(sources_line(template.consensus_section, finding.outside_sources))
    return unbreakable_dates("\n\n".join(blocks)) + "\n"


NON_BREAKING_HYPHEN = "\u2011"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def unbreakable_dates(text: str) -> str:
    """2026-11-24 with non-breaking hyphens: browsers break a date at its hyphens when a table column is
    narrow, and "2026-" over "11-24" reads as two numbers. The EHR's stylesheet is not ours, so the fix is
    in the text; it looks the same."""
    return _ISO_DATE.sub(lambda m: NON_BREAKING_HYPHEN.join(m.groups()), text)


def _short_lines(worded: str) -> str:
    """The filled template without the lines an empty note left blank (a bare "- " is an empty bullet)."""
    lines = (line.rstrip() for line in worded.strip().splitlines())
    return "\n".join(line for line in lines if line.strip() not in ("", "-"))


EVIDENCE_HEADERS = ("What", "Value", "Date", "Record")
NO_ENTRY = "\u2014"
CALCULATED = "calculated"


def evidence_table(evidence: tuple[Evidence, ...]) -> str:
    return table(EVIDENCE_HEADERS, evidence_rows(evidence))


def evidence_rows(evidence: tuple[Evidence, ...]) -> list[list[str]]:
    """One row per datum; the same result shown under two labels (latest and highest creatinine) is one
    row naming both. A calculated value has no record of its own: its value names its inputs, its Record
    cell their references, and an input row that would only repeat it is folded into it."""
    rows = _merged_rows(evidence)
    folded = {id(row) for row in rows for calc in rows if _folds_into(row, calc)}
    return [
        [escape_markdown(_merged_label(row.labels)), escape_markdown(row.value), row.day, _record(row)]
        for row in rows
        if id(row) not in folded
    ]


@dataclass
class _Row:
    value: str
    day: str
    item: Evidence
    labels: list[str] = field(default_factory=list)


def _merged_rows(evidence: tuple[Evidence, ...]) -> list[_Row]:
    merged: dict[tuple[str, str, str | None, tuple[str, ...]], _Row] = {}
    for item in evidence:
        value = f"{item.value} ({item.note})" if item.note else item.value
        key = (value, _day(item.when), item.reference, item.calculated_from)
        row = merged.setdefault(key, _Row(value, key[1], item))
        if item.label not in row.labels:
            row.labels.append(item.label)
    return list(merged.values())


PLAIN_INPUT_LABELS = frozenset({"Creatinine", "Body weight", "Albumin"})
"""Labels that say no more than the calculated row naming the result ("from creatinine 0.9 mg/dL", "corrected
for albumin 4 g/dL"); "Baseline creatinine" or "Creatinine (also: latest)" say more, and keep their row."""


def _folds_into(row: _Row, calc: _Row) -> bool:
    """Issue 12: a card's table is short. An input row goes only when the calculated row already states its
    value and day and will show its reference, so nothing the clinician reads is lost."""
    item = row.item
    if row is calc or item.reference is None or item.reference not in calc.item.calculated_from:
        return False
    if item.note or len(row.labels) != 1 or row.labels[0] not in PLAIN_INPUT_LABELS:
        return False
    states_value = re.search(rf"(?<![\d.]){re.escape(item.value)}(?![\d.])", calc.value) is not None
    return states_value and (row.day == calc.day or row.day in calc.value)


def _record(row: _Row) -> str:
    """ "calculated from Observation/a, Observation/b" for a calculated value; a result corrected with
    another (calcium with its albumin) names both."""
    inputs = ", ".join(row.item.calculated_from)
    if row.item.reference is None:
        return escape_markdown(f"{CALCULATED} from {inputs}" if inputs else CALCULATED)
    return escape_markdown(f"{row.item.reference}, {inputs}" if inputs else row.item.reference)


def _merged_label(labels: list[str]) -> str:
    """One result shown under three labels reads "Creatinine (also: highest since the rise; latest)"."""
    first, *others = labels
    if not others:
        return first
    pattern = re.compile(re.escape(first), re.IGNORECASE)
    also = [" ".join(pattern.sub("", label).split()) or label for label in others]
    return f"{first} (also: {'; '.join(word[:1].lower() + word[1:] for word in also)})"


def missing_rows(missing: tuple[str, ...]) -> list[list[str]]:
    """Says plainly that nothing was guessed, so a clinician does not read a silent default into the card."""
    return [[escape_markdown(item), MISSING, NO_ENTRY, NO_ENTRY] for item in missing]


MISSING = "**missing** (not in the record; not guessed)"


def missing_data(missing: tuple[str, ...]) -> str:
    return table(EVIDENCE_HEADERS, missing_rows(missing))


def pointer_rows(finding: Finding) -> list[list[str]]:
    """RULES.md 7.4.27: an order another card of this response already offers is not offered twice; the
    clinician is told where it is, so its absence here is not read as "not needed"."""
    return [
        [
            escape_markdown(p.label),
            f"order offered on the {escape_markdown(p.rule_id)} card",
            NO_ENTRY,
            NO_ENTRY,
        ]
        for p in finding.order_pointers
    ]


def orders_elsewhere(finding: Finding) -> str:
    return table(EVIDENCE_HEADERS, pointer_rows(finding))


def sources_line(consensus_section: str, outside_sources: tuple[str, ...]) -> str:
    """ "Source: Consensus 6.3.3 · CTCAE v5": `card.source` already names the consensus in full (and the
    EHR shows it), so this line only says where in it, and which numbers came from elsewhere, briefly."""
    section = escape_markdown(consensus_section)
    where = f"Consensus {section}" if _CONSENSUS_PART.match(consensus_section) else section
    parts = [where, *(escape_markdown(short_source(source)) for source in outside_sources)]
    return "**Source:** " + " \u00b7 ".join(dict.fromkeys(parts))


def short_source(source: str) -> str:
    """A source named in a few words: "CTCAE v5 (hypercalcemia grades)" is "CTCAE v5"; "ALP upper limit
    129 U/L: catalog default" is "ALP upper limit 129 U/L (service default)". The full wording stays in the
    rule module and the thresholds file, and the SMART app shows it."""
    what, origin = _split_top_level(source, ": ")
    if origin is None:
        doi = _DOI.search(source)
        short = _first_clause(_without_parentheses(source))
        return f"{short} {doi.group(0)}" if doi else short
    what = _without_parentheses(what)
    if _SERVICE_ORIGIN.match(origin):
        return f"{what} (service default)"
    if _NAMED_ORIGIN.match(origin):  # "...: NICE guideline NG234 (2023), ...", "...: consensus 5.1.4 (...)"
        return f"{what} ({_first_clause(_without_parentheses(origin))})"
    return what  # "Xgeva label: severe hypocalcemia more frequent ...": the source is before the colon


_CONSENSUS_PART = re.compile(r"\d|Table |Fig\. ")
_NAMED_ORIGIN = re.compile(r"[A-Z]|consensus\b")
_SERVICE_ORIGIN = re.compile(r"(?i)^(catalog|rules\.md|project|site)\b")
_DOI = re.compile(r"doi:\S+[^\s.,;)]")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")


def _split_top_level(text: str, separator: str) -> tuple[str, str | None]:
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(separator, index):
            return text[:index], text[index + len(separator) :]
    return text, None


def _without_parentheses(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _PARENTHESES.sub("", text)
    return text.strip()


def _first_clause(text: str) -> str:
    return re.split(r"[,;] ", text, maxsplit=1)[0].strip()


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
