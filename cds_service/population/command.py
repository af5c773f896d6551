"""`bonemet-cds population NDJSON_DIR --as-of DATE --out DIR [--engine local|spark] [--workers N]`."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ENGINES = ("local", "spark")


def add_population_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "population",
        help="silent run over a FHIR Bulk Data (NDJSON) export: cards per rule, unmapped codes, data quality",
    )
    parser.add_argument(
        "export",
        type=_export_location,
        metavar="NDJSON_DIR",
        help="the export directory; with --engine spark also any URI Spark reads (hdfs://, s3a://...)",
    )
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="evaluate as of YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, help="directory for the report and tables")
    parser.add_argument("--engine", choices=ENGINES, default="local")
    parser.add_argument(
        "--workers", type=int, help="worker processes (local) or local[N] cores (spark); default: every core"
    )
    parser.add_argument(
        "--spark-master",
        help="Spark master URL for --engine spark (default: the spark-submit session, else local[--workers])",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="where the local engine puts its bucket files (default: a temporary dir)",
    )
    parser.add_argument("--site-dir", type=Path, help="site code sets and thresholds (BONEMET_SITE_DIR)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run_population)


def run_population(args: argparse.Namespace) -> int:
    from cds_service.population.local_engine import WorkerDied

    try:
        return _run_population(args)
    except WorkerDied as exc:
        print(f"bonemet-cds population: {exc}", file=sys.stderr)
        return 1


def _run_population(args: argparse.Namespace) -> int:
    from cds_service.population.report import write_outputs

    if isinstance(args.export, str) and args.engine != "spark":
        print(f"bonemet-cds population: {args.export}: the local engine reads a directory", file=sys.stderr)
        return 1
    if isinstance(args.export, Path) and not args.export.is_dir():
        print(f"bonemet-cds population: {args.export}: not a directory", file=sys.stderr)
        return 1
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bonemet-population-", dir=args.work_dir) as work:
        run = _engine_run(args, Path(work))
        meta = {
            "as_of": args.as_of.isoformat(),
            "export": str(args.export),
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        document = write_outputs(args.out, run, meta)
    seconds = time.monotonic() - began
    document["run"]["seconds"] = round(seconds, 2)
    totals, source = document["totals"], document["input"]
    print(
        f"population: {totals['patients']} patients ({totals['patients_with_an_error']} with an error), "
        f"{source['malformed_lines']} malformed lines, {seconds:.1f} s; report: {args.out / 'report.html'}",
        file=sys.stderr,
    )
    return 0


def _export_location(text: str) -> Path | str:
    """A URI stays a string (`Path` would fold `hdfs://` into `hdfs:/`); anything else is a local path."""
    return text if "://" in text else Path(text)


def _engine_run(args: argparse.Namespace, work: Path):  # noqa: ANN202 - EngineRun, imported lazily
    if args.engine == "spark":
        from cds_service.population import spark_engine

        return spark_engine.run(
            args.export,
            args.as_of,
            workers=args.workers,
            work_dir=work,
            progress=not args.quiet,
            site_dir=args.site_dir,
            master=args.spark_master,
        )
    from cds_service.population import local_engine

    return local_engine.run(
        args.export,
        args.as_of,
        workers=args.workers,
        work_dir=work,
        progress=not args.quiet,
        site_dir=args.site_dir,
    )
