"""`python -m cds_service.demo` (what `make run` starts): a local FHIR server with the demo patients and
the service beside it, ready for the CDS Hooks sandbox.

The service is the production server (`bonemet-cds serve`, `cds_service.demo_server`), with its read
deadlines for slow clients, so testers try what a hospital runs.

Everything stays on 127.0.0.1. Authentication is OFF unless the tester sets BONEMET_AUTH=jwt, so the
sandbox can call without a JWT: this is for synthetic patients on a tester's machine only, and the banner
says which it is.
Ctrl-C or SIGTERM (docker stop, systemd, a terminal closing) stops the service and then the FHIR server.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from cds_service.cli_tools import CommandError, post_transaction
from cds_service.demo_catalog import demo_bundles, shared_bundles
from cds_service.demo_server import DemoServerError, ServiceProcess
from cds_service.errors import ConfigurationError
from cds_service.local_fhir_server import LocalFhirServer, LocalFhirServerError
from cds_service.settings import Settings

VAR_DIR = Path(__file__).resolve().parent.parent / "var"
BANNER_RULE = "=" * 78


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    taken = taken_ports(
        args.host, {"the service (PORT)": args.port, "the FHIR server (FHIR_PORT)": args.fhir_port}
    )
    if taken:
        print(f"bonemet-cds demo: {taken}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        with LocalFhirServer(port=args.fhir_port) as fhir_url:
            _serve(args, fhir_url)
    except KeyboardInterrupt:
        # Ctrl-C reaches both processes; leaving the `with` block has stopped the FHIR server.
        print("\nstopped the service and the FHIR server", file=sys.stderr)
    except (LocalFhirServerError, CommandError, ConfigurationError, DemoServerError, OSError) as exc:
        print(f"bonemet-cds demo: {exc}", file=sys.stderr)
        return 1
    return 0


def taken_ports(host: str, ports: dict[str, int]) -> str:
    """Say which port is taken, and how to pick others, before Node prints a stack trace about it."""
    busy = []
    for role, port in ports.items():
        if port == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                busy.append(f"port {port} for {role} is taken")
    if not busy:
        return ""
    return "; ".join(busy) + ". Choose free ports, e.g. `make run PORT=8090 FHIR_PORT=8091`."


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM would end the process at once and leave the Node FHIR server running; raised as Ctrl-C,
    it unwinds through the `with LocalFhirServer()` block, which stops the server."""
    raise KeyboardInterrupt


def _serve(args: argparse.Namespace, fhir_url: str) -> None:
    """Load the patients, start the service with the demo settings, print the banner, wait for Ctrl-C."""
    loaded = _load_patients(fhir_url)
    env = demo_environment(fhir_url)
    settings = Settings.from_env(env)  # a bad setting is reported here, before any server starts
    with ServiceProcess(args.host, args.port, env) as service:
        text = banner(
            service.url, fhir_url, loaded, auth_on=settings.auth_enabled, allowed=settings.fhir_allowed_hosts
        )
        print(text, flush=True)
        status = service.wait()  # returns only if the service fails; Ctrl-C raises KeyboardInterrupt
        raise DemoServerError(f"the service stopped with status {status}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cds_service.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only by design; default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="port of the service (0: any)")
    parser.add_argument("--fhir-port", type=int, default=8081, help="port of the local FHIR server (0: any)")
    return parser


def _load_patients(fhir_url: str) -> list[str]:
    for _name, bundle in shared_bundles():
        post_transaction(fhir_url.rstrip("/"), bundle)
    loaded = []
    for patient, bundle in demo_bundles():
        post_transaction(fhir_url.rstrip("/"), bundle)
        loaded.append(patient.id)
    return loaded


def demo_settings(fhir_url: str, environ: dict[str, str] | None = None) -> Settings:
    """The embedded defaults of the demo: auth off, SQLite in var/, the local FHIR server allowed.

    Variables the tester set explicitly win, except that the local FHIR server is always allowed.
    """
    return Settings.from_env(demo_environment(fhir_url, environ))


def demo_environment(fhir_url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the demo's service runs with (`demo_settings` reads the same)."""
    env = dict(os.environ if environ is None else environ)
    VAR_DIR.mkdir(exist_ok=True)
    env.setdefault("BONEMET_AUTH", "off")
    env.setdefault("BONEMET_DATABASE_URL", f"sqlite:///{VAR_DIR / 'bonemet-demo.sqlite3'}")
    parts = urlsplit(fhir_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    allowed = [h for h in env.get("BONEMET_FHIR_ALLOWED_HOSTS", "").split(",") if h.strip()]
    env["BONEMET_FHIR_ALLOWED_HOSTS"] = ",".join([*allowed, origin])
    return env


def banner(
    service_url: str, fhir_url: str, patient_ids: list[str], *, auth_on: bool, allowed: str = ""
) -> str:
    """What to paste into the sandbox, and whether calls need a JWT: a wrong word here costs a tester an
    hour of 401s (or, worse, a site believing its demo is protected). The FHIR hosts the service may read
    are shown because a SMART launcher in front of the FHIR server is another host to allow."""
    auth = (
        "authentication is ON: every hook call needs a JWT from a trusted issuer (BONEMET_TRUSTED_ISSUERS)"
        if auth_on
        else "authentication is OFF"
    )
    lines = [
        BANNER_RULE,
        f"bonemet-cds demo is running (synthetic patients only; {auth})",
        "",
        f"  Preview page:        {service_url}/",
        f"  CDS discovery URL:   {service_url}/cds-services",
        f"  FHIR server (R4):    {fhir_url}",
        f"  FHIR hosts allowed:  {allowed or fhir_url}",
        "    (add a SMART launcher's with BONEMET_FHIR_ALLOWED_HOSTS=http://127.0.0.1:9090 make run)",
        "",
        "  Demo patient IDs (the sandbox's patientId parameter, or type one in its Change Patient list):",
        *[f"    {patient_id}" for patient_id in patient_ids],
        "",
        "  Step by step: docs/testers.md. Expected cards: docs/demo-patients.md.",
        "  Press Ctrl-C to stop the service and the FHIR server.",
        BANNER_RULE,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
