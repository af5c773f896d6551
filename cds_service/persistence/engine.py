"""Builds the SQLAlchemy engine with settings that suit each backend, and creates the tables.

SQLite: WAL journal (readers never block the one writer) and `synchronous=FULL`, so a commit is on disk
before it returns: feedback acknowledged with 200 survives a killed worker or a power cut. A busy timeout
lets the workers of one host queue for the write lock instead of failing.

PostgreSQL: a small pool per process (gunicorn runs several), pre-ping so a connection the server dropped
is replaced instead of failing a request, a short pool and connect timeout so a database outage costs a
request seconds, not minutes, and a statement timeout so a stuck query cannot hold a worker.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from cds_service.persistence.models import Base

SQLITE_BUSY_TIMEOUT_MS = 5000
POOL_TIMEOUT_SECONDS = 5
PG_CONNECT_TIMEOUT_SECONDS = 5
PG_STATEMENT_TIMEOUT_MS = 5000
SCHEMA_LOCK_KEY = 0x626F6E656D6574  # "bonemet": serialises create_all across instances on PostgreSQL


def normalise_url(database_url: str) -> URL:
    """`postgresql://` means psycopg 3 here (the driver we ship), not SQLAlchemy's default psycopg2."""
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def build_engine(database_url: str) -> Engine:
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() == "postgresql":
        return _postgresql_engine(url)
    raise ValueError(f"unsupported database backend {url.get_backend_name()!r}")


def _sqlite_engine(url: URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    }
    if in_memory:
        options["poolclass"] = StaticPool  # one shared connection, or every checkout sees an empty database
    else:
        Path(str(url.database)).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        options.update(pool_size=5, max_overflow=10, pool_timeout=POOL_TIMEOUT_SECONDS)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
    return engine


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return on_connect


def _postgresql_engine(url: URL) -> Engine:
    return create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS,
            "application_name": "bonemet-cds",
            "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}",
        },
    )


def create_schema(engine: Engine, *, attempts: int = 3) -> None:
    """`create_all`, safe when several workers start at once on one database.

    On PostgreSQL an advisory lock makes the instances take turns; on SQLite two workers can both see a
    table missing and one then fails to create it, so a failed attempt is retried and finds it there.
    """
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                Base.metadata.create_all(connection)
            return
        except DBAPIError:
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)
