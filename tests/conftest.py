"""Fixtures shared by the whole suite: an app built from test settings, and a client for it.

Tests build their own app (Flask tutorial style), with a SQLite file in a temporary directory, so no
test depends on the machine's environment or on another test's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service.app import create_app
from cds_service.settings import Settings


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_mode": "off",
        "database_url": f"sqlite:///{tmp_path / 'bonemet-test.sqlite3'}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def app_factory(tmp_path: Path) -> Callable[..., Flask]:
    """Build an app with test settings; keyword arguments override Settings fields."""

    def build(**overrides: Any) -> Flask:
        app = create_app(make_settings(tmp_path, **overrides))
        app.config["TESTING"] = True
        return app

    return build


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    yield app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
