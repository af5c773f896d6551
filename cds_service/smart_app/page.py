"""What the review page shows, assembled from one chart review: plots with their tables, the course
timeline, every rule's verdict and the calculators. No FHIR here, no request: only the facts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.preview import render_markdown
from cds_service.smart_app import plots
from cds_service.smart_app.calculators import Calculator, calculators
from cds_service.smart_app.chart import ChartReview
from cds_service.smart_app.series import (
    Dose,
    Series,
    alp_series,
    calcium_series,
    creatinine_series,
    scheduled_doses,
)
from cds_service.smart_app.timeline import Entry, course_timeline
from cds_service.smart_app.verdicts import rule_verdicts
from fhir_mappings.thresholds import Thresholds
from hooks.card_template import CardTemplate
from hooks.explain import RuleVerdict
from hooks.markdown import escape_markdown

RULE_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")


@dataclass(frozen=True)
class AppContext:
    """The EHR's appContext from a card link: which rule (and card) the clinician came from."""

    rule: str | None
    card: str | None


@dataclass(frozen=True)
class Plot:
    key: str
    title: str
    image: str
    panels: list[Series]
    doses: tuple[Dose, ...]


@dataclass(frozen=True)
class ReviewPage:
    plots: list[Plot]
    doses: tuple[Dose, ...]
    timeline: list[Entry]
    verdicts: list[RuleVerdict]
    calculators: list[Calculator]
    highlighted: str | None
    unavailable: dict[str, str]
    as_of: str
    explanations: dict[str, str]
    """Rule ID -> the fired card's long explanation as HTML: the text the card itself leaves out."""


def parse_app_context(raw: Any) -> AppContext:
    """`{"rule": "ORAL-EXAM", "card": "<uuid>"}` as a JSON string (or object); anything else is ignored."""
    data = raw
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except ValueError:
            return AppContext(None, None)
    if not isinstance(data, dict):
        return AppContext(None, None)
    rule, card = data.get("rule"), data.get("card")
    return AppContext(
        rule if isinstance(rule, str) and RULE_ID.match(rule) else None,
        card[:64] if isinstance(card, str) else None,
    )


def review_page(
    chart: ChartReview, t: Thresholds, context: AppContext, templates: Mapping[str, CardTemplate]
) -> ReviewPage:
    facts = chart.facts
    doses = scheduled_doses(facts)
    calcium = calcium_series(facts, t)
    creatinine, crcl = creatinine_series(facts, t)
    alp = alp_series(facts, t)
    drawn = [
        ("calcium", "Calcium (corrected)", [calcium]),
        ("creatinine", "Creatinine and creatinine clearance (Cockcroft-Gault)", [creatinine, crcl]),
        ("alp", "Alkaline phosphatase (ALP)", [alp]),
    ]
    verdicts = rule_verdicts(facts, t, chart.unavailable_types, templates, context.rule)
    return ReviewPage(
        plots=[
            Plot(key, title, plots.time_plot(panels, doses), panels, doses) for key, title, panels in drawn
        ],
        doses=doses,
        timeline=course_timeline(facts),
        verdicts=verdicts,
        calculators=calculators(facts, t),
        highlighted=context.rule,
        unavailable=chart.unavailable,
        as_of=facts.today.isoformat(),
        explanations=explanations(verdicts, templates),
    )


def explanations(verdicts: list[RuleVerdict], templates: Mapping[str, CardTemplate]) -> dict[str, str]:
    """A card says what to do in three lines; the reasoning behind it (the template variant's rationale,
    filled with the card's own values) is shown here, one click away (issue 12). EHR text in the values is
    escaped, and the Markdown renderer refuses raw HTML, as on the preview page."""
    shown = {}
    for verdict in verdicts:
        finding, template = verdict.finding, templates.get(verdict.rule_id)
        if verdict.status != "fired" or finding is None or template is None:
            continue
        text = template.rationale(finding.variant, finding.values, escape_markdown).strip()
        if text:
            shown[verdict.rule_id] = render_markdown(text)
    return shown
