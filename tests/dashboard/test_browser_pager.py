"""The table pagers in a real headless Chromium, in Russian and Kazakh: what a screen reader is told (the `nav`'s
label, every button's aria-label, aria-current on the page shown) is in the reader's language, with no English
word left (dbc.Pagination said "First", "Previous", "Next", "Last" and "More" in every language); next, previous,
a page number and the keyboard (Enter on a focused button, which keeps its focus: assets/20-pager-focus.js)
page the table.

The portfolio's estimates table (the demo's 19 pilot-metrics, five a page: the dashboard runs in this process) and
the audit log (the demo's events and 450 more: three pages of 200).

Run with `pytest --headless tests/dashboard/test_browser_pager.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_helpers import EXECUTIVE, REVIEWER
from dashboards.components import estimates_table
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from test_browser import _set_lang, _severe, _start

from pilot_roi import audit
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect, transaction

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ENGLISH = re.compile(r"\b(First|Previous|Prev|Next|Last|More|Page|Pages)\b", re.IGNORECASE)


def _pager(dash_duo, pager_id: str) -> WebElement:  # type: ignore[no-untyped-def]
    return dash_duo.find_element(f"#{pager_id} nav")


def _button(dash_duo, pager_id: str, label: str) -> WebElement:  # type: ignore[no-untyped-def]
    return dash_duo.find_element(f'#{pager_id} button[aria-label="{label}"]')


def _click(dash_duo, pager_id: str, label: str) -> None:  # type: ignore[no-untyped-def]
    button = _button(dash_duo, pager_id, label)
    # Instant: Bootstrap's smooth scrolling would still be moving when the click lands.
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    button.click()


def _words(dash_duo, pager_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Everything the pager tells a reader, seen or spoken: its label, the texts, every aria-label and tooltip."""
    return list(
        dash_duo.driver.execute_script(
            """const nav = document.querySelector(arguments[0]);
            const said = [...nav.querySelectorAll('[aria-label], [title]')]
                .flatMap(e => [e.getAttribute('aria-label'), e.getAttribute('title')]);
            return [nav.getAttribute('aria-label'), nav.textContent, ...said].filter(Boolean);""",
            f"#{pager_id} nav",
        )
    )


def _check_words(dash_duo, pager_id: str, lang: str, pages: int) -> None:  # type: ignore[no-untyped-def]
    """The pager (on page 1 of `pages`) says everything in `lang`: no English word is left."""
    assert _pager(dash_duo, pager_id).get_attribute("aria-label") == t("dash.pager.label", lang)
    labels = [b.get_attribute("aria-label") for b in dash_duo.find_elements(f"#{pager_id} button")]
    words = [t(f"dash.pager.{k}", lang) for k in ("first", "previous", "next", "last")]
    numbers = [t("dash.pager.page", lang, page=n) for n in range(1, pages + 1)]
    assert labels == [*words[:2], *numbers, *words[2:]], labels
    current = dash_duo.find_elements(f'#{pager_id} [aria-current="page"]')
    assert [c.get_attribute("aria-label") for c in current] == [numbers[0]]
    said = _words(dash_duo, pager_id)
    assert not [w for w in said if ENGLISH.search(w)], said


def _current(dash_duo, pager_id: str) -> str:  # type: ignore[no-untyped-def]
    return dash_duo.find_element(f'#{pager_id} [aria-current="page"]').text.strip()


def _focus_on(dash_duo, label: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the keyboard focus is on the button labelled `label`."""
    WebDriverWait(dash_duo.driver, 10).until(lambda d: d.switch_to.active_element.get_attribute("aria-label") == label)


def _pages_with(
    dash_duo,  # type: ignore[no-untyped-def]
    pager_id: str,
    lang: str,
    rows: Callable[[], list[str]],
    shown: Callable[[int], None],
    pages: int,
) -> None:
    """From page 1 of `pages`: Enter on a focused Next twice (the redrawn Next keeps the focus; on the last page,
    where Next is disabled, the current page takes it), then mouse clicks on Previous, First and the number 3; each
    time the rows change to the page's own and the pager marks it current."""
    first = rows()
    nxt = _button(dash_duo, pager_id, t("dash.pager.next", lang))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", nxt)
    dash_duo.driver.execute_script("arguments[0].focus();", nxt)
    dash_duo.driver.switch_to.active_element.send_keys(Keys.ENTER)
    shown(2)
    second = rows()
    assert second and second != first
    assert _current(dash_duo, pager_id) == "2"
    _focus_on(dash_duo, t("dash.pager.next", lang))  # drawn again, the pressed button has the focus back
    dash_duo.driver.switch_to.active_element.send_keys(Keys.ENTER)
    shown(3)
    third = rows()
    assert third and third not in (first, second)
    _focus_on(dash_duo, t("dash.pager.next", lang) if pages > 3 else t("dash.pager.page", lang, page=3))

    _click(dash_duo, pager_id, t("dash.pager.previous", lang))
    shown(2)
    assert rows() == second and _current(dash_duo, pager_id) == "2"
    _click(dash_duo, pager_id, t("dash.pager.first", lang))
    shown(1)
    assert rows() == first
    _click(dash_duo, pager_id, t("dash.pager.page", lang, page=3))
    shown(3)
    assert rows() == third and _current(dash_duo, pager_id) == "3"


def test_the_estimates_pager_speaks_russian_and_kazakh_and_pages(
    dash_duo, demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(estimates_table, "PAGE_SIZE", 5)
    _start(dash_duo, demo_warehouse, EXECUTIVE)
    pager_id = "portfolio-table-pager"

    def rows() -> list[str]:
        links = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#portfolio-table tbody tr td:first-child a")
        return [link.get_attribute("href").rsplit("/pilots/", 1)[1] for link in links]

    for lang in ("ru", "kk"):
        _set_lang(dash_duo, lang)

        def shown(page: int, lang: str = lang) -> None:
            first, last = 5 * page - 4, min(19, 5 * page)
            caption = t("dash.table.position", lang, first=first, last=last, total=19, page=page, pages=4)
            dash_duo.wait_for_text_to_equal("#portfolio-table-caption", caption, timeout=30)
            WebDriverWait(dash_duo.driver, 10).until(lambda _d: _current(dash_duo, pager_id) == str(page))

        shown(1)
        _check_words(dash_duo, pager_id, lang, pages=4)
        _pages_with(dash_duo, pager_id, lang, rows, shown, pages=4)
    assert "Traceback" not in dash_duo.driver.page_source
    assert _severe(dash_duo) == []


def test_the_audit_pager_speaks_russian_and_kazakh_and_pages(dash_duo, demo_warehouse: Path) -> None:
    con = connect(demo_warehouse)
    try:
        with transaction(con):
            for i in range(450):
                audit.record(con, "demo.admin", "export", f"target-{i:03d}", {"i": i}, "10.0.0.1")
    finally:
        con.close()
    _start(dash_duo, demo_warehouse, REVIEWER)
    pager_id = "audit-pager"

    def rows() -> list[str]:
        cells = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#audit-events-table td[data-dash-column=target]")
        return [c.text for c in cells]

    for lang in ("ru", "kk"):
        _set_lang(dash_duo, lang)
        dash_duo.driver.get(dash_duo.server.url + "/audit")

        def shown(page: int, lang: str = lang) -> None:
            ending = t("dash.audit.count", lang, n=0, page=page, pages=3).split("; ")[1]
            WebDriverWait(dash_duo.driver, 30).until(
                lambda _d: (
                    dash_duo.find_element("#audit-count").text.endswith(ending)
                    and _current(dash_duo, pager_id) == str(page)
                )
            )

        shown(1)
        dash_duo.wait_for_element("#audit-events-table td[data-dash-column=target]", timeout=20)
        _check_words(dash_duo, pager_id, lang, pages=3)
        _pages_with(dash_duo, pager_id, lang, rows, shown, pages=3)
    assert "Traceback" not in dash_duo.driver.page_source
    assert _severe(dash_duo) == []
