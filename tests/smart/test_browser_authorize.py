"""The test EHR's authorization in real headless Chromium: cookies, redirects and the automatic login
work in a browser, not only in `requests`, so the app's launch test fails only for the app's reasons."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.browser.chromium import chromium_page
from tests.smart.oauth_flow import code_request, exchange, new_verifier, session, smart_configuration

pytestmark = [pytest.mark.browser, pytest.mark.fhirserver, pytest.mark.xdist_group("smart")]
DEMO_01 = "demo-01-new-bm"


class Callback(BaseHTTPRequestHandler):
    """The app's redirect URI (Playwright's routes do not see the end of a redirect chain)."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"app callback")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        """Silent: the query holds the authorization code."""


@pytest.fixture(scope="module")
def redirect_uri() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/app/callback"
    server.shutdown()
    thread.join(timeout=5)


def test_an_ehr_launch_completes_in_chromium_and_the_token_reads_the_patient(smart_ehr, redirect_uri):
    smart_ehr.load_demo(DEMO_01)
    smart_ehr.register_client("browser-app", redirect_uri)
    verifier = new_verifier()
    request = code_request(
        "browser-app", "launch patient/*.rs", verifier, "st-9", launch=smart_ehr.launch(DEMO_01, "ctx")
    )
    endpoint = smart_configuration(session(), smart_ehr.iss)["authorization_endpoint"]
    url = f"{endpoint}?{urlencode({'redirect_uri': redirect_uri, 'aud': smart_ehr.iss, **request})}"
    with chromium_page(1000) as page:
        page.goto(url)
        page.wait_for_url(lambda url: url.startswith(redirect_uri))
        callback = page.url
    params = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    assert params["state"] == "st-9"
    token = exchange(session(), smart_ehr.iss, params["code"], redirect_uri, verifier, "browser-app").json()
    assert (token["patient"], token["appContext"]) == (DEMO_01, "ctx")
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    patient = session().get(f"{smart_ehr.iss}/Patient/{DEMO_01}", headers=headers, timeout=30)
    assert patient.status_code == 200 and patient.json()["id"] == DEMO_01
