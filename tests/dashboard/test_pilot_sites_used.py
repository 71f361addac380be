"""The pilot page names the sites each metric's estimate used, as the run recorded them (the year-end report's sites),
beside the sites as registered: on a real warehouse (the small portfolio of tests/runner/test_metamorphic_e2e.py
through the real CLI), over HTTP with Flask's test client, and once in headless Chromium.

P-A treats S01 and S02 from 2024-04-01 on energy and output and here lists S04-S06 as its controls; P-B treats S03
from 2024-04-15 on energy with the same listed controls. The values are cut as in tests/reports/test_controls_used.py
and tests/reports/test_treated_used.py together:
- S04-S06 stopped sending output at the end of February: P-A's output is an interrupted time series that reads no
  control, while the registry lists three;
- S06 stopped sending energy in mid-March (no data after go-live): the energy DiDs use S04 and S05 only;
- S02's output starts a week before go-live (too little history): P-A's output rests on S01 alone.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dashboard_helpers import RAW_I18N_KEY, post_callback, reader_texts, sign_in, triggered_by
from dashboard_helpers import dash_app as _app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))

from test_metamorphic_e2e import estimate, ingest, new_warehouse, observations, registry_yaml

from pilot_roi import dashboard_queries as q
from pilot_roi.auth import add_user
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

pytestmark = pytest.mark.slow

LANGS = ("ru", "kk", "en")
GO_LIVE = {"S01": date(2024, 4, 1), "S02": date(2024, 4, 1), "S03": date(2024, 4, 15)}
LISTED = ("S04", "S05", "S06")
# (pilot, metric) -> (primary method, treated sites used, control sites used)
USED = {
    ("P-A", "energy_gj"): ("did", ("S01", "S02"), ("S04", "S05")),
    ("P-A", "output_t"): ("its", ("S01",), ()),
    ("P-B", "energy_gj"): ("did", ("S03",), ("S04", "S05")),
}
ACCOUNT = ("qa.reviewer", "a-long-password-4")  # a reviewer whose language is Russian
SITE_WORD = {"ru": "Объект", "kk": "Нысан", "en": "Site"}  # the registry names the sites "Site S04", ...


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portfolio with P-A's controls listed, its values cut as the module doc says, estimated once."""
    folder = tmp_path_factory.mktemp("sites-used")
    pilot_a = "    metrics: [energy_gj, output_t]\n"
    registry = registry_yaml().replace(pilot_a, "    controls: [S04, S05, S06]\n" + pilot_a, 1)
    path = new_warehouse(folder / "wh", registry)
    site, metric, period = pl.col("site_code"), pl.col("metric_code"), pl.col("period")
    cut = (
        (site.is_in(list(LISTED)) & (metric == "output_t") & (period >= date(2024, 3, 1)))
        | ((site == "S06") & (metric == "energy_gj") & (period >= date(2024, 3, 16)))
        | ((site == "S02") & (metric == "output_t") & (period < date(2024, 3, 25)))
    )
    observations().filter(~cut).write_csv(folder / "values.csv")
    ingest(path, folder / "values.csv")
    run = estimate(path)
    assert run["n_estimated"] == len(USED) and run["n_errors"] == 0, run
    con = connect(path)
    try:
        add_user(con, ACCOUNT[0], ACCOUNT[1], "reviewer", None, language="ru")
    finally:
        con.close()
    return path


def _name(code: str, lang: str) -> str:
    return f"{SITE_WORD[lang]} {code}"


def treated_text(codes: tuple[str, ...], lang: str) -> str:
    return ", ".join(f"{_name(c, lang)} ({c}, {GO_LIVE[c].isoformat()})" for c in codes)


def controls_text(codes: tuple[str, ...], lang: str) -> str:
    return ", ".join(f"{_name(c, lang)} ({c})" for c in codes)


def test_the_query_gives_the_sites_the_run_recorded_not_the_registrys(warehouse: Path) -> None:
    con = connect(warehouse, read_only=True)
    try:
        run_id = q.latest_run_id(con)
        assert run_id is not None
        for (pilot, metric), (method, treated, controls) in USED.items():
            estimate_row = (
                q.pilot_estimates(con, pilot, "en").filter(pl.col("metric_code") == metric).row(0, named=True)
            )
            assert (estimate_row["method"], estimate_row["sites_recorded"]) == (method, True)
            used = q.pilot_sites_used(con, run_id, pilot, metric, "en").to_dicts()
            assert [(r["role"], r["site_code"], r["go_live"]) for r in used] == [
                *(("treated", c, GO_LIVE[c]) for c in treated),
                *(("control", c, None) for c in controls),
            ], (pilot, metric)
            assert [r["site_name"] for r in used] == [_name(r["site_code"], "en") for r in used]
        # the registry still lists what was registered: S01 and S02 treated, S04-S06 as controls
        registered = q.pilot_sites(con, "P-A", "en")
        assert sorted(zip(registered["role"], registered["site_code"], strict=True)) == [
            ("control", "S04"), ("control", "S05"), ("control", "S06"), ("treated", "S01"), ("treated", "S02")
        ]  # fmt: skip
    finally:
        con.close()


@pytest.fixture(scope="module")
def pages(warehouse: Path) -> dict[tuple[str, str, str], tuple[list[str], list[str]]]:
    """(pilot, metric, lang) -> (the design card's texts, the metric section's texts), as the browser receives them."""
    client = sign_in(_app(warehouse).server.test_client(), *ACCOUNT)
    route, section = triggered_by(client, "_pages_location.pathname"), triggered_by(client, "pilot-metric.value")
    shown = {}
    for (pilot, metric), _ in USED.items():
        for lang in LANGS:
            values = {"_pages_location.pathname": f"/pilots/{pilot}", "_pages_location.search": "",
                      "shell-lang-store.data": lang}  # fmt: skip
            response = post_callback(client, route, values)
            assert response.status_code == 200, (pilot, lang)
            page = [s for out in response.get_json()["response"].values() for s in reader_texts(list(out.values()))]
            values = {"pilot-metric.value": metric, "pilot-code.data": pilot, "pilot-lang.data": lang}
            response = post_callback(client, section, values)
            assert response.status_code == 200, (pilot, metric, lang)
            texts = reader_texts(response.get_json()["response"]["pilot-section"]["children"])
            shown[(pilot, metric, lang)] = ([s for s in page if s.strip()], [s for s in texts if s.strip()])
    return shown


def _value_after(texts: list[str], label: str) -> str:
    """The text that follows `label` (a definition list's term, then its value)."""
    return texts[texts.index(label) + 1]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", list(USED), ids="/".join)
def test_each_metric_section_names_the_sites_its_estimate_used_in_the_readers_language(
    pages: dict[tuple[str, str, str], tuple[list[str], list[str]]], key: tuple[str, str], lang: str
) -> None:
    design, section = pages[(*key, lang)]
    joined = "\n".join(section)
    assert "Traceback" not in joined and not RAW_I18N_KEY.search(joined), joined
    _, treated, controls = USED[key]
    assert t("dash.pilot.sites_used", lang) in section
    assert t("dash.pilot.sites_used_help", lang, design=t("dash.pilot.design", lang)) in section
    assert _value_after(section, t("dash.pilot.treated", lang)) == treated_text(treated, lang)
    shown_controls = _value_after(section, t("dash.pilot.controls", lang))
    if controls:
        assert shown_controls == controls_text(controls, lang)  # S06 sent nothing after go-live: not listed
    else:  # the interrupted time series: the treated sites' own history, in words
        assert shown_controls == t("dash.pilot.used_controls_none_its", lang)
    # the registry's listing stays on the page, labelled as such: every control registered, S06 and S02 included
    assert _value_after(design, t("dash.pilot.controls_registry", lang)) == ", ".join(_name(c, lang) for c in LISTED)
    assert t("dash.pilot.registry_sites_note", lang) in design
    if key == ("P-A", "output_t"):  # S02 is registered as treated, but this estimate left it out
        assert _name("S02", lang) in _value_after(design, t("dash.pilot.treated_registry", lang))
        assert "S02" not in _value_after(section, t("dash.pilot.treated", lang))


def test_the_own_history_words_say_what_the_reports_words_say() -> None:
    # the Russian and Kazakh sentences are the report's own; the English one names the missing controls instead of
    # starting with "none" (which the page's tests read as a value that leaked through)
    for lang in ("ru", "kk"):
        assert t("dash.pilot.used_controls_none_its", lang) == t("report.pilot.controls_none_own_history", lang)
        assert t("dash.pilot.used_controls_none_staggered", lang) == t("report.pilot.controls_none_staggered", lang)
    for key in ("its", "staggered"):
        report_key = "own_history" if key == "its" else "staggered"
        dashboard = t(f"dash.pilot.used_controls_none_{key}", "en").split(": ", 1)[1]
        assert dashboard == t(f"report.pilot.controls_none_{report_key}", "en").split(": ", 1)[1]


def test_a_run_that_did_not_record_its_sites_says_so_and_an_estimate_not_made_names_the_sites_offered(
    pages: dict[tuple[str, str, str], tuple[list[str], list[str]]],
) -> None:
    from dashboards.components.wire import wire

    # The page module as Dash loaded it (`pages.pilot`, once an app exists: the `pages` fixture made one): importing it
    # as `dashboards.pages.pilot` would register its path a second time and fail every later request in this process.
    sites_used_card = importlib.import_module("pages.pilot").sites_used_card

    def texts(card: Any) -> list[str]:
        return [s for s in reader_texts(wire(card)) if s.strip()]

    design = t("dash.pilot.design", "ru")
    old = sites_used_card({"sites_recorded": False, "status": "ok", "method": "did"}, pl.DataFrame(), "ru")
    assert t("dash.pilot.sites_not_recorded", "ru", design=design) in texts(old)
    offered = pl.DataFrame(
        {"site_code": ["S21", "S22"], "site_name": ["Объект S21", "Объект S22"], "role": ["treated", "control"],
         "go_live": [date(2024, 12, 28), None]}
    )  # fmt: skip
    row = {"sites_recorded": True, "status": "insufficient_data", "method": None, "diagnostics": "{}"}
    shown = texts(sites_used_card(row, offered, "en"))
    assert t("dash.pilot.sites_offered", "en") in shown and t("dash.pilot.sites_used", "en") not in shown
    assert "Объект S21 (S21, 2024-12-28)" in shown and "Объект S22 (S22)" in shown


@pytest.mark.browser
def test_in_the_browser_the_metric_picker_switches_the_sites_used_in_the_readers_language(
    dash_duo: Any, warehouse: Path
) -> None:
    from selenium.webdriver.support.ui import Select
    from test_browser import _severe, _start

    _start(dash_duo, warehouse, ACCOUNT)  # the reviewer reads Russian: the page opens in it
    dash_duo.driver.get(dash_duo.server.url + "/pilots/P-A")
    registered = ", ".join(_name(c, "ru") for c in LISTED)
    dash_duo.wait_for_contains_text("#pilot-design", registered, timeout=20)
    dash_duo.wait_for_contains_text("#pilot-sites-used", controls_text(("S04", "S05"), "ru"), timeout=20)
    assert "S06" not in dash_duo.find_element("#pilot-sites-used").text
    Select(dash_duo.find_element("#pilot-metric")).select_by_value("output_t")
    dash_duo.wait_for_contains_text("#pilot-sites-used", t("dash.pilot.used_controls_none_its", "ru"), timeout=20)
    used = dash_duo.find_element("#pilot-sites-used").text
    assert treated_text(("S01",), "ru") in used and not any(c in used for c in ("S02", *LISTED))
    assert registered in dash_duo.find_element("#pilot-design").text  # the registry's listing stays as registered
    if os.environ.get("PILOT_ROI_TEST_SCREENSHOTS"):
        dash_duo.driver.set_window_size(1400, 2000)
        time.sleep(1.0)
        dash_duo.driver.save_screenshot(os.path.join(os.environ["PILOT_ROI_TEST_SCREENSHOTS"], "pilot-sites-used.png"))
    assert _severe(dash_duo) == []
