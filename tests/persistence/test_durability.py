"""Feedback acknowledged to the EHR survives the worker being killed right after the acknowledgement."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cds_service.persistence import Feedback, Store

REPO = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from cds_service.persistence import Store

    store = Store(sys.argv[1])
    item = {"card": sys.argv[2], "outcome": "overridden", "outcomeTimestamp": "2026-03-01T08:30:00Z"}
    recorded = store.record_feedback("bonemet-order-sign", [item])
    print(recorded, flush=True)  # the 200 has gone out
    os.kill(os.getpid(), signal.SIGKILL)  # no clean shutdown, no connection close, no checkpoint
    """
)


def test_acknowledged_feedback_survives_a_killed_worker(database_url: str) -> None:
    Store(database_url).close()  # tables exist before the worker starts, as after any start-up
    card_uuid = str(uuid.uuid4())
    worker = subprocess.run(
        [sys.executable, "-c", WORKER, database_url, card_uuid],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    assert worker.stdout.strip() == "1"
    with Session(Store(database_url).engine) as session:
        stored = session.scalars(select(Feedback).where(Feedback.card_uuid == card_uuid)).all()
    assert [row.outcome for row in stored] == ["overridden"]
