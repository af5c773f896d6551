"""`bonemet-cds population`: the files a health IT team reads, from a generated export."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cds_service.cli import main
from cds_service.population.patient_result import PatientResult
from tests.population.conftest import MALFORMED, PATIENTS


@pytest.fixture(scope="module")
def outputs(
    export: tuple[Path, dict[str, Any]], as_of: date, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("report")
    code = main(
        ["population", str(export[0]), "--as-of", as_of.isoformat(), "--out", str(out), "--workers", "2"]
    )
    assert code == 0
    return out


def test_summary_counts_every_patient_and_every_malformed_line(outputs: Path) -> None:
    summary = json.loads((outputs / "summary.json").read_text())
    assert summary["totals"]["patients"] == PATIENTS
    assert summary["totals"]["patients_with_an_error"] == 0
    assert summary["input"]["malformed_lines"] == MALFORMED
    assert len(summary["input"]["malformed_examples"]) == MALFORMED
    assert summary["run"]["engine"] == "local"
    assert {r["rule_id"] for r in summary["rules"]} >= {"BMA-INITIATION", "UNMAPPED-CODES", "DATA-QUALITY"}
    assert summary["unmapped_codes"][0]["patients"] >= summary["unmapped_codes"][-1]["patients"]
    kinds = {r["kind"]: r["patients"] for r in summary["data_quality_by_kind"]}
    assert kinds["unit_conflict"] > 0 and kinds["no_patient_resource"] >= 0


def test_patient_tables_agree_with_the_engine(
    outputs: Path, local_run: tuple[dict[str, PatientResult], dict[str, Any]]
) -> None:
    results, _ = local_run
    with (outputs / "patients.csv").open(encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(results)
    for patient_id, result in results.items():
        assert rows[patient_id]["patient_view_rules"].split() == list(result.rules("patient-view"))
        assert int(rows[patient_id]["cards"]) == len(result.cards)
    table = pq.read_table(outputs / "patients.parquet").to_pylist()
    assert {r["patient_id"]: r["cards"] for r in table} == {p: int(r["cards"]) for p, r in rows.items()}


def test_the_html_report_opens_with_no_internet_and_no_script(outputs: Path) -> None:
    page = (outputs / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 3
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page)
    assert "@import" not in page and "url(http" not in page
    assert f"{MALFORMED} malformed lines were skipped" in page
    assert "肺腺癌" in page or "Adenocarcinoma of lung" in page


def test_unmapped_codes_csv_is_ready_for_the_code_sets(outputs: Path) -> None:
    with (outputs / "unmapped_codes.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["system", "code", "display", "concept", "resources", "patients"]
    assert {r["system"] for r in rows} == {"urn:oid:1.2.156.112606.1.2.1.99"}


def test_a_missing_export_directory_is_an_error_not_an_empty_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["population", str(tmp_path / "nowhere"), "--as-of", "2026-01-01", "--out", str(tmp_path / "out")]
    )
    assert code == 1
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
