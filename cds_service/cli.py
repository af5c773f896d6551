"""`bonemet-cds`: the command line of the service (serve, load-demo, evaluate, report, population)."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cds_service.errors import ConfigurationError


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        _prepare_metrics_directory()  # before anything imports prometheus_client (the parser does)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConfigurationError as exc:
        print(f"bonemet-cds: configuration error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bonemet-cds", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the production server (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker (requests are read whole before a thread gets them)",
    )
    serve.set_defaults(run=_serve)
    _add_extra_commands(commands)
    from cds_service.report_command import add_report_command  # after main() chose the metrics store

    add_report_command(commands)
    from cds_service.population.command import add_population_command  # imports nothing heavy

    add_population_command(commands)
    return parser


def _add_extra_commands(commands: argparse._SubParsersAction) -> None:
    try:
        from cds_service.cli_tools import add_commands
    except ImportError:
        return
    add_commands(commands)


def _serve(args: argparse.Namespace) -> int:
    from cds_service.app import create_app
    from cds_service.server import read_limits, serve
    from cds_service.settings import Settings

    settings = Settings.from_env()

    def factory():
        return create_app(settings)

    serve(args.host, args.port, args.workers, args.threads, factory, read_limits(settings))
    return 0


def _prepare_metrics_directory() -> None:
    """Several gunicorn workers share their Prometheus values through files in PROMETHEUS_MULTIPROC_DIR
    (`cds_service.metrics`). It must be set before prometheus_client is first imported (it picks its
    value store then), and hold no file of an earlier run, whose counts would be added to this one's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bonemet-metrics-")
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink()


if __name__ == "__main__":
    raise SystemExit(main())
