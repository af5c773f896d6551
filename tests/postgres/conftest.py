"""A real PostgreSQL server for the whole session, and a fresh database on it for every test.

The server comes from the Debian package (`initdb`, `pg_ctl`; see pg_server.py). Missing binaries fail
the tests with the reason instead of skipping them: a green run must mean the store was exercised on
PostgreSQL. Every test module here carries the `postgres` mark and one xdist group, so under
`pytest -n 2 --dist loadgroup` one worker starts one server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cds_service.persistence import Store
from tests.postgres.pg_server import PostgresServer, PostgresUnavailable

POSTGRES_MARKS = [pytest.mark.postgres, pytest.mark.xdist_group("postgres")]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    """A new database per test, so counts and generated keys never see another test's rows."""
    return postgres_server.create_database("store")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    built = Store(database_url, hash_key="test-key")
    yield built
    built.close()
