"""Fixtures for the store tests.

Every test that is not about SQLite itself takes its database from `database_url`, so the same tests run
against PostgreSQL once that fixture is parametrised with a real server's URL (the lead wires that up;
today it yields a SQLite file in the test's tmp dir). A URL handed out here must point at a database no
other test is writing to at the same time; the tests also use fresh uuids and rule IDs, so leftovers from
an earlier test do not change their counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service.persistence import Store


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    built = Store(database_url, hash_key="test-key")
    yield built
    built.close()
