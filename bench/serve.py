"""Serve the benchmark's app (production app + floor) with the production server module.

    .venv/bin/python -m bench.serve --port 8765 --database-url sqlite:////tmp/x.sqlite3

Same gunicorn configuration as `bonemet-cds serve` (`cds_service.server.serve`): preloaded app, 2 workers,
4 threads each by default, the buffering gthread worker with its default read deadlines. Authentication
is off: the benchmark measures the clinical path, and JWT verification (~0.05-0.6 ms a call,
shared/LIBRARIES.md) is measured by the auth tests.
"""

from __future__ import annotations

import argparse

from bench.floor import bench_app
from cds_service.server import serve
from cds_service.settings import Settings


def bench_settings(database_url: str, fhir_allowed_hosts: str = "") -> Settings:
    """Settings as the production server reads them from the environment, with auth off."""
    return Settings.from_env(
        {
            "BONEMET_AUTH": "off",
            "BONEMET_DATABASE_URL": database_url,
            "BONEMET_FHIR_ALLOWED_HOSTS": fhir_allowed_hosts,
            "BONEMET_LOG_LEVEL": "WARNING",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--fhir-allowed-hosts", default="")
    args = parser.parse_args()
    settings = bench_settings(args.database_url, args.fhir_allowed_hosts)
    serve("127.0.0.1", args.port, args.workers, args.threads, lambda: bench_app(settings))


if __name__ == "__main__":
    main()
