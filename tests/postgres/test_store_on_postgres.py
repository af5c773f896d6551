"""The store's behaviour on PostgreSQL is the behaviour tested on SQLite: the same tests, run here.

The tests of tests/persistence (cards and feedback, the replay cache, durability of acknowledged
feedback) take their database from the `database_url` fixture; tests/postgres/conftest.py points it at
a fresh database on a real PostgreSQL server. Importing them here collects each one a second time,
against PostgreSQL. The SQLite-specific tests (WAL, pragmas) are deliberately not imported.
"""

from __future__ import annotations

from tests.persistence.test_analytics_data import *  # noqa: F403
from tests.persistence.test_durability import *  # noqa: F403
from tests.persistence.test_replay_cache import *  # noqa: F403
from tests.persistence.test_report import *  # noqa: F403
from tests.persistence.test_store import *  # noqa: F403
from tests.postgres.conftest import POSTGRES_MARKS

pytestmark = POSTGRES_MARKS
