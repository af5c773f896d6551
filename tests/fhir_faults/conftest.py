"""Fault injection: the EHR's FHIR server misbehaves, simulated with `responses` at the requests layer.

The service under test is the whole Flask app; only the FHIR server is replaced. Every FHIR URL the
service may read is registered, so a request to anything else (another host, a redirect target) is a
connection error that the tests can see in `mock.calls`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask

from cds_service.app import create_app
from tests.conftest import make_settings
from tests.fhir_server_mode.chart import chart, new_patient_id, of_type, searchset

FHIR_BASE = "https://fhir.test/R4"
DEADLINE_SECONDS = 1.0
MAX_PAGES = 3
# A cut-off is checked against a peer that would hang for tens of seconds, with a margin of seconds: a
# busy 2-core CI machine can be slow by that much, so no test measures tenths (COMMON.md).
CUT_OFF_MARGIN_SECONDS = 8.0


@pytest.fixture
def fault_app(tmp_path: Path) -> Callable[..., Flask]:
    def build(**overrides: Any) -> Flask:
        values: dict[str, Any] = {
            "fhir_allowed_hosts": "https://fhir.test",
            "fhir_deadline_seconds": DEADLINE_SECONDS,
            "fhir_max_pages": MAX_PAGES,
        }
        values.update(overrides)
        app = create_app(make_settings(tmp_path, **values))
        app.config["TESTING"] = True
        return app

    return build


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def search_url(resource_type: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(FHIR_BASE)}/{resource_type}\?.*")


def read_url(resource_type: str, rid: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(FHIR_BASE)}/{resource_type}/{re.escape(rid)}$")


def answering(
    resources: list[dict[str, Any]], next_url: str | None = None
) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    """A `responses` callback answering a search with `resources`, its `self` link echoing the request's
    parameters as a conformant server does (FHIR R4: the parameters actually used)."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps(searchset(resources, next_url=next_url, self_url=request.url))

    return answer


class FakeEhr:
    """One patient's chart behind the mock, with any resource type's answer replaceable by a fault."""

    def __init__(self, mock: responses.RequestsMock, **chart_options: Any):
        self.mock = mock
        self.pid = new_patient_id()
        self.resources = chart(self.pid, **chart_options)

    def serve(self, templates: dict[str, str], faults: dict[str, Callable[[], None]] | None = None) -> None:
        """Register every template's type; `faults` maps a resource type to a function registering its
        faulty answer instead."""
        faults = faults or {}
        for template in templates.values():
            resource_type = re.split(r"[/?]", template, maxsplit=1)[0]
            if resource_type in faults:
                faults.pop(resource_type)()
            elif "?" in template:
                self.mock.add_callback(
                    "GET", search_url(resource_type), answering(of_type(self.resources, resource_type))
                )
            else:
                self.mock.get(
                    read_url(resource_type, self.pid), json=of_type(self.resources, resource_type)[0]
                )
        assert not faults, f"no template reads {sorted(faults)}"

    def calls_to(self, prefix: str) -> int:
        return sum(1 for call in self.mock.calls if call.request.url.startswith(prefix))
