"""Every demo patient's cards, rendered 1,000 px wide in headless Chromium, fit the ten-second read of
issue 12: no card taller than 450 px, a patient's cards together at most 1,400 px, no date broken across
two lines. Screenshots of every patient go to tests/artifacts/ for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cds_service.app import create_app
from cds_service.demo_catalog import load_index
from tests.browser.chromium import ARTIFACTS, chromium_page, served
from tests.conftest import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
VIEWPORT_WIDTH = 1000
MAX_CARD_PX = 450
MAX_PATIENT_PX = 1400
PATIENT_IDS = [patient.id for patient in load_index().patients]
# Each card's height, and each date cell's count of line boxes (a Range's client rects: one per line).
MEASURE = """() => [...document.querySelectorAll('article.card')].map(card => ({
  rule: card.dataset.ruleId,
  height: card.getBoundingClientRect().height,
  dates: [...card.querySelectorAll('td')]
    .filter(td => /^\\d{4}[-\\u2011]\\d{2}[-\\u2011]\\d{2}$/.test(td.textContent.trim()))
    .map(td => { const r = document.createRange(); r.selectNodeContents(td);
                 return {text: td.textContent.trim(), lines: r.getClientRects().length}; }),
}))"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    with served(create_app(make_settings(tmp_path_factory.mktemp("card-size")))) as url:
        yield url


@pytest.fixture(scope="module")
def page(base_url):
    with chromium_page(VIEWPORT_WIDTH) as page:
        yield page


@pytest.fixture(scope="module")
def measured(page, base_url) -> dict[str, list[dict[str, Any]]]:
    """Each demo patient's preview, loaded once: its cards' heights and date cells, and a screenshot."""
    ARTIFACTS.mkdir(exist_ok=True)
    found = {}
    for patient_id in PATIENT_IDS:
        page.goto(f"{base_url}/preview/patient-view/{patient_id}")
        page.locator("#cards").wait_for()
        found[patient_id] = page.evaluate(MEASURE)
        page.locator("#cards").screenshot(path=str(ARTIFACTS / f"cards-{patient_id}.png"))
    return found


def test_the_story_patients_have_cards_to_measure(measured):
    """Guards the size tests below against passing on an empty page."""
    with_cards = [patient for patient, cards in measured.items() if cards]
    assert len(with_cards) >= 10
    assert all(card["height"] > 50 for cards in measured.values() for card in cards)


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_no_card_is_taller_than_450_px(measured, patient_id):
    heights = {card["rule"]: round(card["height"]) for card in measured[patient_id]}
    assert all(height <= MAX_CARD_PX for height in heights.values()), heights


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_a_patients_cards_fit_in_1400_px(measured, patient_id):
    heights = {card["rule"]: round(card["height"]) for card in measured[patient_id]}
    assert sum(heights.values()) <= MAX_PATIENT_PX, heights


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_no_date_in_an_evidence_table_breaks_across_lines(measured, patient_id):
    dates = [date for card in measured[patient_id] for date in card["dates"]]
    broken = [date["text"] for date in dates if date["lines"] != 1]
    assert broken == []


def test_the_evidence_tables_have_dates_to_check(measured):
    """The date check above must have something to look at."""
    assert sum(len(card["dates"]) for cards in measured.values() for card in cards) >= 10
