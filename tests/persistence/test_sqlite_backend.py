"""SQLite settings that make an acknowledged write durable, and the URL handling around backends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from cds_service.persistence import Store
from cds_service.persistence.engine import normalise_url


def test_every_pooled_connection_uses_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    connections = [store.engine.connect() for _ in range(3)]  # three distinct pooled connections
    try:
        for connection in connections:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        for connection in connections:
            connection.close()


def test_the_directory_of_the_database_file_is_created(tmp_path: Path) -> None:
    Store(f"sqlite:///{tmp_path / 'var' / 'nested' / 'store.sqlite3'}")
    assert (tmp_path / "var" / "nested" / "store.sqlite3").is_file()


def test_an_in_memory_database_works_for_quick_local_runs() -> None:
    store = Store("sqlite://")
    assert (
        store.record_feedback(
            "svc",
            [
                {
                    "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-01-01T00:00:00Z",
                }
            ],
        )
        == 1
    )
    assert store.replay_cache().seen_before("iss", "jti-1", 4_000_000_000.0) is False
    assert store.replay_cache().seen_before("iss", "jti-1", 4_000_000_000.0) is True


def test_a_plain_postgresql_url_means_psycopg_3() -> None:
    assert normalise_url("postgresql://cds:pw@db/bonemet").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://cds:pw@db/bonemet").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///var/x.sqlite3").drivername == "sqlite"
