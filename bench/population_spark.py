"""The Spark engine's numbers for the population section: wall time, peak memory, patients per second per
core.

The run is a child process (`python -m bench.population_spark --run EXPORT ...`) so its memory can be read
as a whole: the peak of the summed resident memory of the process tree (driver Python, the JVM, Spark's
Python workers), sampled every 0.1 s from /proc. Two wall times: the whole process (JVM start-up
included, what a user waits for) and the engine alone (from `spark_engine.run` to the last result).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.processes import REPO, rss_mib

SAMPLE_EVERY_S = 0.1


def measure(export_dir: Path, as_of: date, cores: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as work:
        command = [
            sys.executable,
            "-m",
            "bench.population_spark",
            "--run",
            str(export_dir),
            "--as-of",
            as_of.isoformat(),
            "--cores",
            str(cores),
            "--work",
            work,
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE)  # noqa: S603
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, sum(rss_mib(pid) for pid in _tree(process.pid)))
            time.sleep(SAMPLE_EVERY_S)
        wall = time.perf_counter() - began
        out = process.stdout.read() if process.stdout else b""
        if process.returncode != 0:
            raise RuntimeError(f"the Spark run exited with {process.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result.update(
        {
            "engine": "spark",
            "cores": cores,
            "wall_s": round(wall, 1),
            "peak_rss_mib": round(peak, 1),
            "patients_per_s_per_core": round(result["patients"] / result["engine_s"] / cores, 1),
        }
    )
    return result


def _tree(root: int) -> list[int]:
    """`root` and every descendant (the JVM is the driver's child, the Python workers the JVM's)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _run(export_dir: Path, as_of: date, cores: int, work: Path) -> None:
    """In the child: the engine over the export, the results summarised as the report would."""
    from cds_service.population import spark_engine
    from cds_service.population.aggregate import summarize

    began = time.perf_counter()
    engine = spark_engine.run(
        export_dir, as_of, workers=cores, work_dir=work, progress=False, master=f"local[{cores}]"
    )
    summary = summarize(engine.results)
    engine_s = time.perf_counter() - began
    stats = engine.input_stats()
    print(
        json.dumps(
            {
                "patients": summary.patients,
                "errors": summary.errors,
                "resources": stats["resources"],
                "malformed_lines": stats["malformed_lines"],
                "engine_s": round(engine_s, 1),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, required=True, help="export directory")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, help="scratch directory: run the engine in this process")
    args = parser.parse_args(argv)
    if args.work is not None:
        _run(args.run, args.as_of, args.cores, args.work)
    else:
        print(json.dumps(measure(args.run, args.as_of, args.cores), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
