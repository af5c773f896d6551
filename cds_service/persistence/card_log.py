"""Write-behind log of the cards a worker returned: the hook call hands its rows over and answers at once.

Why not write in the request: a commit is a disk flush (SQLite `synchronous=FULL`, PostgreSQL's WAL), and
one per hook call cost more than evaluating the rules (the benchmark's typical patient-view: ~1 ms of
its ~7 ms over HTTP at one client), and two workers' commits queued behind SQLite's one write lock. A
background thread per worker writes whatever has accumulated in one transaction: one flush for many
calls, at most `max_delay_s` after the call.

What this costs, and why it is acceptable: a record exists so that feedback can be matched to the rule that
made the card. Rows still waiting when a worker is killed (SIGKILL, out of memory, power loss) are lost;
feedback on those cards is still stored, with `card_known` false. A graceful stop (SIGTERM, the gunicorn
`worker_exit` hook, interpreter exit) flushes first. Feedback itself is never written behind: a 200 on
the feedback endpoint is a promise that it is on disk. If the database is down or the queue is full, rows
are dropped with an error in the log (counts only), exactly as a failed synchronous write was: the
clinical answer never waits for analytics.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from cds_service.metrics import CARD_LOG_DROPPED, CARD_LOG_QUEUED

log = logging.getLogger(__name__)

Rows = list[dict[str, Any]]


class _Flush:
    """A marker in the queue: everything before it is written when `done` is set."""

    def __init__(self) -> None:
        self.done = threading.Event()


class CardLog:
    """Rows go into a deque (appending needs no lock); the writer is woken once per batch, not per call:
    waking it on every call cost a thread switch per request."""

    def __init__(
        self,
        write: Callable[[Rows], None],
        *,
        max_delay_s: float = 0.05,
        max_batch_rows: int = 1000,
        max_pending_calls: int = 10_000,
    ) -> None:
        self._write = write
        self._max_delay_s = max_delay_s
        self._max_batch_rows = max_batch_rows
        self._max_pending_calls = max_pending_calls
        self._lock = threading.Lock()
        self._owner_pid: int | None = None
        self._pending: deque[Rows | _Flush] = deque()
        self._wake = threading.Event()  # something is pending
        self._hurry = threading.Event()  # someone waits in flush(): do not wait out the delay
        self.dropped = 0

    def submit(self, rows: Rows) -> None:
        """Queue rows for the writer; never blocks, never raises into the request."""
        if not rows:
            return
        self._ensure_writer()
        if len(self._pending) >= self._max_pending_calls:  # the database is down or far too slow
            self._drop(rows)
            return
        self._pending.append(rows)
        CARD_LOG_QUEUED.inc(len(rows))
        if not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every row submitted before this call is written (or dropped); False on timeout."""
        if self._owner_pid != os.getpid():
            return True  # no writer in this process: nothing was submitted here
        marker = _Flush()
        self._pending.append(marker)
        self._hurry.set()
        self._wake.set()
        return marker.done.wait(timeout_s)

    def _ensure_writer(self) -> None:
        """Start the writer in the process that submits: a gunicorn master builds the store and forks,
        and threads do not survive a fork, so each worker starts its own on its first call."""
        pid = os.getpid()
        if self._owner_pid == pid:
            return
        with self._lock:
            if self._owner_pid == pid:
                return
            self._pending, self._wake, self._hurry = deque(), threading.Event(), threading.Event()
            threading.Thread(target=self._run, name="card-log-writer", daemon=True).start()
            if self._owner_pid is None:
                # A forked child inherits this registration; there it flushes the child's own queue.
                atexit.register(self.flush)
            self._owner_pid = pid

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._hurry.wait(self._max_delay_s)  # let the calls of the next moment join this batch
            self._wake.clear()  # before draining: a call appended from here on sets it again
            self._hurry.clear()
            rows, markers = self._drain()
            for start in range(0, len(rows), self._max_batch_rows):
                self._write_batch(rows[start : start + self._max_batch_rows])
            CARD_LOG_QUEUED.dec(len(rows))
            for marker in markers:
                marker.done.set()

    def _drain(self) -> tuple[Rows, list[_Flush]]:
        rows: Rows = []
        markers: list[_Flush] = []
        while self._pending:
            item = self._pending.popleft()
            if isinstance(item, _Flush):
                markers.append(item)
            else:
                rows.extend(item)
        return rows, markers

    def _write_batch(self, batch: Rows) -> None:
        try:
            self._write(batch)
        except Exception as exc:  # noqa: BLE001 - logged; analytics must not take the worker down
            self._count_dropped(len(batch))
            log.error("could not record %d card records: %s", len(batch), type(exc).__name__)

    def _drop(self, rows: Rows) -> None:
        self._count_dropped(len(rows))
        log.error(
            "card log queue full (%d calls waiting): dropped %d card records",
            self._max_pending_calls,
            len(rows),
        )

    def _count_dropped(self, count: int) -> None:
        with self._lock:  # request threads and the writer both drop
            self.dropped += count
        CARD_LOG_DROPPED.inc(count)
