"""The population run's outputs, written as the results stream in (nothing per patient is kept).

- `patients.csv` and `patients.parquet`: one row per patient (rules by service, indicators, errors), for
  the care team;
- `rules.csv`, `services.csv`, `unmapped_codes.csv` (ready to paste into the site code sets),
  `data_quality.csv`, and everything in `summary.json`;
- `report.html`: the tables and SVG plots inline, no script, no link outside the file, so it opens
  anywhere with no internet.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from cds_service.population.aggregate import INDICATORS, Summary, tables
from cds_service.population.engine import EngineRun
from cds_service.population.patient_result import ORDER_SIGN, PATIENT_VIEW, PatientResult

PATIENT_COLUMNS = [
    "patient_id",
    "patient_view_rules",
    "order_sign_rules",
    "cards",
    "critical",
    "warning",
    "info",
    "active_bma_orders_signed",
    "unmapped_codes",
    "data_findings",
    "error",
]
PARQUET_BATCH = 2000


def patient_row(result: PatientResult) -> dict[str, Any]:
    indicators = [card.indicator for card in result.cards]
    return {
        "patient_id": result.patient_id,
        "patient_view_rules": " ".join(result.rules(PATIENT_VIEW)),
        "order_sign_rules": " ".join(result.rules(ORDER_SIGN)),
        "cards": len(result.cards),
        **{indicator: indicators.count(indicator) for indicator in INDICATORS},
        "active_bma_orders_signed": result.orders_signed,
        "unmapped_codes": " ".join(sorted({f"{u.system}|{u.code}" for u in result.unmapped})),
        "data_findings": " ".join(sorted({d.kind for d in result.data_findings})),
        "error": result.error or "",
    }


class _PatientTables:
    """patients.csv and patients.parquet, appended batch by batch."""

    def __init__(self, out: Path) -> None:
        self.csv_file = (out / "patients.csv").open("w", newline="", encoding="utf-8")
        self.csv = csv.DictWriter(self.csv_file, PATIENT_COLUMNS)
        self.csv.writeheader()
        self.schema = pa.schema(
            [(name, pa.int64() if name in _INT_COLUMNS else pa.string()) for name in PATIENT_COLUMNS]
        )
        self.parquet = pq.ParquetWriter(out / "patients.parquet", self.schema)
        self.batch: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.csv.writerow(row)
        self.batch.append(row)
        if len(self.batch) >= PARQUET_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.parquet.write_table(pa.Table.from_pylist(self.batch, schema=self.schema))
            self.batch = []

    def close(self) -> None:
        self.flush()
        self.parquet.close()
        self.csv_file.close()


_INT_COLUMNS = {"cards", *INDICATORS, "active_bma_orders_signed"}


def write_outputs(
    out: Path, run: EngineRun, meta: dict[str, Any], results: Iterable[PatientResult] | None = None
) -> dict[str, Any]:
    """Consume the engine's results, write every output under `out`; returns the summary (summary.json)."""
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    patients = _PatientTables(out)
    try:
        for result in run.results if results is None else results:
            summary.add(result)
            patients.add(patient_row(result))
    finally:
        patients.close()
    document = {
        "run": {**meta, "engine": run.engine, "workers": run.workers},
        "input": run.input_stats(),
        **tables(summary),
    }
    (out / "summary.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    for name in ("services", "rules", "unmapped_codes", "data_quality"):
        _write_csv(out / f"{name}.csv", document[name])
    (out / "report.html").write_text(render_html(document), encoding="utf-8")
    return document


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if rows:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


# --- HTML --------------------------------------------------------------------------------------------


def render_html(document: dict[str, Any]) -> str:
    from cds_service.population.plots import data_quality_plot, rules_plot, unmapped_plot

    run, totals, source = document["run"], document["totals"], document["input"]
    out = io.StringIO()
    out.write(_HEAD)
    out.write(f"<h1>Silent population run, as of {_e(run.get('as_of', ''))}</h1>\n")
    out.write(
        f"<p>{totals['patients']} patients, {totals['resources']} resources, engine {_e(run['engine'])} "
        f"({run['workers']} workers). Patient-view on every chart; order-sign on the "
        f"{totals['patients_with_active_bma_orders']} patients with an active bone-modifying-agent "
        "order.</p>\n"
    )
    _warnings(out, totals, source)
    out.write("<h2>Cards by rule</h2>\n")
    out.write(rules_plot(document["rules"]))
    _table(out, document["services"])
    _table(out, document["rules"])
    out.write("<h2>Unmapped codes</h2>\n<p>Sorted by how many patients a mapping would change.</p>\n")
    out.write(unmapped_plot(document["unmapped_codes"]))
    _table(out, document["unmapped_codes"])
    out.write("<h2>Data quality</h2>\n")
    out.write(data_quality_plot(document["data_quality_by_kind"]))
    _table(out, document["data_quality_by_kind"])
    _table(out, document["data_quality"])
    out.write("<h2>Input</h2>\n")
    _table(out, [{"what": k, "value": v} for k, v in source.items() if not isinstance(v, list | dict)])
    out.write("</body></html>\n")
    return out.getvalue()


def _warnings(out: TextIO, totals: dict[str, Any], source: dict[str, Any]) -> None:
    """Said first: a run that skipped lines or failed on patients must not read as a clean run."""
    notes = []
    if source.get("malformed_lines"):
        notes.append(
            f"{source['malformed_lines']} malformed lines were skipped (summary.json lists the first)."
        )
    if totals["patients_with_an_error"]:
        notes.append(f"{totals['patients_with_an_error']} patients could not be evaluated (column error).")
    unattributed = sum((source.get("resources_without_a_patient") or {}).values())
    if unattributed:
        notes.append(f"{unattributed} resources named no patient and were not read.")
    for note in notes:
        out.write(f'<p class="warn">{_e(note)}</p>\n')


def _table(out: TextIO, rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.write("<p>None.</p>\n")
        return
    out.write("<table><tr>" + "".join(f"<th>{_e(k)}</th>" for k in rows[0]) + "</tr>\n")
    for row in rows:
        out.write("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row.values()) + "</tr>\n")
    out.write("</table>\n")


def _e(value: Any) -> str:
    return html.escape(str(value))


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>bonemet-cds population run</title>
<style>
body { font-family: sans-serif; margin: 2em; max-width: 80em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 90%; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; }
.warn { background: #fff3cd; padding: 0.5em; border-left: 4px solid #b58100; }
svg { max-width: 100%; height: auto; }
</style></head><body>
"""
