"""The JWT replay cache in the database, so every worker and every instance sharing it refuses a replay.

`seen_before` is one INSERT under the unique key (issuer, jti): the database, not the process, decides
which of two simultaneous uses of a token came first. A duplicate key means the token was used before,
unless the stored row has expired, in which case one conditional UPDATE reclaims it (still atomic: only
one caller can move an expired row forward).

Every write also deletes up to `PURGE_BATCH` expired rows, oldest first, in its own short transaction: one
row in, up to a hundred out, so the table stays as small as the tokens still live (the verifier caps a
token's life at `BONEMET_JWT_MAX_LIFETIME_SECONDS`) without any call paying for a long backlog at once.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cds_service.persistence.models import JtiSeen

log = logging.getLogger(__name__)

MAX_STORED_JTI_CHARS = 200
MAX_STORED_ISSUER_CHARS = 500
PURGE_BATCH = 100


class SqlReplayCache:
    """Implements `cds_service.auth.replay.ReplayCache` on the store's database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        purge_batch: int = PURGE_BATCH,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._purge_batch = purge_batch

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
        self._purge_some()
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

    def purge_expired(self, limit: int | None = None) -> int:
        """Delete rows whose tokens have expired (at most `limit`, oldest first); returns how many went."""
        now = self._clock()
        condition = JtiSeen.expires_at <= now
        if limit is not None:
            oldest = select(JtiSeen.id).where(condition).order_by(JtiSeen.expires_at).limit(limit)
            condition = JtiSeen.id.in_(oldest.scalar_subquery())
        with self._engine.begin() as connection:
            result = connection.execute(delete(JtiSeen).where(condition))
            return result.rowcount or 0

    def _purge_some(self) -> None:
        try:
            self.purge_expired(self._purge_batch)
        except Exception as exc:  # noqa: BLE001 - housekeeping must never fail a verified request
            log.warning("could not purge expired jti rows: %s", type(exc).__name__)


def _bounded(value: str, limit: int) -> str:
    """The value as stored: one longer than its column (e.g. a 256-character jti) by its SHA-256."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
