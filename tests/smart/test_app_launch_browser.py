"""The full EHR launch of the bone health review in real headless Chromium, against the SMART test EHR
(oidc-provider in front of the test FHIR server, which refuses requests without its token).

The EHR starts a launch for a demo patient with a card's appContext; the browser opens the app's launch
URL in a 1,000 px viewport, the app discovers the endpoints, the browser goes through authorization (login
and consent complete by themselves on the test EHR), the app exchanges the code with PKCE and shows the
review. Checked: the plots hold exactly the chart's calcium, creatinine and ALP results, BMA doses are
marked, the fired rules are the cards the patient-view hook returns for the same patient (read with a
token from the same EHR), and the card's rule is highlighted first. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import base64
import html
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import pytest

from cds_service.app import create_app
from tests.browser.chromium import chromium_page, served
from tests.conftest import make_settings
from tests.smart.test_app_review import (
    ALP_CODES,
    CALCIUM_CODES,
    CREATININE_CODES,
    dose_marks,
    marker_count,
    observations_with,
)

pytestmark = [pytest.mark.browser, pytest.mark.fhirserver, pytest.mark.xdist_group("smart")]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CLIENT_ID = "bonemet-bone-health-review"
PATIENT_VIEW = "/cds-services/bonemet-patient-view"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class EhrPage(BaseHTTPRequestHandler):
    """An EHR page that shows the app in an iframe (`?src=`), as an EHR's chart does."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        src = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
        body = f'<!doctype html><iframe id="app" width="1000" height="800" src="{html.escape(src)}"></iframe>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ehr_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EhrPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def app_url(smart_ehr, ehr_page, tmp_path_factory) -> Iterator[str]:
    settings = make_settings(
        tmp_path_factory.mktemp("smart-app"),
        fhir_allowed_hosts=origin(smart_ehr.iss),
        fhir_deadline_seconds=10.0,
        smart_frame_ancestors=f"'self' {ehr_page}",
    )
    with served(create_app(settings)) as url:
        smart_ehr.register_client(CLIENT_ID, f"{url}/smart/callback")
        yield url


@pytest.fixture(scope="module")
def browser_page(app_url):
    with chromium_page(1000) as page:
        yield page


def launch_in_browser(page, smart_ehr, app_url: str, patient_id: str, app_context: str | None) -> None:
    page.errors.clear()
    launch = smart_ehr.launch(patient_id, app_context=app_context)
    page.goto(f"{app_url}/smart/launch?iss={smart_ehr.iss}&launch={launch}")
    page.wait_for_url(f"{app_url}/smart/review")
    page.locator("#rules").wait_for()


def plot_svg(page, key: str) -> ElementTree.Element:
    src = page.locator(f"#svg-{key}").get_attribute("src")
    assert src and src.startswith("data:image/svg+xml;base64,")
    return ElementTree.fromstring(base64.b64decode(src.split(",", 1)[1]))


def hook_rule_ids(app_url: str, smart_ehr, patient_id: str) -> list[str]:
    """The patient-view hook for the same patient, reading the same EHR with a token it issued."""
    import requests

    token = smart_ehr.token_for(patient_id, "patient/*.rs")
    body = {
        "hook": "patient-view",
        "hookInstance": "0d3c7f2e-1111-4222-8333-944455556666",
        "fhirServer": smart_ehr.iss,
        "fhirAuthorization": {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "patient/*.rs",
            "subject": CLIENT_ID,
        },
        "context": {"userId": "Practitioner/test-practitioner", "patientId": patient_id},
    }
    with requests.Session() as http:
        http.trust_env = False
        response = http.post(app_url + PATIENT_VIEW, json=body, timeout=60)
    assert response.status_code == 200, response.text[:500]
    return [card["source"]["topic"]["code"] for card in response.json()["cards"]]


@pytest.mark.parametrize(
    ("patient_id", "highlighted"),
    [("demo-01-new-bm", "ORAL-EXAM"), ("demo-02-za-kidney", "ZA-RENAL-DOSING")],
)
def test_ehr_launch_shows_the_patients_results_doses_and_the_hooks_rules(
    browser_page, smart_ehr, app_url, patient_id, highlighted
):
    page = browser_page
    bundle = smart_ehr.load_demo(patient_id)
    app_context = f'{{"rule": "{highlighted}", "card": "7b6f4c1e-0000-4000-8000-000000000001"}}'
    launch_in_browser(page, smart_ehr, app_url, patient_id, app_context)

    calcium, creatinine, alp = (plot_svg(page, key) for key in ("calcium", "creatinine", "alp"))
    assert marker_count(calcium, "calcium-points") == observations_with(bundle, CALCIUM_CODES) >= 1
    assert marker_count(creatinine, "creatinine-points") == observations_with(bundle, CREATININE_CODES) >= 1
    assert marker_count(alp, "alp-points") == observations_with(bundle, ALP_CODES) >= 1
    assert page.locator("#table-calcium tr.point").count() == observations_with(bundle, CALCIUM_CODES)

    doses = page.locator("#table-doses tr.dose").count()
    has_bma = any(
        e["resource"]["resourceType"] == "MedicationRequest"
        and "zoledronic" in str(e["resource"].get("medicationCodeableConcept", "")).lower()
        for e in bundle["entry"]
    )
    assert (doses >= 7) if has_bma else (doses == 0)
    assert dose_marks(calcium, "calcium") == dose_marks(alp, "alp") == doses

    fired = page.locator('tr.verdict[data-status="fired"]').evaluate_all(
        "rows => rows.map(r => r.dataset.ruleId)"
    )
    assert sorted(fired) == sorted(hook_rule_ids(app_url, smart_ehr, patient_id))
    assert highlighted in fired
    first = page.locator("tr.verdict").first
    assert first.get_attribute("data-rule-id") == highlighted
    assert first.get_attribute("id") == "highlighted-rule"
    assert page.locator("tr.verdict").count() >= 20

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1000  # fits the EHR's iframe: no horizontal scrolling
    assert page.locator("#unavailable").count() == 0  # every query the hooks make was answered
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"smart-review-{patient_id}.png"), full_page=True)
    assert page.errors == []  # no CSP violation, no script error


def test_the_token_never_reaches_the_browsers_url_or_readable_cookies(browser_page, smart_ehr, app_url):
    page = browser_page
    smart_ehr.load_demo("demo-01-new-bm")
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))
    launch_in_browser(page, smart_ehr, app_url, "demo-01-new-bm", None)
    assert not any("access_token" in url or "token=" in url for url in visited)
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script could read the session
    assert page.locator("#highlighted-rule").count() == 0  # no appContext, nothing highlighted


def test_standalone_launch_reads_the_patient_the_ehr_picks(browser_page, smart_ehr, app_url):
    page = browser_page
    page.errors.clear()
    bundle = smart_ehr.load_demo("demo-02-za-kidney")
    smart_ehr.select_standalone_patient("demo-02-za-kidney")
    try:
        page.goto(f"{app_url}/smart/launch?iss={smart_ehr.iss}")
        page.wait_for_url(f"{app_url}/smart/review")
    finally:
        smart_ehr.select_standalone_patient(None)
    assert page.locator("#table-creatinine tr.point").count() == observations_with(bundle, CREATININE_CODES)
    assert page.locator("#from-card").count() == 0  # no card, no appContext
    assert page.errors == []


def test_the_app_works_framed_by_the_ehr_and_refuses_other_framers(
    browser_page, smart_ehr, app_url, ehr_page
):
    """The EHR shows the app in an iframe: the EHR's page origin (BONEMET_SMART_FRAME_ANCESTORS) may
    frame it; the same page from another origin (`localhost` instead of `127.0.0.1`) may not."""
    page = browser_page
    page.errors.clear()
    smart_ehr.load_demo("demo-01-new-bm")
    launch = smart_ehr.launch("demo-01-new-bm", app_context='{"rule": "MDT-REFERRAL"}')
    src = f"{app_url}/smart/launch?iss={smart_ehr.iss}&launch={launch}"
    page.goto(f"{ehr_page}/chart.html?{urlencode({'src': src})}")
    frame = page.frame_locator("#app")
    frame.locator("#from-card").wait_for()
    assert frame.locator("#highlighted-rule").get_attribute("data-rule-id") == "MDT-REFERRAL"
    assert frame.locator("#svg-calcium").count() == 1
    assert page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "smart-review-framed-by-ehr.png"))

    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "frame-ancestors" in msg.text else None)
    other = ehr_page.replace("127.0.0.1", "localhost")
    page.goto(f"{other}/chart.html?{urlencode({'src': app_url + '/smart/review'})}")
    page.wait_for_timeout(1000)
    assert page.frame_locator("#app").locator("#rules").count() == 0
    assert blocked  # Chromium reports the CSP refusal
