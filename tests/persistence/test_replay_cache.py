"""The database replay cache: a JWT id is accepted once, by any worker or instance sharing the database."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import func, select

from cds_service.persistence import JtiSeen, SqlReplayCache, Store

ISSUER = "https://ehr.example.org"
NOW = 1_800_000_000.0


def soon() -> float:
    """An expiry ahead of the real clock, for caches that read it."""
    return time.time() + 360


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def jti() -> str:
    return str(uuid.uuid4())


def rows_for(store: Store, token_id: str) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).where(JtiSeen.jti == token_id)).scalar_one()


def test_a_jti_is_new_once_and_a_replay_after_that(store: Store) -> None:
    cache, token_id = store.replay_cache(), jti()
    assert cache.seen_before(ISSUER, token_id, soon()) is False
    assert cache.seen_before(ISSUER, token_id, soon()) is True


def test_the_same_jti_from_another_issuer_is_a_different_token(store: Store) -> None:
    cache, token_id = store.replay_cache(), jti()
    assert cache.seen_before(ISSUER, token_id, soon()) is False
    assert cache.seen_before("https://other-ehr.example.org", token_id, soon()) is False


def test_a_token_used_on_one_instance_is_refused_by_another_on_the_same_database(database_url: str) -> None:
    first, second = Store(database_url), Store(database_url)
    token_id = jti()
    assert first.replay_cache().seen_before(ISSUER, token_id, soon()) is False
    assert second.replay_cache().seen_before(ISSUER, token_id, soon()) is True


def test_simultaneous_uses_of_one_token_get_exactly_one_acceptance(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(2)]
    token_id, results, start = jti(), [], threading.Barrier(8)

    def use(index: int) -> None:
        start.wait()
        results.append(stores[index % 2].replay_cache().seen_before(ISSUER, token_id, soon()))

    threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] + [True] * 7


def test_an_expired_entry_does_not_make_a_new_token_a_replay(store: Store) -> None:
    clock = Clock()
    cache, token_id = SqlReplayCache(store.engine, clock=clock, purge_batch=0), jti()
    assert cache.seen_before(ISSUER, token_id, NOW + 60) is False
    clock.now = NOW + 61  # the first token can no longer pass; its row is still there
    assert cache.seen_before(ISSUER, token_id, NOW + 400) is False
    assert cache.seen_before(ISSUER, token_id, NOW + 400) is True
    assert rows_for(store, token_id) == 1


def test_expired_entries_are_purged_on_the_next_write_and_live_ones_kept(store: Store) -> None:
    clock = Clock()
    cache = SqlReplayCache(store.engine, clock=clock)
    old, live = jti(), jti()
    cache.seen_before(ISSUER, old, NOW + 10)
    cache.seen_before(ISSUER, live, NOW + 600)
    clock.now = NOW + 11  # past `old`'s expiry
    cache.seen_before(ISSUER, jti(), NOW + 400)
    assert (rows_for(store, old), rows_for(store, live)) == (0, 1)


def all_rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(JtiSeen)).scalar_one()


def test_each_write_purges_a_bounded_batch_of_a_backlog(store: Store) -> None:
    """A backlog (say, rows left while the purge failed) is worked off a batch per write, never at once."""
    clock = Clock()
    cache = SqlReplayCache(store.engine, clock=clock, purge_batch=0)
    for _ in range(25):
        cache.seen_before(ISSUER, jti(), NOW + 10)
    clock.now = NOW + 20
    bounded = SqlReplayCache(store.engine, clock=clock, purge_batch=10)
    bounded.seen_before(ISSUER, jti(), NOW + 300)
    assert all_rows(store) == 25 - 10 + 1
    bounded.seen_before(ISSUER, jti(), NOW + 300)
    bounded.seen_before(ISSUER, jti(), NOW + 300)
    assert all_rows(store) == 3  # the whole backlog gone, the live rows kept


def test_a_maximal_jti_is_stored_bounded_and_still_recognised(store: Store) -> None:
    cache, long_jti = store.replay_cache(), "j" * 255 + str(uuid.uuid4())
    assert cache.seen_before(ISSUER, long_jti, soon()) is False
    assert cache.seen_before(ISSUER, long_jti, soon()) is True
    assert cache.seen_before(ISSUER, long_jti[:-1], soon()) is False
