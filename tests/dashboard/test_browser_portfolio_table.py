"""The portfolio's estimates table in a real headless Chromium, against the demo warehouse: the user pages to page
2, sorts and searches; the rows change as the server pages them and the console stays clean.

The demo's 19 pilot-metrics fit on one page of 25: the test shrinks the page size to 5 (the dashboard runs in
this process) so that the paging is real.

Run with `pytest --headless tests/dashboard/test_browser_portfolio_table.py`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from dashboard_helpers import EXECUTIVE
from dashboards.components import estimates_table
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from test_browser import _set_lang, _severe, _start

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _rows(dash_duo) -> list[str]:
    links = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#portfolio-table tbody tr td:first-child a")
    return [link.get_attribute("href").rsplit("/pilots/", 1)[1] for link in links]


def _click_page(dash_duo, label: str) -> None:
    button = next(
        b
        for b in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#portfolio-table-pager .page-link")
        if b.text.strip() == label
    )
    # Instant: Bootstrap's smooth scrolling would still be moving when the click lands.
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    button.click()


def test_user_pages_sorts_and_searches_the_estimates(
    dash_duo, demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(estimates_table, "PAGE_SIZE", 5)
    _start(dash_duo, demo_warehouse, EXECUTIVE)
    _set_lang(dash_duo, "en")
    dash_duo.wait_for_text_to_equal("#portfolio-table-caption", "Rows 1–5 of 19 · page 1 of 4", timeout=30)
    first = _rows(dash_duo)
    assert len(first) == 5

    _click_page(dash_duo, "2")
    dash_duo.wait_for_text_to_equal("#portfolio-table-caption", "Rows 6–10 of 19 · page 2 of 4", timeout=20)
    second = _rows(dash_duo)
    assert len(second) == 5 and second != first
    active = dash_duo.find_element("#portfolio-table-pager .page-item.active")
    assert active.text.strip().startswith("2")
    if os.environ.get("PILOT_ROI_TEST_SCREENSHOTS"):
        dash_duo.driver.set_window_size(1400, 2600)
        time.sleep(1.0)
        dash_duo.driver.save_screenshot(os.path.join(os.environ["PILOT_ROI_TEST_SCREENSHOTS"], "portfolio-table.png"))

    # a new sort goes back to page 1, in the new order
    dash_duo.select_dcc_dropdown("#portfolio-table-sort", "Pilot: code A–Z")
    dash_duo.wait_for_text_to_equal("#portfolio-table-caption", "Rows 1–5 of 19 · page 1 of 4", timeout=20)
    by_code = _rows(dash_duo)
    assert by_code == sorted(by_code)

    # a search keeps the matching pilots (the box sends its text on Enter)
    code = by_code[0]
    search = dash_duo.find_element("#portfolio-table-search")
    search.send_keys(code, Keys.ENTER)
    dash_duo.wait_for_contains_text("#portfolio-table-caption", "page 1 of 1", timeout=20)
    assert set(_rows(dash_duo)) == {code}
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#portfolio-table-pager .page-link")  # one page: none

    assert "Traceback" not in dash_duo.driver.page_source
    assert _severe(dash_duo) == []
