"""The preview page in a real headless Chromium: click a demo patient, see its cards as an EHR shows them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cds_service.app import create_app
from tests.browser.chromium import ARTIFACTS, chromium_page, served
from tests.conftest import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    with served(create_app(make_settings(tmp_path_factory.mktemp("preview")))) as url:
        yield url


@pytest.fixture(scope="module")
def page(base_url):
    with chromium_page(1200) as page:
        yield page


def test_status_page_lists_services_and_demo_patients(page, base_url):
    page.goto(base_url + "/")
    assert page.locator("#status").inner_text().count("bonemet-") >= 3
    assert page.locator("a.button").count() >= 12


def test_clicking_a_patient_shows_its_cards_with_the_indicator_colour(page, base_url):
    page.goto(base_url + "/")
    page.click("#run-demo-04-cord-compression")
    card = page.locator('article.card[data-rule-id="SPINAL-CORD-COMPRESSION"]')
    card.wait_for()
    assert card.get_attribute("data-indicator") == "critical"
    colour = card.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert colour == "rgb(220, 38, 38)"  # the critical red of preview.css
    assert card.locator(".detail table").count() >= 1  # the Evidence table, rendered from Markdown
    assert card.locator(".suggestions li").count() >= 1
    assert page.locator("article.card").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview.png"), full_page=True)
    assert page.errors == []  # no CSP violation or script error on the page


def test_a_patient_with_no_lung_cancer_shows_no_cards(page, base_url):
    page.goto(base_url + "/")
    page.click("#run-demo-12-no-lung-cancer")
    page.locator("#no-cards").wait_for()
    assert page.locator("article.card").count() == 0


def test_several_cards_are_ordered_critical_warning_info(page, base_url):
    page.goto(base_url + "/")
    page.click("#run-demo-01-new-bm")
    page.locator("article.card").first.wait_for()
    indicators = page.locator("article.card").evaluate_all("els => els.map(e => e.dataset.indicator)")
    order = {"critical": 0, "warning": 1, "info": 2}
    assert len(indicators) == 4
    assert indicators == sorted(indicators, key=order.__getitem__)
