"""The analytics plots, drawn on the server as SVG by matplotlib.

Server-side SVG needs no script and no network: the page works offline and under a Content-Security-Policy
that forbids scripts, and each plot is shipped next to a table of the same numbers for screen readers.
matplotlib is imported on first use, so a service that never serves the page never loads it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from cds_service.analytics.data import WeeklyCards, WeeklyRate
from cds_service.svg_figures import pyplot, svg_data_uri

WIDTH_IN, HEIGHT_IN = 9.0, 3.4


def override_rate_plot(rates: list[WeeklyRate], start: date, end: date) -> str:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    series: dict[str, list[WeeklyRate]] = defaultdict(list)
    for rate in rates:
        series[rate.rule_id].append(rate)
    for rule, points in sorted(series.items()):
        axes.plot([p.week for p in points], [100 * p.rate for p in points], marker="o", label=rule)
    axes.set_ylim(0, 100)
    axes.set_xlim(start, end)
    axes.set_ylabel("overridden (% of answered cards)")
    axes.set_title("Override rate per rule, by week")
    if series:
        axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.autofmt_xdate()
    return svg_data_uri(figure)


def cards_per_call_plot(weeks: list[WeeklyCards], start: date, end: date) -> str:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    axes.bar([w.week for w in weeks], [w.per_call for w in weeks], width=5)
    axes.set_ylabel("cards per call")
    axes.set_xlim(start - timedelta(days=4), end + timedelta(days=4))  # a week's bar is centred on Monday
    axes.set_title("Cards per hook call that returned cards, by week")
    figure.autofmt_xdate()
    return svg_data_uri(figure)


def reasons_plot(reasons: list[tuple[str, int]]) -> str:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(WIDTH_IN, max(1.6, 0.45 * len(reasons) + 1)))
    names = [name for name, _ in reversed(reasons)]
    axes.barh(names, [count for _, count in reversed(reasons)])
    axes.set_xlabel("overrides")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Override reasons")
    return svg_data_uri(figure)
