"""The JWT replay cache in the database, so every worker and every instance sharing it refuses a replay.

`seen_before` is one INSERT under the unique key (issuer, jti): the database, not the process, decides
which of two simultaneous uses of a token came first. A duplicate key means the token was used before,
unless the stored row has expired, in which case one conditional UPDATE reclaims it (still atomic: only
one caller can move an expired row forward). Expired rows are purged at most once a minute per process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.exc import IntegrityError

from cds_service.persistence.models import JtiSeen

log = logging.getLogger(__name__)

MAX_STORED_JTI_CHARS = 200
MAX_STORED_ISSUER_CHARS = 500
PURGE_INTERVAL_SECONDS = 60.0


class SqlReplayCache:
    """Implements `cds_service.auth.replay.ReplayCache` on the store's database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        purge_interval: float = PURGE_INTERVAL_SECONDS,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._purge_interval = purge_interval
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def seen_before(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record (issuer, jti) until `expires_at` (Unix seconds); True if it was already recorded."""
        now = self._clock()
        issuer, key = _bounded(issuer, MAX_STORED_ISSUER_CHARS), _bounded(jti, MAX_STORED_JTI_CHARS)
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(JtiSeen).values(issuer=issuer, jti=key, expires_at=expires_at))
            first_use = True
        except IntegrityError:
            first_use = self._reclaim_expired(issuer, key, expires_at, now)
        self._purge_if_due(now)
        return not first_use

    def _reclaim_expired(self, issuer: str, key: str, expires_at: float, now: float) -> bool:
        """A row left from a token that can no longer pass does not make a new token a replay."""
        statement = (
            update(JtiSeen)
            .where(JtiSeen.issuer == issuer, JtiSeen.jti == key, JtiSeen.expires_at <= now)
            .values(expires_at=expires_at)
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def purge_expired(self) -> int:
        """Delete rows whose tokens have expired; returns how many went."""
        with self._engine.begin() as connection:
            result = connection.execute(delete(JtiSeen).where(JtiSeen.expires_at <= self._clock()))
            return result.rowcount or 0

    def _purge_if_due(self, now: float) -> None:
        with self._lock:
            if now < self._next_purge:
                return
            self._next_purge = now + self._purge_interval
        try:
            self.purge_expired()
        except Exception as exc:  # noqa: BLE001 - housekeeping must never fail a verified request
            log.warning("could not purge expired jti rows: %s", type(exc).__name__)


def _bounded(value: str, limit: int) -> str:
    """The value as stored: one longer than its column (e.g. a 256-character jti) by its SHA-256."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
