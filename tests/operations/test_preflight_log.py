"""A browser's CORS preflight (OPTIONS) before a hook call is not a hook call: counting it as one put an
empty "answered 200, rule_ids []" line before every sandbox call and inflated the hook call metrics."""

from __future__ import annotations

import logging

from cds_service.app import create_app
from tests.conftest import make_settings

SERVICE_URL = "/cds-services/bonemet-patient-view"


def _events(caplog) -> list[str]:
    return [getattr(record, "event", "") for record in caplog.records]


def test_a_preflight_is_logged_as_a_plain_request_not_as_a_hook_call(tmp_path, caplog) -> None:
    client = create_app(make_settings(tmp_path)).test_client()
    headers = {"Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "POST"}
    with caplog.at_level(logging.INFO):
        response = client.open(SERVICE_URL, method="OPTIONS", headers=headers)
    assert response.status_code < 300
    events = _events(caplog)
    assert "hook-call" not in events
    assert "http-request" in events


def test_a_hook_call_is_still_logged_as_one(tmp_path, caplog) -> None:
    client = create_app(make_settings(tmp_path)).test_client()
    with caplog.at_level(logging.INFO):
        client.post(SERVICE_URL, json={"hook": "patient-view"})
    assert "hook-call" in _events(caplog)
