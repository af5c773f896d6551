"""The population section of `make bench`: the silent run over 1,000 and 10,000 synthetic patients.

For each size, a generated export (`cds_service.population.generator`: the documented mix, 3 files per
resource type, 10 malformed lines) goes through `bonemet-cds population` in a child process, once per
engine: wall time (the whole command, start-up, partition and report included), the peak of the summed
resident memory of the process tree (sampled every 0.1 s: the command and its worker processes, or the
driver, JVM and Python workers for Spark: `bench.population_spark`), patients per second per core, and
how the time grows from 1,000 to 10,000 patients (10x the patients: a ratio near 10 is linear).

    python -m bench.population [--sizes 1000 10000] [--engines local spark]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import population_spark
from bench.processes import REPO, rss_mib
from cds_service.population.generator import generate

SIZES = (1000, 10000)
SAMPLE_EVERY_S = 0.1
MALFORMED_LINES = 10


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None


def measure(sizes: tuple[int, ...] = SIZES, engines: tuple[str, ...] = ("local", "spark")) -> dict[str, Any]:
    as_of = datetime.now(UTC).date()
    cores = os.cpu_count() or 1
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-population-") as tmp:
        for size in sizes:
            export = Path(tmp) / f"export-{size}"
            manifest = generate(
                size, export, seed=7, split_files=3, malformed_lines=MALFORMED_LINES, as_of=as_of
            )
            export_mib = sum(p.stat().st_size for p in export.glob("*.ndjson")) / 2**20
            for engine in engines:
                if engine == "spark" and not spark_available():
                    runs.append({"engine": "spark", "patients": size, "skipped": "pyspark or java missing"})
                    continue
                run = (
                    _local(export, as_of, cores, Path(tmp))
                    if engine == "local"
                    else population_spark.measure(export, as_of, cores)
                )
                run.update({"patients": size, "export_mib": round(export_mib, 1), "mix": manifest["mix"]})
                runs.append(run)
    return {"cores": cores, "runs": runs, "growth": _growth(runs)}


def _local(export: Path, as_of: date, cores: int, tmp: Path) -> dict[str, Any]:
    out = tmp / f"report-{export.name}"
    command = [
        sys.executable,
        "-m",
        "cds_service.cli",
        "population",
        str(export),
        "--as-of",
        as_of.isoformat(),
        "--out",
        str(out),
        "--workers",
        str(cores),
        "--quiet",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, sum(_rss(pid) for pid in population_spark._tree(process.pid)))
        time.sleep(SAMPLE_EVERY_S)
    wall = time.perf_counter() - began
    if process.returncode != 0:
        error = process.stderr.read().decode()[-2000:] if process.stderr else ""
        raise RuntimeError(f"bonemet-cds population exited with {process.returncode}: {error}")
    summary = json.loads((out / "summary.json").read_text())
    patients = summary["totals"]["patients"]
    return {
        "engine": "local",
        "cores": cores,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(peak, 1),
        "patients_per_s_per_core": round(patients / wall / cores, 1),
        "errors": summary["totals"]["patients_with_an_error"],
        "malformed_lines": summary["input"]["malformed_lines"],
        "cards_per_100_patients": sum(s["cards_per_100_patients"] for s in summary["services"]),
    }


def _rss(pid: int) -> float:
    try:
        return rss_mib(pid)
    except OSError:  # the process ended between listing and reading
        return 0.0


def _growth(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Wall time at the largest size over wall time at the smallest, per engine."""
    found = {}
    for engine in ("local", "spark"):
        timed = sorted((r["patients"], r["wall_s"]) for r in runs if r["engine"] == engine and "wall_s" in r)
        if len(timed) >= 2 and timed[0][1] > 0:
            found[engine] = round(timed[-1][1] / timed[0][1], 2)
    return found


def print_table(results: dict[str, Any]) -> None:
    print(f"Population run (silent run over a synthetic Bulk Data export), {results['cores']} cores\n")
    print("| engine | patients | export MiB | wall s | peak RSS MiB | patients/s/core |")
    print("|---|---|---|---|---|---|")
    for run in results["runs"]:
        if "skipped" in run:
            print(f"| {run['engine']} | {run['patients']} | | skipped: {run['skipped']} | | |")
            continue
        print(
            f"| {run['engine']} | {run['patients']} | {run['export_mib']} | {run['wall_s']} | "
            f"{run['peak_rss_mib']} | {run['patients_per_s_per_core']} |"
        )
    for engine, ratio in results["growth"].items():
        print(f"\n{engine}: wall time x{ratio} from the smallest to the largest size")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--engines", nargs="+", choices=("local", "spark"), default=["local", "spark"])
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results = measure(tuple(args.sizes), tuple(args.engines))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
