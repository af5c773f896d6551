"""The analytics page: off by default, opened only by the admin credential (never by an EHR's JWT), and,
in a real headless Chromium, plots that render from stored feedback with no script and no network."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from cds_service.app import create_app
from tests.browser.chromium import CHROMIUM, LAUNCH_ARGS
from tests.conftest import make_settings
from tests.persistence.factories import accepted, card, overridden, unique

TOKEN = "analytics-admin-token-0123456789"  # noqa: S105 - a test credential
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def test_the_page_does_not_exist_without_an_admin_token(app_factory) -> None:
    client = app_factory().test_client()
    assert client.get("/admin/analytics", headers=basic("admin", TOKEN)).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("admin", "wrong-token-wrong-token"),
        basic("root", TOKEN),
        {"Authorization": f"Bearer {TOKEN}"},
        {"Authorization": "Bearer eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJlaHIifQ.c2ln"},
        {"Authorization": "Basic !!!not-base64"},
    ],
    ids=["none", "wrong-token", "wrong-user", "token-as-bearer", "ehr-jwt", "garbage"],
)
def test_anything_but_the_admin_credential_is_refused(app_factory, headers) -> None:
    client = app_factory(admin_token=TOKEN).test_client()
    response = client.get("/admin/analytics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert b"<table" not in response.data


def test_the_admin_credential_opens_it(app_factory) -> None:
    response = (
        app_factory(admin_token=TOKEN).test_client().get("/admin/analytics", headers=basic("admin", TOKEN))
    )
    assert response.status_code == 200
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none' covers it
    assert response.data.count(b'src="data:image/svg+xml;base64,') == 3


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    app = create_app(make_settings(tmp_path_factory.mktemp("analytics"), admin_token=TOKEN))
    store = app.extensions["bonemet"].store
    rule = unique("ZA-RENAL-DOSING")
    cards = [card(rule) for _ in range(3)]
    store.record_cards("bonemet-order-sign", str(uuid.uuid4()), "analytics-patient", cards)
    store.record_feedback(
        "bonemet-order-sign",
        [overridden(cards[0]["uuid"], "renal-team-dosed"), accepted(cards[1]["uuid"])],
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", rule
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_page_renders_its_plots_in_chromium_and_refuses_without_credentials(seeded_server) -> None:
    base_url, rule = seeded_server
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            anonymous = browser.new_context()  # the browser's own request, with no credentials to offer
            assert anonymous.request.get(base_url + "/admin/analytics").status == 401
            context = browser.new_context(
                viewport={"width": 1000, "height": 900},
                http_credentials={"username": "admin", "password": TOKEN},
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            assert page.goto(base_url + "/admin/analytics").status == 200
            plots = page.locator("img.plot")
            assert plots.count() == 3
            widths = plots.evaluate_all("images => images.map(i => i.complete ? i.naturalWidth : 0)")
            assert all(width > 100 for width in widths), widths
            row = page.locator(f"#rules tr:has-text('{rule}')")
            assert row.locator("td").all_inner_texts()[:4] == ["3", "1", "1", "50%"]
            assert "renal team dosed (1)" in row.inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "analytics.png"), full_page=True)
            assert errors == []  # no CSP violation
        finally:
            browser.close()
