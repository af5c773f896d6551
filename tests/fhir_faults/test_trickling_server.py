"""Real sockets that trickle their answer: per-socket timeouts never fire, only the call deadline can stop
them (shared/LIBRARIES.md measured requests held 5 s past a 1 s timeout; issue 11 saw tens of seconds).
No mock: real servers on 127.0.0.1 (tests/slow_peers.py).

No test here measures a duration: each peer would trickle for a minute, and a cut-off is checked with a
margin of seconds (CUT_OFF_MARGIN_SECONDS), so a busy CI machine cannot fail them and a missing deadline
cannot pass them.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from cds_service.app import create_app
from cds_service.fhir_client import FhirClient
from tests.conftest import make_settings
from tests.fhir_faults.conftest import CUT_OFF_MARGIN_SECONDS
from tests.fhir_server_mode.chart import chart, comparable, hook_body, new_patient_id, prefetch_for, rule_ids
from tests.slow_peers import ChartServer, TricklingServer

DEADLINE_SECONDS = 1.0
TRICKLE_SECONDS = 60.0
URL = "/cds-services/bonemet-patient-view"


@pytest.mark.parametrize("stage", ["headers", "body"])
def test_a_trickling_server_is_cut_off_at_the_deadline_and_let_go(stage, caplog):
    """A minute of one byte every 50 ms, in the headers or in the body, against a 1 s deadline: the read
    is answered "deadline exceeded" and the connection is closed, so no fetch thread keeps reading (a
    thread left reading the headers is what starved every other call in issue 11)."""
    caplog.set_level(logging.INFO)
    with TricklingServer(stage, TRICKLE_SECONDS) as peer:
        client = FhirClient(allowed_origins=frozenset({peer.origin}), deadline_seconds=DEADLINE_SECONDS)
        started = time.monotonic()
        results = client.search_all(peer.origin + "/fhir", {"observations": "Observation?patient=x"}, "tok-1")
        answered = time.monotonic() - started
        assert not results["observations"].ok
        assert "deadline exceeded" in results["observations"].reason
        assert answered < CUT_OFF_MARGIN_SECONDS < TRICKLE_SECONDS
        assert peer.all_gave_up.wait(CUT_OFF_MARGIN_SECONDS), "the fetch thread is still reading"
    assert "deadline exceeded" in caplog.text and "tok-1" not in caplog.text


def _hook(app, server, pid):
    response = app.test_client().post(URL, json=hook_body(pid, server=server))
    return response.status_code, response.get_json()


def test_a_trickling_origin_does_not_starve_a_healthy_one(tmp_path: Path):
    """Four callers keep hitting an origin that trickles its headers (each call carries nine queries, more
    than the old shared pool could hold) while a clinician's calls go to a healthy origin: every healthy
    call gets its complete cards. Before issue 11 the trickling queries held the shared fetch threads for
    the whole trickle and the healthy calls lost their data (DATA-UNAVAILABLE or 412)."""
    pid = new_patient_id()
    resources = chart(pid)
    with TricklingServer("headers", TRICKLE_SECONDS) as slow, ChartServer(resources) as healthy:
        settings = make_settings(
            tmp_path,
            fhir_allowed_hosts=f"{slow.origin},{healthy.origin}",
            fhir_deadline_seconds=3.0,
            fhir_max_per_origin=10,
        )
        app = create_app(settings)
        runtime = app.extensions["bonemet"]
        expected = app.test_client().post(
            URL, json=hook_body(pid, server=None, prefetch=prefetch_for(runtime, resources))
        )
        stop = threading.Event()
        slow_answers: list[int] = []

        def flood() -> None:
            while not stop.is_set():
                slow_answers.append(_hook(app, slow.origin + "/fhir", pid)[0])

        flooders = [threading.Thread(target=flood, daemon=True) for _ in range(4)]
        for thread in flooders:
            thread.start()
        time.sleep(1.0)  # let the flood take its threads first
        healthy_answers = [_hook(app, healthy.base_url, pid) for _ in range(5)]
        stop.set()
        for thread in flooders:
            thread.join(timeout=CUT_OFF_MARGIN_SECONDS * 2)
        assert not any(thread.is_alive() for thread in flooders)
    assert slow.requests >= 9 and set(slow_answers) == {412}
    for status, body in healthy_answers:
        assert status == 200, body
        assert "DATA-UNAVAILABLE" not in rule_ids(body["cards"])
        assert comparable(body["cards"]) == comparable(expected.get_json()["cards"])
