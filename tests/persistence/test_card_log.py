"""The write-behind card log: the hook call does not wait, nothing queued is lost on a graceful stop, and a
broken database costs records (counted in the log), never the answer or the worker."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, func, select

from bench.soak import ProductionServer
from cds_service.persistence import CardRecord
from cds_service.persistence.card_log import CardLog
from cds_service.persistence.engine import normalise_url
from tests.security.patient_data import identified_hook_request

HOOK_PATH = "/cds-services/bonemet-patient-view"


class Recorder:
    """A write function that remembers its batches and can be held shut, like a slow database."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        self.entered.set()
        assert self.open.wait(10)
        self.batches.append(list(rows))

    def rows(self) -> list[int]:
        return [row["n"] for batch in self.batches for row in batch]


def test_submit_returns_before_the_write_and_flush_waits_for_it() -> None:
    recorder = Recorder()
    recorder.open.clear()  # the database is slow
    card_log = CardLog(recorder, max_delay_s=0.01)
    card_log.submit([{"n": 1}])  # a synchronous write would block here until Recorder's wait fails
    assert recorder.entered.wait(10) and not recorder.open.is_set() and recorder.batches == []
    assert card_log.flush(timeout_s=0.2) is False  # still held: flush reports it did not finish
    recorder.open.set()
    assert card_log.flush() is True
    assert recorder.rows() == [1]


def test_calls_within_the_delay_share_one_transaction_in_order() -> None:
    recorder = Recorder()
    card_log = CardLog(recorder, max_delay_s=0.5)
    for n in range(50):
        card_log.submit([{"n": n}])
    assert card_log.flush()
    assert recorder.rows() == list(range(50))
    assert len(recorder.batches) < 50  # not one write per call (typically one or two)


def test_a_batch_is_capped_in_rows() -> None:
    recorder = Recorder()
    recorder.open.clear()
    card_log = CardLog(recorder, max_delay_s=0.2, max_batch_rows=10)
    for n in range(30):
        card_log.submit([{"n": n}])
    recorder.open.set()
    assert card_log.flush()
    assert recorder.rows() == list(range(30))
    assert max(len(batch) for batch in recorder.batches) <= 10


def test_a_failing_write_is_logged_with_counts_and_the_log_keeps_working(caplog) -> None:
    calls: list[int] = []

    def flaky(rows: list[dict[str, Any]]) -> None:
        calls.append(len(rows))
        if len(calls) == 1:
            raise OSError("disk I/O error for patient Patient/secret-42")

    card_log = CardLog(flaky, max_delay_s=0.0)
    with caplog.at_level(logging.ERROR, logger="cds_service.persistence.card_log"):
        card_log.submit([{"n": 1}, {"n": 2}])
        assert card_log.flush()
        card_log.submit([{"n": 3}])
        assert card_log.flush()
    assert card_log.dropped == 2 and calls == [2, 1]
    assert "could not record 2 card records: OSError" in caplog.text
    assert "secret-42" not in caplog.text  # the exception's message is never logged


def test_a_full_queue_drops_new_records_instead_of_growing(caplog) -> None:
    recorder = Recorder()
    recorder.open.clear()
    card_log = CardLog(recorder, max_delay_s=0.0, max_pending_calls=3)
    card_log.submit([{"n": 0}])
    assert recorder.entered.wait(10)  # the writer holds call 0 and is stuck in the database
    with caplog.at_level(logging.ERROR, logger="cds_service.persistence.card_log"):
        for n in range(1, 10):
            card_log.submit([{"n": n}])
    assert card_log.dropped == 6  # calls 1-3 wait in the queue, 4-9 are dropped
    assert "card log queue full (3 calls waiting): dropped 1 card records" in caplog.text
    recorder.open.set()
    assert card_log.flush()
    assert recorder.rows() == [0, 1, 2, 3]


def _submit_in_child(card_log: CardLog, done: Any) -> None:
    card_log.submit([{"n": 2}])
    done.put(card_log.flush())


def test_a_forked_worker_starts_its_own_writer() -> None:
    """gunicorn builds the store in the master and forks: the master's writer thread does not exist in the
    child, so the child must start one, or its records would queue forever."""
    written: multiprocessing.Queue[int] = multiprocessing.get_context("fork").Queue()
    card_log = CardLog(lambda rows: [written.put(row["n"]) for row in rows], max_delay_s=0.0)
    card_log.submit([{"n": 1}])
    assert card_log.flush()
    done: multiprocessing.Queue[bool] = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_submit_in_child, args=(card_log, done))
    child.start()
    child.join(20)
    assert child.exitcode == 0 and done.get(timeout=5) is True
    assert sorted(written.get(timeout=5) for _ in range(2)) == [1, 2]


def _card_records(database_url: str) -> int:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(CardRecord)).scalar_one())
    finally:
        engine.dispose()


def test_a_graceful_stop_of_the_production_server_writes_every_queued_record(tmp_path: Path) -> None:
    """With a delay far longer than the test, only the flush on SIGTERM can have written the records."""
    database_url = f"sqlite:///{tmp_path / 'cards.sqlite3'}"
    extra = {"BONEMET_CARD_LOG_DELAY_MS": "60000"}
    returned = 0
    with ProductionServer(
        tmp_path, database_url=database_url, workers=2, threads=2, extra_env=extra
    ) as server:
        session = requests.Session()
        for _ in range(6):
            url = server.base_url + HOOK_PATH
            body = identified_hook_request()
            body["hookInstance"] = str(uuid.uuid4())
            response = session.post(
                url, json=body, headers={"Authorization": server.signer.authorization(url)}
            )
            assert response.status_code == 200
            returned += sum(1 for card in response.json()["cards"] if card.get("uuid"))
        assert returned > 0
        time.sleep(0.3)
        assert _card_records(database_url) == 0  # still queued: the answers did not wait for the write
        server.stop()  # SIGTERM to the master and its workers, as a rolling restart sends
    assert _card_records(database_url) == returned
