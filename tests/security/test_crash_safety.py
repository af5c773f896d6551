"""A gunicorn worker killed mid-stream loses no feedback that was acknowledged with 200.

The production server (`python -m cds_service.cli serve`, 2 gthread workers, SQLite) takes a steady
stream of feedback posts from several clients; one worker is killed with SIGKILL (no clean shutdown, no
connection close, no checkpoint) while requests are in flight. Requests on the dead worker may fail:
the EHR sees an error and may retry. What must never happen is a 200 for feedback that is not in the
database. Afterwards gunicorn must have replaced the worker and the service must keep acknowledging.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import requests

from bench.soak import ProductionServer, feedback_body, persisted_feedback

PATH = "/cds-services/bonemet-patient-view/feedback"
CLIENTS = 4
ACKS_BEFORE_KILL = 40
ACKS_AFTER_KILL = 40
DEADLINE_SECONDS = 45


class FeedbackStream:
    """Client threads posting feedback back to back, remembering what the server acknowledged."""

    def __init__(self, server: ProductionServer) -> None:
        self.server = server
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged: list[str] = []
        self.failed: list[str] = []
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def _client(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            card_uuid = str(uuid.uuid4())
            url = self.server.base_url + PATH
            headers = {"Authorization": self.server.signer.authorization(url)}
            try:
                response = session.post(url, json=feedback_body(card_uuid), headers=headers, timeout=20)
            except requests.RequestException as exc:
                with self.lock:
                    self.failed.append(type(exc).__name__)
                session = requests.Session()  # the connection went down with its worker
                continue
            with self.lock:
                if response.status_code == 200 and response.json() == {"recorded": 1}:
                    self.acknowledged.append(card_uuid)
                else:
                    self.failed.append(f"HTTP {response.status_code}")

    def acks(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def wait_for(self, count: int, deadline: float) -> None:
        while self.acks() < count:
            assert time.monotonic() < deadline, f"only {self.acks()} feedback acknowledged in time"
            time.sleep(0.02)


def test_acknowledged_feedback_survives_a_worker_killed_mid_stream(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    with ProductionServer(tmp_path, database_url=database_url, workers=2, threads=4) as server:
        workers_before = server.worker_pids()
        assert len(workers_before) == 2
        stream = FeedbackStream(server)
        for thread in stream.threads:
            thread.start()
        try:
            stream.wait_for(ACKS_BEFORE_KILL, deadline)
            victim = workers_before[0]
            os.kill(victim, signal.SIGKILL)
            acks_at_kill = stream.acks()
            stream.wait_for(acks_at_kill + ACKS_AFTER_KILL, deadline)
            while len(server.worker_pids()) != 2 or victim in server.worker_pids():
                assert time.monotonic() < deadline, "gunicorn did not replace the killed worker"
                time.sleep(0.1)
        finally:
            stream.stop.set()
            for thread in stream.threads:
                thread.join(timeout=25)
        replacement = set(server.worker_pids()) - set(workers_before)
    acknowledged = list(stream.acknowledged)
    found = persisted_feedback(database_url, acknowledged)
    missing = [card_uuid for card_uuid in acknowledged if found[card_uuid] != 1]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged feedback rows lost or doubled"
    assert len(acknowledged) >= ACKS_BEFORE_KILL + ACKS_AFTER_KILL
    assert replacement, "a new worker must have taken the killed one's place"
    # requests that died with the worker were refused loudly (connection errors), never answered wrongly
    assert all(reason.endswith("Error") for reason in stream.failed), stream.failed[:5]
