"""Time-series plots drawn on the server as SVG by matplotlib (as `cds_service.analytics` does).

Why server-side SVG in an `<img>`: it needs no script and no network, so the page works under a CSP that
forbids scripts, offline and inside an EHR iframe. matplotlib writes its styling as `style` attributes,
which a strict `style-src` blocks in inline `<svg>` markup; an SVG image is its own document, so only
`img-src data:` is needed. Text stays text (`svg.fonttype none`). Each data point and each dose mark
carries an SVG id (`<series>-points`, `bma-dose-<series>-<n>`), so a test can count what the plot
holds; the same numbers follow each plot in a table for screen readers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cds_service.smart_app.series import Dose, Series
from cds_service.svg_figures import pyplot, svg_data_uri

WIDTH_IN, PANEL_HEIGHT_IN = 9.4, 2.6
LIMIT_STYLE = {"color": "#b45309", "linestyle": "--", "linewidth": 1}
DOSE_COLOUR = "#7c3aed"


def time_plot(panels: list[Series], doses: tuple[Dose, ...]) -> str:
    """One panel per series, sharing the time axis, each BMA dose a vertical line on every panel (the
    page's heading names the plot, so the image carries no title of its own)."""
    plt = pyplot()
    figure, axes_list = plt.subplots(
        len(panels), 1, figsize=(WIDTH_IN, PANEL_HEIGHT_IN * len(panels)), sharex=True, squeeze=False
    )
    start, end = _span(panels, doses)
    for axes, series in zip((row[0] for row in axes_list), panels, strict=True):
        _panel(axes, series, doses)
        axes.set_xlim(start, end)
    figure.autofmt_xdate()
    return svg_data_uri(figure)


def _panel(axes: Any, series: Series, doses: tuple[Dose, ...]) -> None:
    days = [p.day for p in series.points]
    values = [p.value for p in series.points]
    if series.points:
        axes.plot(days, values, color="#1d4ed8", linewidth=1.2, gid=f"{series.name}-line")
        axes.plot(days, values, linestyle="none", marker="o", color="#1d4ed8", gid=f"{series.name}-points")
    for label, value in series.limits:
        axes.axhline(value, **LIMIT_STYLE, gid=f"{series.name}-limit")
        axes.annotate(
            f"{label} {value:g}",
            (1.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 2),
            textcoords="offset points",
            ha="right",
            fontsize="x-small",
            color=LIMIT_STYLE["color"],
        )
    for number, dose in enumerate(doses):
        axes.axvline(
            dose.day, color=DOSE_COLOUR, alpha=0.45, linewidth=1, gid=f"bma-dose-{series.name}-{number}"
        )
    _pad_y(axes, values + [value for _label, value in series.limits])
    axes.set_ylabel(f"{_names(series.name)} ({series.unit})", fontsize="small")
    axes.grid(axis="y", color="#e5e7eb")
    if not series.points:
        axes.text(0.5, 0.5, "no results on record", transform=axes.transAxes, ha="center", color="#6b7280")


def _pad_y(axes: Any, values: list[float]) -> None:
    """Every point and limit inside the panel, with room above the top limit for its label."""
    if not values:
        return
    low, high = min(values), max(values)
    pad = max((high - low) * 0.12, abs(high) * 0.05, 0.1)
    axes.set_ylim(low - pad, high + pad)


def _names(name: str) -> str:
    return {"calcium": "Calcium", "creatinine": "Creatinine", "crcl": "CrCl", "alp": "ALP"}.get(name, name)


def _span(panels: list[Series], doses: tuple[Dose, ...]) -> tuple[date, date]:
    days = [p.day for s in panels for p in s.points] + [d.day for d in doses]
    if not days:
        today = date.today()
        return today - timedelta(days=30), today + timedelta(days=1)
    first, last = min(days), max(days)
    margin = max(timedelta(days=3), (last - first) / 20)
    return first - margin, last + margin
