"""The portfolio's and a pilot's charts as a phone (390 px, Chrome's device emulation) and a laptop show them, in a real
headless Chromium against the demo warehouse: every label inside its chart and clear of the mode bar, and an empty
chart saying why it is empty.

Run with `pytest --headless tests/dashboard/test_browser_phone_charts.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until
from dashboard_helpers import EXECUTIVE
from selenium.webdriver.common.keys import Keys
from test_browser import _set_lang, _severe, _start

from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}

# Every text of a chart with its box (viewport px), the chart's svg box and the mode bar's (present, shown on hover).
_BOXES = """
const root = document.querySelector(arguments[0]);
const svg = root && root.querySelector('.main-svg');
if (!svg) return null;
const box = e => { const b = e.getBoundingClientRect(); return {l: b.left, t: b.top, r: b.right, b: b.bottom}; };
const bar = root.querySelector('.modebar');
return {
  svg: box(svg),
  modebar: bar ? box(bar) : null,
  texts: [...root.querySelectorAll('svg text')].filter(e => e.textContent.trim())
           .map(e => ({text: e.textContent, ...box(e)})),
  points: [...root.querySelectorAll('.scatterlayer .point')].map(box),
};
"""


def _boxes(dash_duo: Any, selector: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The chart's boxes once `ready` says it is drawn (dcc.Graph draws empty axes before its figure arrives)."""
    found: dict[str, Any] = {}

    def drawn() -> bool:
        found.clear()
        found.update(dash_duo.driver.execute_script(_BOXES, selector) or {})
        return bool(found) and ready(found)

    until(drawn, timeout=20, msg=f"{selector} was not drawn")
    return found


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["l"] < b["r"] - 0.5 and b["l"] < a["r"] - 0.5 and a["t"] < b["b"] - 0.5 and b["t"] < a["b"] - 0.5


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    near = 1.0  # px: text boxes round to the pixel
    return (
        inner["l"] >= outer["l"] - near
        and inner["r"] <= outer["r"] + near
        and inner["t"] >= outer["t"] - near
        and inner["b"] <= outer["b"] + near
    )


def _phone(dash_duo: Any) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def _laptop(dash_duo: Any) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    dash_duo.driver.set_window_size(1366, 900)


def _chart_says(dash_duo: Any, selector: str, message: str) -> dict[str, Any]:
    """Wait until the chart's only text is `message` (Plotly writes each wrapped line as its own tspan)."""
    found: dict[str, Any] = {}

    def says() -> bool:
        found.clear()
        found.update(dash_duo.driver.execute_script(_BOXES, selector) or {})
        texts = found.get("texts") or []
        return len(texts) == 1 and texts[0]["text"].replace(" ", "") == message.replace(" ", "")

    until(says, timeout=20, msg=f"{selector} does not say {message!r}")
    return found


def test_the_forest_plot_keeps_its_labels_on_a_phone_and_an_empty_chart_says_why(
    dash_duo, demo_warehouse: Path
) -> None:
    """On a 390 px phone the forest plot's row labels ("KTZ-PM-01 · Unplanned locomotive downtime") were tick labels
    that Plotly's automargin could not fit: they ran off the chart's left edge, and the intervals had a 64 px strip.
    Each label now sits above its row, inside the chart, clear of the markers and of the mode bar. A filter that
    matches nothing made every chart say "No estimates yet"; they now say nothing matches, in words that fit."""
    con = connect(demo_warehouse)
    try:
        frame = q.portfolio(con, "en")
    finally:
        con.close()
    codes = set(frame["pilot_code"].to_list())
    absent = [g for g in q.GRADES if g not in set(frame["grade"].to_list())]
    assert codes and absent and "promising" in set(frame["grade"].to_list())
    _start(dash_duo, demo_warehouse, EXECUTIVE)
    _phone(dash_duo)
    for lang in ("ru", "kk", "en"):
        _set_lang(dash_duo, lang)
        dash_duo.driver.get(dash_duo.server.url + "/")
        forest = _boxes(
            dash_duo, "#portfolio-forest", lambda f: sum(" · " in x["text"] for x in f["texts"]) == frame.height
        )
        outside = [x["text"] for x in forest["texts"] if not _inside(x, forest["svg"])]
        assert outside == [], (lang, forest["svg"], outside)
        labels = [x for x in forest["texts"] if " · " in x["text"]]
        assert {x["text"].split(" · ")[0] for x in labels} == codes, lang  # one label a pilot, none lost
        assert forest["svg"]["r"] - forest["svg"]["l"] >= 300, lang  # the chart takes the phone's width
        for i, label in enumerate(labels):
            assert not _overlap(label, forest["modebar"]), (lang, label)
            assert not [p for p in forest["points"] if _overlap(label, p)], (lang, label)
            assert not [other for other in labels[i + 1 :] if _overlap(label, other)], (lang, label)

    # English from here: what a filter that matches nothing, or only estimates without a gain, makes the charts say
    gains = ("by-subsidiary", "by-use-case")
    for grade, messages in (
        (absent[0], dict.fromkeys(("forest", *gains, "cumulative"), "dash.empty.no_match")),
        (
            "promising",
            {**dict.fromkeys(gains, "dash.empty.no_demonstrated_match"), "cumulative": "dash.empty.no_realized_match"},
        ),
    ):
        dash_duo.driver.get(dash_duo.server.url + "/")
        _boxes(dash_duo, "#portfolio-forest", lambda f: bool(f["points"]))
        dash_duo.select_dcc_dropdown("#portfolio-filter-grade", t(f"dash.grade.{grade}", "en"))
        dash_duo.find_element("body").send_keys(Keys.ESCAPE)
        for chart, key in messages.items():
            said = _chart_says(dash_duo, f"#portfolio-{chart}", t(key, "en"))
            assert _inside(said["texts"][0], said["svg"]), (grade, chart, said)
    assert _severe(dash_duo) == []


def test_the_go_live_label_stays_clear_of_the_mode_bar(dash_duo, demo_warehouse: Path) -> None:
    """The go-live label sat in the chart's top margin, in the strip where Plotly draws the mode bar: on a phone the
    bar covers two thirds of the chart's width and hid QG-PM-02's label (on a laptop, a go-live in the last sixth of a
    series would have been hidden). The label now sits below that strip. QG-PM-02 goes live last in the demo (April
    2025, 82% along its series): the laptop check guards the layout, the phone's failed before."""
    _start(dash_duo, demo_warehouse, EXECUTIVE)
    for size in (_phone, _laptop):
        size(dash_duo)
        for lang in ("ru", "kk", "en"):
            _set_lang(dash_duo, lang)
            dash_duo.driver.get(dash_duo.server.url + "/pilots/QG-PM-02")
            go_live_text = t("dash.cf.go_live", lang)

            def labelled(chart: dict[str, Any], text: str = go_live_text) -> bool:
                return any(x["text"] == text for x in chart["texts"])

            _boxes(dash_duo, "#pilot-counterfactual", labelled)
            time.sleep(0.3)  # the chart's final size (dcc.Graph resizes once after drawing)
            chart = _boxes(dash_duo, "#pilot-counterfactual", labelled)
            go_live = [x for x in chart["texts"] if x["text"] == go_live_text]
            assert len(go_live) == 1, (size.__name__, lang, chart["texts"])
            assert chart["modebar"] is not None
            assert not _overlap(go_live[0], chart["modebar"]), (size.__name__, lang, go_live[0], chart["modebar"])
            assert _inside(go_live[0], chart["svg"]), (size.__name__, lang)
    assert _severe(dash_duo) == []
