"""The Admin page's registry forms in a real headless Chromium, against the demo warehouse: an admin adds a
site, edits a pilot chosen from the list (prefilled), and sees the validator's refusal; no console errors.

Run with `pytest --headless tests/dashboard/test_browser_registry_forms.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_helpers import ADMIN
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from test_browser import _set_lang, _severe, _start

from pilot_roi.errors import Problem
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _type(dash_duo, element_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    element = dash_duo.find_element(f"#{element_id}")
    dash_duo.clear_input(element)  # a React-controlled field ignores Selenium's clear()
    element.send_keys(text)


def _click(dash_duo, element_id: str) -> None:  # type: ignore[no-untyped-def]
    element = dash_duo.find_element(f"#{element_id}")
    # Instant: Bootstrap's smooth scrolling would still be moving when the click lands.
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()


def test_admin_adds_a_site_and_edits_a_pilot_through_the_forms(dash_duo, demo_warehouse: Path) -> None:
    _start(dash_duo, demo_warehouse, ADMIN)
    _set_lang(dash_duo, "kk")
    dash_duo.driver.get(dash_duo.server.url + "/admin")
    dash_duo.wait_for_text_to_equal(".page-title", t("dash.admin.title", "kk"), timeout=20)
    dash_duo.wait_for_element("#admin-form-site-code", timeout=20)

    _type(dash_duo, "admin-form-site-code", "KMG-BRW")
    Select(dash_duo.find_element("#admin-form-site-subsidiary")).select_by_value("KMG")
    _type(dash_duo, "admin-form-site-name_kk", "Жаңа нысан")
    _click(dash_duo, "admin-form-site-save")
    dash_duo.wait_for_contains_text(
        "#admin-form-site-result", t("dash.admin.form.site.saved", "kk", code="KMG-BRW"), timeout=20
    )
    # The new site is offered at once for editing and as a pilot's control.
    dash_duo.wait_for_element("#admin-form-site-pick option[value='KMG-BRW']", timeout=20)

    dash_duo.driver.find_element(By.LINK_TEXT, t("dash.admin.form.pilot.tab", "kk")).click()
    Select(dash_duo.wait_for_element("#admin-form-pilot-pick", timeout=10)).select_by_value("KMG-EN-02")
    dash_duo.wait_for_text_to_equal("#admin-form-pilot-sites", "KMG-PNHZ, 2025-02-03", timeout=20)
    _type(dash_duo, "admin-form-pilot-sites", "KMG-PNHZ, 2020-01-01")
    _click(dash_duo, "admin-form-pilot-save")
    refusal = Problem(
        "registry.go_live_too_early", "pilots[0].sites[0].go_live", {"value": "2020-01-01", "data_start": "2023-01-01"}
    ).render("kk")
    dash_duo.wait_for_contains_text("#admin-form-pilot-result", refusal, timeout=20)
    assert _severe(dash_duo) == []

    con = connect(demo_warehouse)
    try:
        assert con.execute("SELECT name_kk FROM sites WHERE code = 'KMG-BRW'").fetchall() == [("Жаңа нысан",)]
        assert con.execute(
            "SELECT strftime(go_live, '%Y-%m-%d') FROM pilot_treated_sites WHERE pilot_code = 'KMG-EN-02'"
        ).fetchall() == [("2025-02-03",)]
    finally:
        con.close()
