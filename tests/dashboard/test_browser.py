"""The dashboard in a real headless Chromium (Debian's), against the real demo warehouse and estimates.

Run with `pytest --headless -m browser tests/dashboard`.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from dash.testing.wait import until
from dashboard_helpers import ADMIN, ENGINEER, REPO_ROOT
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = (
    ("/", "dash.portfolio.title"),
    ("/pilots/KMG-EN-02", None),
    ("/upload", "dash.upload.title"),
    ("/quality", "dash.quality.title"),
    ("/reports", "dash.reports.title"),
    ("/admin", "dash.admin.title"),
    ("/audit", "dash.audit.title"),
)


def _start(dash_duo, warehouse: Path, user: tuple[str, str]):  # type: ignore[no-untyped-def]
    from dashboards.app import create_app

    app = create_app(warehouse, secret_key="x" * 40)
    dash_duo.start_server(app, navigate=False)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/login")
    driver.find_element(By.ID, "username").send_keys(user[0])
    driver.find_element(By.ID, "password").send_keys(user[1])
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    dash_duo.wait_for_element("#shell-lang-select", timeout=20)
    # The anonymous sign-in page's /favicon.ico request is refused (401) by design of the security layer;
    # drain that entry so the assertions below see only the signed-in app's console.
    dash_duo.get_logs()
    return app


def _set_lang(dash_duo, lang: str) -> None:  # type: ignore[no-untyped-def]
    """Choose `lang` and wait until the server has answered the choice (its answer carries the cookie and the kept
    language). The sign-out button's word differs in every language; the navbar's "Портфель" is the same in Russian
    and Kazakh, so waiting on it alone let the test leave the page before the choice was answered."""
    Select(dash_duo.find_element("#shell-lang-select")).select_by_value(lang)
    dash_duo.wait_for_text_to_equal("#shell-sign-out", t("dash.sign_out", lang), timeout=20)
    dash_duo.wait_for_text_to_equal("#shell-nav-portfolio", t("dash.nav.portfolio", lang), timeout=20)


def _severe(dash_duo) -> list[dict]:  # type: ignore[no-untyped-def]
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def test_every_page_renders_without_console_errors_in_every_language(dash_duo, demo_warehouse: Path) -> None:
    _start(dash_duo, demo_warehouse, ADMIN)
    for lang in ("ru", "kk", "en"):
        _set_lang(dash_duo, lang)
        for path, title_key in PAGES:
            dash_duo.driver.get(dash_duo.server.url + path)
            dash_duo.wait_for_element(".page-title", timeout=20)
            if title_key:
                dash_duo.wait_for_text_to_equal(".page-title", t(title_key, lang), timeout=20)
            time.sleep(0.4)  # let the page's own callbacks finish
            assert dash_duo.find_element("#shell-nav-portfolio").text == t("dash.nav.portfolio", lang)
            assert "Traceback" not in dash_duo.driver.page_source
            assert _severe(dash_duo) == [], f"{path} ({lang})"


def test_language_switch_is_remembered(dash_duo, demo_warehouse: Path) -> None:
    _start(dash_duo, demo_warehouse, ADMIN)
    _set_lang(dash_duo, "kk")
    dash_duo.wait_for_text_to_equal(".page-title", t("dash.portfolio.title", "kk"), timeout=20)
    # the whole bar switches at once, before any reload: the role and the demo badge too (they stayed behind)
    dash_duo.wait_for_text_to_equal("#shell-user", f"{ADMIN[0]} · {t('dash.role.admin', 'kk')}", timeout=10)
    dash_duo.wait_for_text_to_equal("#shell-demo-badge", t("dash.demo_badge", "kk"), timeout=10)
    # read again by waiting: the page may be mid-render (a loading state shows no text) right after the bar switched
    kazakh = t("dash.portfolio.title", "kk")
    dash_duo.wait_for_text_to_equal(".page-title", kazakh, timeout=20)
    assert any(letter in kazakh.lower() for letter in "әғқңөұүһі")  # a Kazakh title, not a copy of the Russian one
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#shell-sign-out", t("dash.sign_out", "kk"), timeout=20)
    dash_duo.wait_for_text_to_equal(".page-title", kazakh, timeout=20)
    con = connect(demo_warehouse)
    try:  # remembered for the account too, not only in this browser
        assert con.execute("SELECT language FROM users WHERE username = ?", [ADMIN[0]]).fetchone() == ("kk",)
    finally:
        con.close()
    _set_lang(dash_duo, "en")
    dash_duo.wait_for_text_to_equal(".page-title", t("dash.portfolio.title", "en"), timeout=20)
    assert _severe(dash_duo) == []


def test_portfolio_shows_cards_and_forest_and_saves_screenshot(dash_duo, demo_warehouse: Path) -> None:
    _start(dash_duo, demo_warehouse, ADMIN)
    _set_lang(dash_duo, "en")
    dash_duo.wait_for_element("#portfolio-card-gain", timeout=20)
    dash_duo.wait_for_element("#portfolio-forest .main-svg", timeout=20)
    assert "₸" in dash_duo.find_element("#portfolio-card-gain").text
    points = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#portfolio-forest .scatterlayer .point")
    assert len(points) >= 5
    time.sleep(1.0)
    target = REPO_ROOT / "docs" / "screenshot-portfolio.png"
    target.parent.mkdir(exist_ok=True)
    dash_duo.driver.set_window_size(1400, 2200)
    time.sleep(0.5)
    assert dash_duo.driver.save_screenshot(str(target))
    assert _severe(dash_duo) == []


def test_pilot_page_shows_the_counterfactual_chart(dash_duo, demo_warehouse: Path) -> None:
    _start(dash_duo, demo_warehouse, ADMIN)
    _set_lang(dash_duo, "en")
    dash_duo.driver.get(dash_duo.server.url + "/pilots/KMG-EN-02")
    dash_duo.wait_for_element("#pilot-counterfactual .main-svg", timeout=20)
    if os.environ.get("PILOT_ROI_TEST_SCREENSHOTS"):
        dash_duo.driver.set_window_size(1400, 2400)
        time.sleep(1.0)
        dash_duo.driver.save_screenshot(os.path.join(os.environ["PILOT_ROI_TEST_SCREENSHOTS"], "pilot.png"))
    traces = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#pilot-counterfactual .scatterlayer .trace")
    assert len(traces) >= 2  # counterfactual and observed (plus the band where the run stored one)
    assert "Go-live" in dash_duo.find_element("#pilot-counterfactual").text
    assert "a year" in dash_duo.find_element(".verdict").text
    dash_duo.wait_for_element("#pilot-robustness", timeout=10)
    assert _severe(dash_duo) == []


def _counts(path: Path) -> tuple[int, int]:
    con = connect(path)
    try:
        n_obs = con.execute("SELECT count(*) FROM observation_current").fetchone()[0]  # type: ignore[index]
        n_up = con.execute("SELECT count(*) FROM upload_log").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    return int(n_obs), int(n_up)


def test_upload_flow_good_file_loads_bad_file_changes_nothing(dash_duo, demo_warehouse: Path, tmp_path: Path) -> None:
    con = connect(demo_warehouse)
    try:
        site, metric, period, value = con.execute(
            "SELECT o.site_code, o.metric_code, o.period, o.value FROM observation_current o "
            "JOIN sites s ON s.code = o.site_code WHERE s.subsidiary_code = 'KMG' "
            "ORDER BY o.period DESC, o.site_code LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    _start(dash_duo, demo_warehouse, ENGINEER)
    _set_lang(dash_duo, "en")
    dash_duo.driver.get(dash_duo.server.url + "/upload")
    dash_duo.wait_for_element("#upload-files", timeout=20)

    bad = tmp_path / "bad.csv"
    bad.write_text("site_code,metric_code,period,value\nNO-SUCH-SITE,nope,2025-01-01,abc\n", encoding="utf-8")
    before = _counts(demo_warehouse)
    dash_duo.find_element("#upload-files input[type=file]").send_keys(str(bad))
    dash_duo.wait_for_element("#upload-errors-table", timeout=30)
    assert "NO-SUCH-SITE" in dash_duo.find_element("#upload-errors-table").text
    assert dash_duo.find_element("#upload-confirm").get_attribute("disabled") is not None
    assert _counts(demo_warehouse) == before

    good = tmp_path / "good.csv"
    new_value = float(value) + 1.0
    good.write_text(
        f"site_code,metric_code,period,value\n{site},{metric},{period:%Y-%m-%d},{new_value}\n", encoding="utf-8"
    )
    dash_duo.driver.get(dash_duo.server.url + "/upload")
    dash_duo.wait_for_element("#upload-files", timeout=20)
    dash_duo.find_element("#upload-files input[type=file]").send_keys(str(good))
    dash_duo.wait_for_contains_text("#upload-preview", "good.csv", timeout=30)
    assert _counts(demo_warehouse) == before  # the preview is a dry run
    dash_duo.wait_for_element("#upload-confirm:not([disabled])", timeout=10).click()
    dash_duo.wait_for_contains_text("#upload-result", t("dash.status.loaded", "en"), timeout=30)
    con = connect(demo_warehouse)
    try:
        stored = con.execute(
            "SELECT value FROM observation_current WHERE site_code = ? AND metric_code = ? AND period = ?",
            [site, metric, period],
        ).fetchone()
    finally:
        con.close()
    assert stored is not None and stored[0] == pytest.approx(new_value)
    assert _counts(demo_warehouse)[1] == before[1] + 1
    dash_duo.wait_for_contains_text("#upload-history", "good.csv", timeout=10)
    assert _severe(dash_duo) == []


def test_empty_portfolio_and_pilot_fill_in_when_the_first_run_finishes(dash_duo, no_run_warehouse: Path) -> None:
    from dashboards.context import EXTENSION

    from pilot_roi.runner import RunOptions, run_portfolio

    app = _start(dash_duo, no_run_warehouse, ADMIN)
    _set_lang(dash_duo, "en")
    driver = dash_duo.driver
    dash_duo.wait_for_contains_text("#portfolio-empty", t("dash.empty.no_run", "en"), timeout=20)
    portfolio_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(dash_duo.server.url + "/pilots/KMG-EN-02")
    dash_duo.wait_for_contains_text("#pilot-empty", t("dash.pilot.no_estimates", "en"), timeout=20)
    with app.server.extensions[EXTENSION].cursor() as cur:  # the server holds the file: the runner writes through it
        run_portfolio(cur, RunOptions(workers=1, started_by="test"))
    # both pages poll every 10 s: the content appears without a reload, with the notice of the new run
    dash_duo.wait_for_element("#pilot-counterfactual .main-svg", timeout=60)
    assert "Estimates updated: run" in dash_duo.find_element(".results-updated").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#pilot-empty .empty-state")
    driver.switch_to.window(portfolio_tab)
    dash_duo.wait_for_element("#portfolio-forest .main-svg", timeout=60)
    dash_duo.wait_for_element("#portfolio-card-gain", timeout=20)
    assert "Estimates updated: run" in dash_duo.find_element(".results-updated").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#portfolio-empty .empty-state")
    assert _severe(dash_duo) == []


def _text_now(dash_duo, selector: str) -> str:
    """The element's text, or "" while it is absent or being replaced (a re-rendered node goes stale)."""
    try:
        return str(dash_duo.find_element(selector).text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def test_big_file_preview_shows_progress_then_the_preview(dash_duo, demo_warehouse: Path, tmp_path: Path) -> None:
    from dashboards.components.upload_run import BACKGROUND_PREVIEW_BYTES

    con = connect(demo_warehouse)
    try:
        rows = con.execute(
            "SELECT o.site_code, o.metric_code, o.period, o.value FROM observation_current o "
            "JOIN sites s ON s.code = o.site_code WHERE s.subsidiary_code = 'KMG' ORDER BY 1, 2, 3"
        ).fetchall()
    finally:
        con.close()
    note = "checked by the shift engineer against the paper log " * 2
    big = tmp_path / "big.csv"
    big.write_text(
        "site_code,metric_code,period,value,comment\n"
        + "".join(f"{s},{m},{p:%Y-%m-%d},{float(v) + 1},{note}\n" for s, m, p, v in rows),
        encoding="utf-8",
    )
    assert big.stat().st_size > BACKGROUND_PREVIEW_BYTES
    before = _counts(demo_warehouse)
    _start(dash_duo, demo_warehouse, ENGINEER)
    _set_lang(dash_duo, "kk")
    dash_duo.driver.get(dash_duo.server.url + "/upload")
    dash_duo.wait_for_element("#upload-files", timeout=20)
    dash_duo.find_element("#upload-files input[type=file]").send_keys(str(big))
    dash_duo.wait_for_element("#upload-progress .upload-progress-bar", timeout=30)  # the job's bar and stage
    # the progress panel re-renders as the job advances: read its stage afresh until it says something
    until(lambda: _text_now(dash_duo, "#upload-progress .upload-stage"), timeout=30)
    dash_duo.wait_for_contains_text("#upload-preview", "big.csv", timeout=60)
    dash_duo.wait_for_element("#upload-confirm:not([disabled])", timeout=10)
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#upload-progress .upload-progress-bar")
    assert _counts(demo_warehouse) == before  # a dry run stores nothing
    dash_duo.find_element("#upload-cancel").click()
    dash_duo.wait_for_contains_text("#upload-preview", t("dash.upload.cancelled", "kk"), timeout=10)
    assert "Traceback" not in dash_duo.driver.page_source
    assert _severe(dash_duo) == []


_FITS = """
const width = document.documentElement.clientWidth;
const inside = (sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                          return r.width > 0 && r.left >= 0 && r.right <= width; };
return {overflow: document.documentElement.scrollWidth - width,
        signOut: inside('#shell-sign-out'), language: inside('#shell-lang-select'),
        links: [...document.querySelectorAll('#shell-nav .nav-link')].filter(a => a.offsetParent)
                 .map(a => a.getBoundingClientRect().height)};
"""


def test_the_navbar_fits_a_laptop_and_a_phone_in_russian_and_kazakh(dash_duo, demo_warehouse: Path) -> None:
    """An admin's six Russian links, the demo badge, the user, the language and sign-out ran 100 px off a 1366 px
    laptop and, on a 390 px phone, put the language select and sign-out out of reach. Now the bar wraps. (At 800 px
    the filters' invisible dropdown inputs scrolled the page sideways too.)"""
    _start(dash_duo, demo_warehouse, ADMIN)
    driver = dash_duo.driver
    for lang in ("ru", "kk"):
        _set_lang(dash_duo, lang)
        for width, height in ((1366, 768), (800, 700), (390, 844)):
            driver.set_window_size(width, height)
            time.sleep(0.4)
            fits = driver.execute_script(_FITS)
            assert fits["overflow"] <= 0, (lang, width, fits)
            assert fits["signOut"] and fits["language"], (lang, width, fits)
            line = min(fits["links"])
            assert all(h < 1.5 * line for h in fits["links"]), (lang, width, fits)  # no link broken over two lines
    # the upload history's counts in the page's format ("2 990", not "2990"); they still sort as numbers
    driver.set_window_size(1366, 768)
    driver.get(dash_duo.server.url + "/upload")
    dash_duo.wait_for_element("#upload-history-table td[data-dash-column=rows_read]", timeout=20)
    counts = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "td[data-dash-column=rows_read]")]
    # (Selenium reads the no-break space as a space)
    assert counts and all(re.fullmatch(r"\d{1,3}([\u00a0 ]\d{3})*", c) for c in counts), counts
    assert any(re.search(r"\d[\u00a0 ]\d", c) for c in counts), counts
    assert _severe(dash_duo) == []
