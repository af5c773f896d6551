"""The report's plots as inline SVG (matplotlib, Agg): text kept as text, no date stamp, no script."""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

from cds_service.svg_figures import pyplot

INDICATOR_COLOURS = {"critical": "#c62828", "warning": "#ef8f00", "info": "#1565c0"}
MAX_BARS = 25


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():  # a CJK display has no glyph in the font; the SVG keeps it as text
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(figure)
    text = buffer.getvalue()
    return re.sub(r"^.*?(<svg)", r"\1", text, count=1, flags=re.S) + "\n"


def _figure(bars: int) -> tuple[Any, Any]:
    return pyplot().subplots(figsize=(8, 0.9 + 0.32 * max(bars, 1)))


def rules_plot(rows: list[dict[str, Any]]) -> str:
    """Cards per 100 patients per (service, rule), stacked by indicator."""
    shown = rows[:MAX_BARS][::-1]
    figure, axes = _figure(len(shown))
    labels = [f"{r['service']}  {r['rule_id']}" for r in shown]
    left = [0.0] * len(shown)
    for indicator, colour in INDICATOR_COLOURS.items():
        widths = [100.0 * r[indicator] / max(_patients(rows, r), 1) for r in shown]
        axes.barh(labels, widths, left=left, color=colour, label=indicator)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_xlabel("cards per 100 patients")
    axes.legend(loc="lower right")
    return _svg(figure)


def _patients(rows: list[dict[str, Any]], row: dict[str, Any]) -> float:
    """The population size, recovered from a row (cards / cards per 100)."""
    per_100 = row["cards_per_100_patients"]
    return 100.0 * row["cards"] / per_100 if per_100 else 1.0


def unmapped_plot(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    shown = rows[:MAX_BARS][::-1]
    figure, axes = _figure(len(shown))
    axes.barh(
        [f"{r['code'] or '(no code)'} {r['display'][:40]}" for r in shown], [r["patients"] for r in shown]
    )
    axes.set_xlabel("patients a mapping would change")
    return _svg(figure)


def data_quality_plot(rows: list[dict[str, Any]]) -> str:
    figure, axes = _figure(len(rows))
    axes.barh([r["kind"] for r in rows][::-1], [r["patients"] for r in rows][::-1], color="#6a1b9a")
    axes.set_xlabel("patients")
    return _svg(figure)
