"""The real FHIR R4 server (Medplum, in memory) for the whole session, and apps allowed to read it.

The server pages every search at PAGE_SIZE results, so ordinary calls already follow `next` links.
Each test loads its own patient (fresh id), so tests share the server without sharing data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from cds_service.app import create_app
from cds_service.local_fhir_server import LocalFhirServer
from tests.conftest import make_settings

PAGE_SIZE = 3


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[LocalFhirServer]:
    server = LocalFhirServer(page_size=PAGE_SIZE)
    server.start()
    yield server
    server.stop()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def server_app(tmp_path: Path, fhir_server: LocalFhirServer) -> Callable[..., Flask]:
    """Build an app whose BONEMET_FHIR_ALLOWED_HOSTS is the local server's origin (overridable)."""

    def build(**overrides: Any) -> Flask:
        # A roomy deadline: these tests are about what is read, not how fast (tests/fhir_faults/ is);
        # a loaded CI machine must not turn them into deadline tests.
        values: dict[str, Any] = {
            "fhir_allowed_hosts": origin(fhir_server.base_url),
            "fhir_deadline_seconds": 10.0,
        }
        values.update(overrides)
        app = create_app(make_settings(tmp_path, **values))
        app.config["TESTING"] = True
        return app

    return build
