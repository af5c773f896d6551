"""InMemoryReplayCache: atomic first-use detection, per issuer, forgotten after the token's expiry."""

from __future__ import annotations

import threading

from cds_service.auth import InMemoryReplayCache, ReplayCache
from tests.auth.conftest import NOW, FakeClock


def test_second_use_is_seen_and_jti_is_scoped_by_issuer():
    cache = InMemoryReplayCache(clock=FakeClock())
    assert cache.seen_before("iss-a", "j", NOW + 60) is False
    assert cache.seen_before("iss-a", "j", NOW + 60) is True
    assert cache.seen_before("iss-b", "j", NOW + 60) is False


def test_entries_are_evicted_after_expiry():
    clock = FakeClock()
    cache = InMemoryReplayCache(clock=clock)
    cache.seen_before("iss", "short", NOW + 10)
    cache.seen_before("iss", "long", NOW + 1000)
    clock.advance(9)
    assert cache.seen_before("iss", "short", NOW + 10) is True
    clock.advance(1)
    assert cache.seen_before("iss", "other", NOW + 1000) is False
    assert len(cache) == 2  # "short" is gone, "long" and "other" remain
    assert cache.seen_before("iss", "long", NOW + 1000) is True


def test_concurrent_first_use_is_granted_exactly_once():
    cache = InMemoryReplayCache(clock=FakeClock())
    start = threading.Barrier(16)
    results: list[bool] = []

    def present() -> None:
        start.wait()
        results.append(cache.seen_before("iss", "race", NOW + 60))

    threads = [threading.Thread(target=present) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] + [True] * 15


def test_in_memory_cache_satisfies_the_protocol():
    cache: ReplayCache = InMemoryReplayCache()
    assert cache.seen_before("iss", "j", NOW) is False
