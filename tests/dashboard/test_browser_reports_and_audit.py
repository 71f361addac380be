"""A reviewer's pages in a real headless Chromium against the demo warehouse: the Reports page opens on the latest
year with data and keeps the year the reviewer picks; the audit log's details read as lines of words.

Run with `pytest --headless tests/dashboard/test_browser_reports_and_audit.py`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dashboard_helpers import REVIEWER
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from test_browser import _set_lang, _severe, _start

from pilot_roi.i18n import t
from pilot_roi.reports import latest_year
from pilot_roi.warehouse import connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _year(dash_duo) -> str:  # type: ignore[no-untyped-def]
    return Select(dash_duo.find_element("#reports-year")).first_selected_option.get_attribute("value")


def test_the_reports_page_opens_on_the_latest_year_with_data_and_keeps_the_users_choice(
    dash_duo, demo_warehouse: Path
) -> None:
    """It opened on this calendar year (2026), whose report counts no realized gain: the demo's data end in October
    2025. It now opens on 2025; a year the reviewer picks stays picked across pages and a reload."""
    con = connect(demo_warehouse)
    try:
        latest = latest_year(con)
    finally:
        con.close()
    assert latest == 2025
    _start(dash_duo, demo_warehouse, REVIEWER)
    _set_lang(dash_duo, "en")
    dash_duo.driver.get(dash_duo.server.url + "/reports")
    dash_duo.wait_for_element("#reports-year", timeout=20)
    assert _year(dash_duo) == str(latest)
    dash_duo.wait_for_contains_text(
        "#reports-freeze-status", t("dash.reports.not_frozen", "en", year=latest), timeout=20
    )
    Select(dash_duo.find_element("#reports-year")).select_by_value(str(latest - 1))
    dash_duo.wait_for_contains_text(
        "#reports-freeze-status", t("dash.reports.not_frozen", "en", year=latest - 1), timeout=20
    )
    dash_duo.find_element("#shell-nav-portfolio").click()  # away and back, inside the app
    dash_duo.wait_for_element("#portfolio-forest", timeout=20)
    dash_duo.driver.get(dash_duo.server.url + "/reports")
    dash_duo.wait_for_element("#reports-year", timeout=20)
    dash_duo.wait_for_contains_text(
        "#reports-freeze-status", t("dash.reports.not_frozen", "en", year=latest - 1), timeout=20
    )
    assert _year(dash_duo) == str(latest - 1)
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text(
        "#reports-freeze-status", t("dash.reports.not_frozen", "en", year=latest - 1), timeout=20
    )
    assert _year(dash_duo) == str(latest - 1)
    assert _severe(dash_duo) == []


def test_the_audit_details_read_as_lines_of_words(dash_duo, demo_warehouse: Path) -> None:
    """The details column showed the stored JSON on one line, cut at 300 characters. Each key now has its own line,
    in the reader's words, and a long value (a file's SHA-256) wraps inside the column."""
    _start(dash_duo, demo_warehouse, REVIEWER)
    for lang in ("ru", "en"):
        _set_lang(dash_duo, lang)
        dash_duo.driver.get(dash_duo.server.url + "/audit")
        dash_duo.wait_for_element("td[data-dash-column=details]", timeout=20)
        time.sleep(0.3)
        cells = dash_duo.driver.find_elements(By.CSS_SELECTOR, "td[data-dash-column=details]")
        uploads = [c for c in cells if c.text.startswith(t("dash.audit.detail.upload_id", lang).capitalize() + ":")]
        assert uploads, (lang, [c.text for c in cells[:5]])
        cell = uploads[0]
        lines = cell.text.split("\n")
        assert len(lines) == 8, lines  # the upload, its status, SHA-256 and five row counts, one a line
        assert lines[1].startswith(t("dash.audit.detail.status", lang).capitalize() + ": ")
        assert "{" not in cell.text and '"' not in cell.text
        line_height = float(
            dash_duo.driver.execute_script("return parseFloat(getComputedStyle(arguments[0]).lineHeight) || 16", cell)
        )
        assert cell.size["height"] >= 7 * line_height, (cell.size, line_height)
        # the table fits the page's width (the hash wraps instead of widening the column past it)
        table_width = dash_duo.driver.execute_script(
            "return document.querySelector('#audit-events-table .dash-spreadsheet').getBoundingClientRect().width"
        )
        container = dash_duo.driver.execute_script(
            "return document.querySelector('#audit-table').getBoundingClientRect().width"
        )
        assert table_width <= container + 1, (table_width, container)
    assert _severe(dash_duo) == []
