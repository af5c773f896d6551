"""`bonemet-cds load-demo` and `bonemet-cds evaluate`: the tester's commands.

`load-demo` puts the demo patients on a FHIR server (one transaction of PUTs per patient, so running it
twice changes nothing). `evaluate` runs a hook offline, through the same `evaluate_hook_call` the HTTP
route uses, on hook request files or patient Bundles, so a health IT team can check what the EHR would get
without an EHR.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import requests

from cds_service.demo_catalog import demo_bundles, patient_id_of, patient_view_request, shared_bundles
from cds_service.errors import ServiceError

HOOKS = ("patient-view", "order-select", "order-sign")


class CommandError(Exception):
    """A problem the user can fix (bad file, unreachable server); printed without a traceback."""


def add_commands(commands: argparse._SubParsersAction) -> None:
    load = commands.add_parser("load-demo", help="load the demo patients into a FHIR R4 server")
    load.add_argument(
        "--fhir-server", required=True, help="FHIR base URL, e.g. http://127.0.0.1:8081/fhir/R4"
    )
    load.add_argument("--token", help="bearer token for the FHIR server (never printed)")
    load.add_argument("--timeout", type=float, default=30.0, help="seconds per transaction")
    load.set_defaults(run=_guarded(_load_demo))
    evaluate = commands.add_parser("evaluate", help="run a hook offline on hook requests or patient Bundles")
    evaluate.add_argument("--hook", choices=HOOKS, default="patient-view")
    evaluate.add_argument("--json", action="store_true", help="print the CDS Hooks responses as JSON")
    evaluate.add_argument(
        "--now", type=date.fromisoformat, help="evaluate as of this date (YYYY-MM-DD); default: today"
    )
    evaluate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    evaluate.set_defaults(run=_guarded(_evaluate))


def _guarded(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(command(args))
        except CommandError as exc:
            print(f"bonemet-cds {args.command}: {exc}", file=sys.stderr)
            return 1

    return run


# --- load-demo ---------------------------------------------------------------------------------------


def _load_demo(args: argparse.Namespace) -> int:
    base = args.fhir_server.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise CommandError(f"--fhir-server must be an http(s) URL (got {base!r})")
    bundles = demo_bundles()
    began = time.monotonic()
    for name, bundle in shared_bundles():
        created, updated = post_transaction(base, bundle, token=args.token, timeout=args.timeout)
        print(f"shared resources ({name}): {created} created, {updated} updated", flush=True)
    for number, (patient, bundle) in enumerate(bundles, 1):
        created, updated = post_transaction(base, bundle, token=args.token, timeout=args.timeout)
        print(f"[{number}/{len(bundles)}] {patient.id}: {created} created, {updated} updated", flush=True)
    print(f"loaded {len(bundles)} demo patients into {base} in {time.monotonic() - began:.1f} s")
    return 0


def post_transaction(
    base: str, bundle: dict[str, Any], *, token: str | None = None, timeout: float = 30.0
) -> tuple[int, int]:
    """POST one transaction Bundle of PUTs; returns (created, updated).

    Servers differ in what a PUT that creates answers (Medplum says 200, not 201), so which resources
    already existed is asked first, with one batch of reads.
    """
    session = requests.Session()
    session.trust_env = False  # proxy variables must not route demo data elsewhere
    session.headers.update({"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"})
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    urls = [entry["request"]["url"] for entry in bundle.get("entry") or []]
    try:
        reads = {"resourceType": "Bundle", "type": "batch", "entry": [_read(url) for url in urls]}
        existing = sum(status.startswith("200") for status in _statuses(session, base, reads, timeout))
        _statuses(session, base, bundle, timeout)
    finally:
        session.close()
    return len(urls) - existing, existing


def _read(url: str) -> dict[str, Any]:
    return {"request": {"method": "GET", "url": url}}


def _statuses(session: requests.Session, base: str, bundle: dict[str, Any], timeout: float) -> list[str]:
    try:
        response = session.post(base, json=bundle, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise CommandError(f"could not reach the FHIR server at {base}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise CommandError(f"the FHIR server answered {response.status_code}: {response.text[:300]}")
    try:
        entries = response.json().get("entry") or []
    except ValueError:
        raise CommandError(f"the FHIR server at {base} did not answer with JSON") from None
    return [str((entry.get("response") or {}).get("status", "")) for entry in entries]


# --- evaluate ----------------------------------------------------------------------------------------


def _evaluate(args: argparse.Namespace) -> int:
    from cds_service.pipeline import evaluate_hook_call

    now = datetime.combine(args.now, clock_time(12), UTC) if args.now else None
    results = []
    with _offline_runtime() as runtime:
        service = _service_for(runtime, args.hook)
        templates = service.prefetch(runtime.prefetch_templates)
        for number, path in enumerate(args.files, 1):
            if len(args.files) > 1:
                print(f"[{number}/{len(args.files)}] {path}", file=sys.stderr, flush=True)
            body = _hook_request(path, args.hook, templates)
            try:
                cards = evaluate_hook_call(
                    runtime, service, body, now=now, public_base_url=runtime.settings.public_url
                )
            except ServiceError as exc:
                raise CommandError(f"{path}: {exc.code}: {exc.message}") from None
            results.append({"file": str(path), "patientId": body["context"]["patientId"], "cards": cards})
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(readable_cards(result))
    return 0


@contextmanager
def _offline_runtime() -> Iterator[Any]:
    """A runtime with no FHIR access, no authentication and a throw-away database: offline only.

    BONEMET_PUBLIC_URL, when set, is the one setting read: an offline run has no request to take a URL
    from, so cards link to the SMART app only when the deployment's URL is given."""
    from cds_service.runtime import build_runtime
    from cds_service.settings import Settings

    public_url = (os.environ.get("BONEMET_PUBLIC_URL") or "").rstrip("/") or None
    if public_url and not public_url.startswith(("http://", "https://")):
        raise CommandError("BONEMET_PUBLIC_URL must start with http:// or https://")
    with tempfile.TemporaryDirectory(prefix="bonemet-evaluate-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'evaluate.sqlite3'}"
        settings = Settings(auth_mode="off", database_url=database_url, public_url=public_url)
        runtime = build_runtime(settings)
        try:
            yield runtime
        finally:
            runtime.store.engine.dispose()


def _service_for(runtime: Any, hook: str) -> Any:
    for service in runtime.services.values():
        if service.hook == hook:
            return service
    raise CommandError(f"no service answers the {hook} hook")


def _hook_request(path: Path, hook: str, templates: dict[str, str]) -> dict[str, Any]:
    """A hook request from a file: used as is, or built from a patient Bundle (patient-view only)."""
    from cds_service.draft_orders import check_draft_orders
    from cds_service.json_limits import exceeds_depth
    from cds_service.settings import Settings
    from cds_service.validation import validate_hook_request

    max_depth = Settings().max_json_depth
    document = _read_json(path)
    if document.get("resourceType") == "Bundle":
        if hook != "patient-view":
            raise CommandError(f"{path}: a patient Bundle has no draft orders; give a {hook} hook request")
        patient_id = patient_id_of(document)
        if patient_id is None:
            raise CommandError(f"{path}: the Bundle must hold exactly one Patient with an id")
        document = patient_view_request(document, patient_id, templates)
    elif "hook" not in document or "context" not in document:
        raise CommandError(f"{path}: neither a hook request (hook, context) nor a FHIR Bundle")
    if document.get("hook") != hook:
        raise CommandError(f"{path}: is a {document.get('hook')!r} request, not {hook}")
    if exceeds_depth(document, max_depth):
        raise CommandError(f"{path}: nested deeper than {max_depth} levels (BONEMET_MAX_JSON_DEPTH)")
    try:
        validate_hook_request(document, hook)
        check_draft_orders(document)  # as the HTTP route does: offline answers are the EHR's answers
    except ServiceError as exc:
        raise CommandError(f"{path}: not a valid {hook} request: {exc.message}") from None
    return document


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(document, dict):
        raise CommandError(f"{path}: the JSON must be an object")
    return document


def readable_cards(result: dict[str, Any]) -> str:
    """Cards as a clinician-readable block: indicator, rule ID, summary, then the evidence rows."""
    cards = result["cards"]
    lines = [f"{result['file']} (patient {result['patientId']}): {len(cards)} card(s)"]
    for card in cards:
        rule = ((card.get("source") or {}).get("topic") or {}).get("code", "?")
        lines.append(f"  [{card.get('indicator', '?'):8}] {rule}: {card.get('summary', '')}")
        lines.extend(f"      {row}" for row in _evidence_rows(card.get("detail") or ""))
        for suggestion in card.get("suggestions") or []:
            mark = " (recommended)" if suggestion.get("isRecommended") else ""
            lines.append(f"      suggestion: {suggestion.get('label', '')}{mark}")
    return "\n".join(lines) + "\n"


def _evidence_rows(detail: str) -> list[str]:
    """The rows of the card's evidence table (the one table of a card's detail), without the pipes."""
    rows: list[str] = []
    for line in detail.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not all(set(cell) <= set("-: ") for cell in cells) and cells[0] != "What":
            rows.append("evidence: " + "; ".join(cells))
    return rows
