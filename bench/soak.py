"""A bounded soak of the production server on loopback: steady hook load plus concurrent feedback.

    .venv/bin/python -m bench.soak                          # 3 minutes, SQLite in a temporary directory
    .venv/bin/python -m bench.soak --seconds 600 --database-url postgresql+psycopg://u@127.0.0.1:5432/db
    .venv/bin/python -m bench.soak --seconds 10 --json-out soak.json

It starts `bonemet-cds serve` (gunicorn, 2 gthread workers) with JWT authentication on, a key set file
and the real database store, then sends hook calls (the three services in turn, each with its own
freshly signed token) at a steady rate and, alongside, feedback on the cards those calls returned.
It passes when:

- every request was answered 200 (no 4xx, no 5xx, no connection error) and the server logged no
  internal error;
- every feedback entry acknowledged with 200 is in the database, exactly once;
- the server log holds none of the patient's identifiers, name, birth date or access token;
- no worker died, and each worker's resident memory grew by less than `--max-rss-growth-mb` between
  the end of the warm-up and the end of the run.

The rates are deliberately modest (default 20 hook calls and 5 feedback posts a second): this checks
that the service stays correct and flat under steady use, it is not a throughput benchmark.
`ProductionServer` is reused by the crash-safety test.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from bench.processes import child_pids

REPO = Path(__file__).resolve().parents[1]
ISSUER = "https://soak-ehr.bonemet.local"
KID = "soak-es384"
HOOKS = {
    "bonemet-patient-view": "patient-view",
    "bonemet-order-select": "order-select",
    "bonemet-order-sign": "order-sign",
}
START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Signer:
    """The soak's CDS Client: one P-384 key, its JWK Set file, a fresh token per request."""

    def __init__(self, directory: Path) -> None:
        self._key = ec.generate_private_key(ec.SECP384R1())
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update(kid=KID, use="sig", alg="ES384")
        self.jwks_file = directory / "soak-jwks.json"
        self.jwks_file.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")

    def trusted_issuers(self) -> str:
        return json.dumps([{"iss": ISSUER, "jwks_file": str(self.jwks_file)}])

    def authorization(self, audience: str, **overrides: Any) -> str:
        """A fresh token for `audience`; `overrides` replace claims (tests send absurd ones)."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "soak",
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **overrides,
        }
        return "Bearer " + jwt.encode(claims, self._key, algorithm="ES384", headers={"kid": KID})


class ProductionServer:
    """`python -m cds_service.cli serve` on 127.0.0.1, its log in a file, its workers found by parent pid."""

    def __init__(
        self,
        directory: Path,
        *,
        database_url: str,
        workers: int = 2,
        threads: int = 4,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.signer = Signer(directory)
        self.log_path = directory / "server.log"
        self._workers, self._threads = workers, threads
        self._extra_env = dict(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BONEMET_")}
        env.update(
            {
                "BONEMET_AUTH": "jwt",
                "BONEMET_TRUSTED_ISSUERS": self.signer.trusted_issuers(),
                "BONEMET_PUBLIC_URL": self.base_url,
                "BONEMET_DATABASE_URL": self.database_url,
                "BONEMET_LOG_LEVEL": "WARNING",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            }
        )
        env.update(self._extra_env)
        return env

    def start(self) -> ProductionServer:
        command = [
            sys.executable,
            "-m",
            "cds_service.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self._workers),
            "--threads",
            str(self._threads),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    if len(self.worker_pids()) == self._workers:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {START_TIMEOUT_SECONDS:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: processes whose parent is the master (the process we started)."""
        if self.process is None:
            return []
        return child_pids(self.process.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def leaked(self, secrets: Iterable[str]) -> list[str]:
        """Which of these strings (patient data, tokens) the server wrote to its log."""
        text = self.log_path.read_text(errors="replace")
        return [secret for secret in secrets if secret in text]

    def internal_errors_logged(self) -> int:
        text = self.log_path.read_text(errors="replace")
        return sum(text.count(marker) for marker in ("internal error", "Traceback", "could not record"))

    def __enter__(self) -> ProductionServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def hook_body(hook: str) -> dict[str, Any]:
    """A patient with a name, MRN, birth date and a FHIR access token in the call (tests/security)."""
    from tests.security.patient_data import identified_hook_request

    return identified_hook_request(hook)


def patient_strings() -> tuple[str, ...]:
    from tests.security.patient_data import PATIENT_STRINGS

    return PATIENT_STRINGS


def feedback_body(card_uuid: str) -> dict[str, Any]:
    return {
        "feedback": [
            {
                "card": card_uuid,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "system": "https://bonemet-cds.org/fhir/CodeSystem/override-reason",
                        "code": "soak-test",
                    }
                },
                "outcomeTimestamp": "2026-11-23T10:00:00Z",
            }
        ]
    }


@dataclass
class Tally:
    """What the clients saw; one lock for all of it (the counts are small, contention is not a concern)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"hook": [], "feedback": []})
    errors: Counter[str] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)
    cards_returned: int = 0
    returned_uuids: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[f"{kind}: {error}"] += 1


class Load:
    """Paced client threads: hook callers feed card uuids to feedback posters through a queue."""

    def __init__(
        self,
        server: ProductionServer,
        tally: Tally,
        *,
        hook_rate: float,
        feedback_rate: float,
        hook_clients: int = 4,
        feedback_clients: int = 2,
    ) -> None:
        self.server, self.tally = server, tally
        self.stop = threading.Event()
        self.cards: queue.Queue[str] = queue.Queue(maxsize=10_000)
        self._threads = [
            threading.Thread(target=self._hook_client, args=(i, hook_clients / hook_rate), daemon=True)
            for i in range(hook_clients)
        ] + [
            threading.Thread(
                target=self._feedback_client, args=(feedback_clients / feedback_rate,), daemon=True
            )
            for _ in range(feedback_clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _paced(self, interval: float) -> Iterable[None]:
        next_at = time.monotonic()
        while not self.stop.is_set():
            yield None
            next_at = max(next_at + interval, time.monotonic() - interval)  # no burst to catch up
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def _hook_client(self, index: int, interval: float) -> None:
        session, services = requests.Session(), list(HOOKS.items())
        for n, _ in enumerate(self._paced(interval)):
            service_id, hook = services[(index + n) % len(services)]
            path = f"/cds-services/{service_id}"
            response = self._post(session, "hook", path, hook_body(hook))
            if response is not None:
                cards = response.json().get("cards", [])
                with self.tally.lock:
                    self.tally.cards_returned += len(cards)
                    self.tally.returned_uuids.extend(str(card["uuid"]).lower() for card in cards)
                for card in cards:
                    if service_id == "bonemet-patient-view" and not self.cards.full():
                        self.cards.put(card["uuid"])

    def _feedback_client(self, interval: float) -> None:
        session = requests.Session()
        for _ in self._paced(interval):
            try:
                card_uuid = self.cards.get_nowait()
            except queue.Empty:
                card_uuid = str(uuid.uuid4())  # feedback on a card this store never issued is kept too
            response = self._post(
                session, "feedback", "/cds-services/bonemet-patient-view/feedback", feedback_body(card_uuid)
            )
            if response is not None and response.json() == {"recorded": 1}:
                with self.tally.lock:
                    self.tally.acknowledged.append(card_uuid)

    def _post(self, session: requests.Session, kind: str, path: str, body: Any) -> requests.Response | None:
        headers = {"Authorization": self.server.signer.authorization(self.server.base_url + path)}
        started = time.monotonic()
        try:
            response = session.post(self.server.base_url + path, json=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            self.tally.record(kind, time.monotonic() - started, type(exc).__name__)
            return None
        error = None if response.status_code == 200 else f"HTTP {response.status_code}"
        self.tally.record(kind, time.monotonic() - started, error)
        return response if error is None else None


def persisted_feedback(database_url: str, card_uuids: list[str]) -> Counter[str]:
    """How many feedback rows each acknowledged card uuid has in the database."""
    from cds_service.persistence import Feedback

    return _rows_per_uuid(database_url, Feedback, card_uuids)


def persisted_cards(database_url: str, card_uuids: list[str]) -> Counter[str]:
    """How many card records each returned card uuid has (written behind the answers, flushed on stop)."""
    from cds_service.persistence import CardRecord

    return _rows_per_uuid(database_url, CardRecord, card_uuids)


def _rows_per_uuid(database_url: str, table: Any, card_uuids: list[str]) -> Counter[str]:
    from sqlalchemy import create_engine, select

    from cds_service.persistence.engine import normalise_url

    engine = create_engine(normalise_url(database_url))
    found: Counter[str] = Counter()
    try:
        with engine.connect() as connection:
            for start in range(0, len(card_uuids), 500):
                chunk = card_uuids[start : start + 500]
                found.update(
                    connection.execute(select(table.card_uuid).where(table.card_uuid.in_(chunk))).scalars()
                )
    finally:
        engine.dispose()
    return found


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "count": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


@dataclass
class ServerObservations:
    """What was read from the server side of one run: its workers, their memory, its log."""

    workers: list[int]
    workers_after: list[int]
    rss_start: dict[int, int | None]
    rss_end: dict[int, int | None]
    samples: list[dict[str, int | None]]
    internal_errors: int
    leaks: list[str]
    log_tail: str
    card_records: Counter[str] = field(default_factory=Counter)

    def growth_mb(self) -> dict[str, float]:
        return {
            str(pid): round(((self.rss_end[pid] or 0) - (self.rss_start[pid] or 0)) / 1024, 1)
            for pid in self.workers
        }


def run_soak(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    database_url = args.database_url or f"sqlite:///{directory / 'soak.sqlite3'}"
    tally = Tally()
    with ProductionServer(
        directory, database_url=database_url, workers=args.workers, threads=args.threads
    ) as server:
        load = Load(server, tally, hook_rate=args.hook_rate, feedback_rate=args.feedback_rate)
        load.start()
        warmup = min(args.warmup, args.seconds / 3)
        time.sleep(warmup)
        workers = server.worker_pids()
        rss_start = {pid: rss_kib(pid) for pid in workers}
        samples = []
        deadline = time.monotonic() + args.seconds - warmup
        while time.monotonic() < deadline:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            samples.append({str(pid): rss_kib(pid) for pid in workers})
        rss_end = {pid: rss_kib(pid) for pid in workers}
        load.join()
        seen = ServerObservations(
            workers=workers,
            workers_after=server.worker_pids(),
            rss_start=rss_start,
            rss_end=rss_end,
            samples=samples,
            internal_errors=server.internal_errors_logged(),
            leaks=server.leaked(patient_strings()),
            log_tail=server.log_tail(15),
        )
    found = persisted_feedback(database_url, tally.acknowledged)
    seen.card_records = persisted_cards(database_url, tally.returned_uuids)  # the server has stopped
    return _report(args, tally, found, seen, database_url)


def _failures(
    args: argparse.Namespace, tally: Tally, found: Counter[str], seen: ServerObservations
) -> list[str]:
    missing = [u for u in tally.acknowledged if found[u] == 0]
    duplicated = [u for u, n in found.items() if n > 1]
    failures = []
    if tally.errors:
        failures.append(f"{sum(tally.errors.values())} failed requests: {dict(tally.errors.most_common(5))}")
    if seen.internal_errors:
        failures.append(f"{seen.internal_errors} internal errors in the server log")
    if seen.leaks:
        failures.append(f"{len(seen.leaks)} patient-data strings in the server log")
    if missing or duplicated:
        failures.append(f"{len(missing)} acknowledged feedback rows missing, {len(duplicated)} duplicated")
    unrecorded = [u for u in tally.returned_uuids if seen.card_records[u] != 1]
    if unrecorded:
        total = len(tally.returned_uuids)
        failures.append(f"{len(unrecorded)} of {total} returned cards have no card record")
    if seen.workers_after != seen.workers:
        failures.append(f"workers changed during the run: {seen.workers} -> {seen.workers_after}")
    if any(None in (seen.rss_start[p], seen.rss_end[p]) for p in seen.workers):
        failures.append("a worker's memory could not be read")
    if any(g >= args.max_rss_growth_mb for g in seen.growth_mb().values()):
        failures.append(f"worker RSS grew by {seen.growth_mb()} MB (limit {args.max_rss_growth_mb} MB)")
    if not tally.acknowledged or not tally.latencies["hook"]:
        failures.append("no load went through")
    return failures


def _report(
    args: argparse.Namespace, tally: Tally, found: Counter[str], seen: ServerObservations, database_url: str
) -> dict[str, Any]:
    failures = _failures(args, tally, found, seen)
    return {
        "passed": not failures,
        "failures": failures,
        "seconds": args.seconds,
        "database": database_url.split(":", 1)[0].split("+", 1)[0],
        "workers": args.workers,
        "threads": args.threads,
        "hook_calls": _percentiles(tally.latencies["hook"]),
        "feedback_posts": _percentiles(tally.latencies["feedback"]),
        "hook_rate_per_s": round(len(tally.latencies["hook"]) / args.seconds, 1),
        "feedback_rate_per_s": round(len(tally.latencies["feedback"]) / args.seconds, 1),
        "cards_returned": tally.cards_returned,
        "feedback_acknowledged": len(tally.acknowledged),
        "feedback_persisted": sum(1 for u in tally.acknowledged if found[u] > 0),
        "card_records_persisted": sum(1 for u in tally.returned_uuids if seen.card_records[u] == 1),
        "errors": dict(tally.errors),
        "rss_kib_start": {str(p): v for p, v in seen.rss_start.items()},
        "rss_kib_end": {str(p): v for p, v in seen.rss_end.items()},
        "rss_growth_mb": seen.growth_mb(),
        "rss_samples_kib": seen.samples,
        "server_log_tail": seen.log_tail if failures else "",
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the run (default 180)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    parser.add_argument("--hook-rate", type=float, default=20.0, help="hook calls per second (default 20)")
    parser.add_argument(
        "--feedback-rate", type=float, default=5.0, help="feedback posts per second (default 5)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--warmup",
        type=float,
        default=20.0,
        help="seconds of load before the first memory reading (at most a third of the run)",
    )
    parser.add_argument("--max-rss-growth-mb", type=float, default=20.0)
    parser.add_argument("--json-out", type=Path, help="also write the report as JSON to this file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bonemet-soak-") as directory:
        report = run_soak(args, Path(directory))
    summary = {k: v for k, v in report.items() if k not in ("rss_samples_kib", "server_log_tail")}
    print(json.dumps(summary, indent=2))
    if report["server_log_tail"]:
        print(report["server_log_tail"], file=sys.stderr)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("soak " + ("PASSED" if report["passed"] else "FAILED: " + "; ".join(report["failures"])))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
