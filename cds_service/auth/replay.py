"""Single use of a JWT: the `jti` of every accepted token is remembered until the token could no longer pass.

CDS Hooks requires `jti` "to protect against replay attacks": a bearer token copied from a log or a proxy
must not work a second time. The verifier asks the cache only after every other check has passed, so an
invalid token never uses up a `jti`.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Protocol


class ReplayCache(Protocol):
    """What the verifier needs from a replay store; the SQL-backed store implements the same method.

    `seen_before(issuer, jti, expires_at)` must, atomically, record the pair (issuer, jti) and return
    True if it was already recorded, False if this is its first use. Atomic means two workers presenting
    the same token at the same moment get one False and one True (e.g. an INSERT under a unique key on
    (issuer, jti), treating a duplicate-key error as True). The key includes the issuer because `jti` is
    only unique per issuer. `expires_at` (Unix seconds) is when the token stops being acceptable anyway
    (its `exp` plus the verifier's clock leeway); the entry may be deleted after that, not before.
    """

    def seen_before(self, issuer: str, jti: str, expires_at: float) -> bool: ...


class InMemoryReplayCache:
    """A per-process replay cache for tests and single-process deployments.

    With several worker processes each has its own memory, so a token could be replayed once per
    worker: production deployments use the database-backed cache instead.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], float] = {}
        self._expiries: list[tuple[float, tuple[str, str]]] = []

    def seen_before(self, issuer: str, jti: str, expires_at: float) -> bool:
        key = (issuer, jti)
        with self._lock:
            self._evict(self._clock())
            if key in self._entries:
                return True
            self._entries[key] = expires_at
            heapq.heappush(self._expiries, (expires_at, key))
            return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _evict(self, now: float) -> None:
        """Drop entries whose tokens have expired; a heap keeps this O(log n) per entry, not a full scan."""
        while self._expiries and self._expiries[0][0] <= now:
            _, key = heapq.heappop(self._expiries)
            self._entries.pop(key, None)
