"""Slow and wrong peers, measured (issue 11): how soon a trickling FHIR server or JWK Set endpoint is cut
off against its deadline, how many calls a healthy FHIR origin gets served while another trickles, and how
many calls fail on kept-alive connections the server closes.

    .venv/bin/python -m bench.slow_peers            # cut-offs and starvation, about a minute
    .venv/bin/python -m bench.slow_peers --keepalive  # plus calls spaced around the server's keep-alive
                                                      # (24 at 3-5 s of 5 s, 40 at 0.95-1.05 s of 1 s,
                                                      # 12 against a server dropping reused connections)

The peers are the test servers of tests/slow_peers.py and the Medplum test server; each trickles one byte
every 50 ms for a minute unless cut off.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from cds_service.app import create_app
from cds_service.auth.key_sets import UrlKeySource
from cds_service.errors import AuthError
from cds_service.fhir_client import FhirClient
from cds_service.local_fhir_server import LocalFhirServer
from cds_service.settings import Settings
from tests.fhir_server_mode.chart import chart, hook_body, new_patient_id, rule_ids, transaction
from tests.slow_peers import ChartServer, TricklingServer

URL = "/cds-services/bonemet-patient-view"


def _settings(tmp: Path, **values: Any) -> Settings:
    return Settings(auth_mode="off", database_url=f"sqlite:///{tmp / 'bench.sqlite3'}", **values)


def fhir_cut_off(stage: str, deadline: float) -> dict[str, float]:
    with TricklingServer(stage, 60.0) as peer:
        client = FhirClient(allowed_origins=frozenset({peer.origin}), deadline_seconds=deadline)
        started = time.monotonic()
        result = client.search_all(peer.origin + "/fhir", {"q": "Observation?patient=x"}, None)["q"]
        answered = time.monotonic() - started
        peer.all_gave_up.wait(30)
        let_go = (peer.gave_up_at[0] - started) if peer.gave_up_at else float("nan")
    assert not result.ok
    return {"deadline_s": deadline, "answered_s": round(answered, 3), "connection_closed_s": round(let_go, 3)}


def jwks_cut_off(stage: str, deadline: float, callers: int = 4) -> dict[str, Any]:
    with TricklingServer(stage, 60.0) as peer:
        source = UrlKeySource(peer.origin + "/jwks.json", timeout=deadline)
        ends: list[float] = []
        started = time.monotonic()

        def ask() -> None:
            try:
                source.keys()
            except AuthError:
                ends.append(time.monotonic() - started)

        threads = [threading.Thread(target=ask) for _ in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        peer.all_gave_up.wait(30)
        let_go = (peer.gave_up_at[0] - started) if peer.gave_up_at else float("nan")
        fetches = peer.requests
    return {
        "deadline_s": deadline,
        "callers": callers,
        "refused": len(ends),
        "last_refused_s": round(max(ends), 3) if ends else None,
        "fetches": fetches,
        "connection_closed_s": round(let_go, 3),
    }


def healthy_while_trickling(seconds: float, flooders: int, deadline: float) -> dict[str, Any]:
    pid = new_patient_id()
    resources = chart(pid)
    with TricklingServer("headers", 600.0) as slow, ChartServer(resources) as healthy:
        tmp = Path(tempfile.mkdtemp())
        settings = _settings(
            tmp, fhir_allowed_hosts=f"{slow.origin},{healthy.origin}", fhir_deadline_seconds=deadline
        )
        app = create_app(settings)
        stop = threading.Event()
        slow_calls: list[int] = []

        def flood() -> None:
            while not stop.is_set():
                slow_calls.append(
                    app.test_client().post(URL, json=hook_body(pid, server=slow.origin)).status_code
                )

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(flooders)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        complete, degraded, latencies = 0, 0, []
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            began = time.monotonic()
            response = app.test_client().post(URL, json=hook_body(pid, server=healthy.base_url))
            latencies.append((time.monotonic() - began) * 1000)
            ok = response.status_code == 200 and "DATA-UNAVAILABLE" not in rule_ids(
                response.get_json()["cards"]
            )
            complete, degraded = complete + ok, degraded + (not ok)
        stop.set()
        for thread in threads:
            thread.join(2 * deadline + 10)
    return {
        "window_s": seconds,
        "flooding_callers": flooders,
        "slow_origin_calls": len(slow_calls),
        "slow_origin_requests": slow.requests,
        "healthy_calls_complete": complete,
        "healthy_calls_degraded": degraded,
        "healthy_p50_ms": round(statistics.median(latencies), 1),
        "healthy_max_ms": round(max(latencies), 1),
    }


def keepalive(
    calls: int, low: float, high: float, keepalive_ms: int = 5000, drop_reused: bool = False
) -> dict[str, Any]:
    """Calls `low`-`high` s apart against the Medplum server's keep-alive; a call fails when any of its
    queries meets a connection the server closed as it was reused (412 or DATA-UNAVAILABLE). With
    `drop_reused` the server closes every reused connection unanswered (the race, every time)."""
    rng = random.Random(11)
    os.environ["FHIR_KEEPALIVE_MS"] = str(keepalive_ms)
    os.environ["FHIR_DROP_REUSED_CONNECTIONS"] = "1" if drop_reused else "0"
    server = LocalFhirServer()
    base_url = server.start()
    try:
        pid = new_patient_id()
        server.load(transaction(chart(pid)))
        server_origin = base_url.split("/fhir", 1)[0]
        app = create_app(_settings(Path(tempfile.mkdtemp()), fhir_allowed_hosts=server_origin))
        failed = 0
        for index in range(calls):
            if index:
                time.sleep(rng.uniform(low, high))
            response = app.test_client().post(URL, json=hook_body(pid, server=base_url))
            body = response.get_json()
            failed += response.status_code != 200 or "DATA-UNAVAILABLE" in rule_ids(body.get("cards", []))
    finally:
        server.stop()
    spacing = [low, high]
    return {
        "calls": calls,
        "spacing_s": spacing,
        "server_keepalive_ms": keepalive_ms,
        "server_drops_reused_connections": drop_reused,
        "failed_calls": failed,
    }


def production_server(seconds: float = 15.5, url_callers: int = 8) -> dict[str, Any]:
    """The production server (gunicorn, 2 workers x 4 threads, JWT on) trusting a file-based issuer and
    one whose JWK Set endpoint trickles: while `url_callers` keep calling with the trickling issuer's
    tokens, how the file issuer's calls fare; then how long a graceful stop takes. The stop comes just
    after the 15 s refresh cooldown, so key set fetches are in flight when it comes."""
    import jwt  # noqa: PLC0415 - only this measurement signs tokens
    import requests  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    from bench.soak import ISSUER, ProductionServer, feedback_body  # noqa: PLC0415

    url_iss, path = "https://slow-issuer.bonemet.local", "/cds-services/bonemet-patient-view/feedback"
    url_key = ec.generate_private_key(ec.SECP384R1())
    with TricklingServer("headers", 600.0) as jwks_peer:
        directory = Path(tempfile.mkdtemp())
        server = ProductionServer(directory, database_url=f"sqlite:///{directory / 'stop.sqlite3'}")
        issuers = json.loads(server.signer.trusted_issuers())
        issuers.append({"iss": url_iss, "jwks_url": jwks_peer.origin + "/jwks.json"})
        server._extra_env = {"BONEMET_TRUSTED_ISSUERS": json.dumps(issuers)}  # noqa: SLF001
        server.start()
        url = server.base_url + path

        def url_token() -> str:
            now = int(time.time())
            claims = {"iss": url_iss, "aud": url, "iat": now, "exp": now + 300, "jti": str(time.time_ns())}
            return "Bearer " + jwt.encode(claims, url_key, algorithm="ES384", headers={"kid": "k"})

        stop = threading.Event()

        def flood() -> None:
            while not stop.is_set():
                try:
                    requests.post(
                        url,
                        json=feedback_body(str(uuid.uuid4())),
                        headers={"Authorization": url_token()},
                        timeout=90,
                    )
                except requests.RequestException:
                    pass

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(url_callers)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        served, failed, latencies = 0, 0, []
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            began = time.monotonic()
            try:
                headers = {"Authorization": server.signer.authorization(url)}
                ok = (
                    requests.post(
                        url, json=feedback_body(str(uuid.uuid4())), headers=headers, timeout=30
                    ).status_code
                    == 200
                )
            except requests.RequestException:
                ok = False
            latencies.append((time.monotonic() - began) * 1000)
            served, failed = served + ok, failed + (not ok)
            time.sleep(0.1)
        stopping = time.monotonic()
        server.stop()
        stop_seconds = time.monotonic() - stopping
        stop.set()
    assert ISSUER  # the file issuer is the soak's
    return {
        "window_s": seconds,
        "trickling_issuer_callers": url_callers,
        "file_issuer_calls_ok": served,
        "file_issuer_calls_failed": failed,
        "file_issuer_p50_ms": round(statistics.median(latencies), 1),
        "file_issuer_max_ms": round(max(latencies), 1),
        "graceful_stop_s": round(stop_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keepalive", action="store_true", help="also run the keep-alive measurement")
    parser.add_argument("--server", action="store_true", help="also measure the production server")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "fhir_cut_off": {
            f"{stage}-{deadline:g}s": fhir_cut_off(stage, deadline)
            for stage in ("headers", "body")
            for deadline in (1.0, 3.0)
        },
        "jwks_cut_off": {f"{stage}-3s": jwks_cut_off(stage, 3.0) for stage in ("headers", "body")},
        "healthy_while_trickling": healthy_while_trickling(20.0, 4, 3.0),
    }
    if args.keepalive:
        results["keepalive"] = keepalive(24, 3.0, 5.0)
        results["keepalive_race"] = keepalive(40, 0.95, 1.05, keepalive_ms=1000)
        results["keepalive_dropped"] = keepalive(12, 0.5, 1.0, drop_reused=True)
    if args.server:
        results["production_server"] = production_server()
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
