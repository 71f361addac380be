"""The portfolio's estimates table pages, sorts and searches on the server: the page's content callback (first
page), the table's own callback (later pages, sort, search) and the pager's click callback over HTTP (Flask's test
client, the real app, the demo warehouse and its real estimate run), compared with the portfolio query itself.

The demo has 19 pilot-metrics, under one page of 25: the paging tests shrink the page size to 5.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import EXECUTIVE, pager_items, sign_in, triggered_by
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call
from dashboard_helpers import post_pager_click as _click
from dashboards.components import estimates_table
from dashboards.context import EXTENSION

from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import t

PAGE = "portfolio-table-page.data"  # the page shown, kept in a store that the pager's clicks set
PAGER = "portfolio-table-pager"
SORT = "portfolio-table-sort.value"
LANG = "portfolio-lang.data"
SEARCH = "portfolio-table-search.value"


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(estimates_table, "PAGE_SIZE", 5)
    return 5


@dataclass
class Table:
    """An executive's client of the real app, the table's callback, and the portfolio query's rows by
    (pilot code, metric name)."""

    app: Any
    client: Any
    dep: dict
    content: dict
    rows: dict[tuple[str, str], dict[str, Any]]

    def call(self, values: dict[str, Any] | None = None, changed: str = PAGE) -> dict[str, Any]:
        """The table callback's answer for the page's values (page 1, annual gain first, English by default)."""
        return self._answer(self.dep, values, changed)

    def load(self, values: dict[str, Any] | None = None, changed: str = LANG) -> dict[str, Any]:
        """The page's content callback (cards, charts and the table's first page), as on opening the page."""
        return self._answer(self.content, values, changed)

    def _answer(self, dep: dict, values: dict[str, Any] | None, changed: str) -> dict[str, Any]:
        body = {LANG: "en", PAGE: 1, SORT: "gain_desc", **(values or {})}
        response = _call(self.client, dep, body, changed)
        assert response.status_code == 200, response.status_code
        return response.get_json()["response"]


@pytest.fixture
def table(demo_warehouse: Path) -> Table:
    app = _app(demo_warehouse)
    with app.server.extensions[EXTENSION].cursor() as cur:
        frame = q.portfolio(cur, "en")
    rows = {(r["pilot_code"], r["metric_name"]): r for r in frame.iter_rows(named=True)}
    assert len(rows) == frame.height == 19
    client = sign_in(app.server.test_client(), *EXECUTIVE)
    table_callback = triggered_by(client, PAGE)
    content = _dependency(client, "portfolio-cards.children")
    assert table_callback is not content and "portfolio-table.children" in content["output"]
    return Table(app, client, table_callback, content, rows)


def _shown(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(pilot code from the row's link, metric name) of every row on the page, in order."""
    table = payload["portfolio-table"]["children"]
    body = table["props"]["children"][1]
    assert body["type"] == "Tbody"
    shown = []
    for tr in body["props"]["children"]:
        link, metric = (td["props"]["children"] for td in tr["props"]["children"][:2])
        assert link["type"] == "Link" and link["props"]["href"].startswith("/pilots/")
        code = link["props"]["href"].removeprefix("/pilots/")
        assert link["props"]["children"].startswith(f"{code} — ")
        shown.append((code, metric))
    return shown


def _pager(payload: dict[str, Any]) -> list[str]:
    """The pager in an answer as it shows: "[2]" the current page, "(‹)" a disabled arrow, "…" a gap."""
    return [
        f"[{i['shows']}]" if i["current"] else f"({i['shows']})" if i["disabled"] and i["shows"] != "…" else i["shows"]
        for i in pager_items(payload[PAGER]["children"])
    ]


def _number(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _assert_ordered(values: list[Any], descending: bool) -> None:
    """Sorted in the direction asked, missing values (None) last."""
    present = [v for v in values if v is not None]
    assert values[: len(present)] == present, "a missing value before a present one"
    assert present == sorted(present, reverse=descending)
    assert len(set(present)) > 1  # the demo's values differ: the order is really tested


def _every_row(table: Table, values: dict[str, Any]) -> list[tuple[str, str]]:
    every = []
    for n in (1, 2, 3, 4):
        every += _shown(table.call({**values, PAGE: n}))
    return every


def test_pages_follow_one_another_in_the_chosen_order(table: Table, small_pages: int) -> None:
    opened = table.load()  # the page's own first request brings page 1 with the cards and charts
    assert {"portfolio-cards", "portfolio-forest", "portfolio-table"} <= set(opened)
    pages = [opened] + [table.call({PAGE: n}) for n in (2, 3, 4)]
    shown = [_shown(p) for p in pages]
    assert [len(s) for s in shown] == [5, 5, 5, 4]
    assert shown[0] == _shown(table.call({PAGE: 1}))
    every = [row for s in shown for row in s]
    assert len(every) == 19 and set(every) == set(table.rows)
    _assert_ordered([_number(table.rows[r]["annual_gain_kzt"]) for r in every], descending=True)  # the default
    # the stored page already is the page asked for: it is left alone (setting it would call back once more)
    assert "portfolio-table-page" not in pages[1]
    assert _pager(pages[1]) == ["«", "‹", "1", "[2]", "3", "4", "›", "»"]
    assert pages[1]["portfolio-table-caption"]["children"] == "Rows 6–10 of 19 · page 2 of 4"
    past_the_end = table.call({PAGE: 99})
    assert _shown(past_the_end) == shown[3] and past_the_end["portfolio-table-page"]["data"] == 4
    assert _pager(past_the_end) == ["«", "‹", "1", "2", "3", "[4]", "(›)", "(»)"]


def test_one_page_of_25_holds_the_whole_demo_and_hides_the_pager(table: Table) -> None:
    assert estimates_table.PAGE_SIZE == 25
    payload = table.load()
    assert len(_shown(payload)) == 19
    assert payload[PAGER]["children"] is None
    assert payload["portfolio-table-caption"]["children"] == "Rows 1–19 of 19 · page 1 of 1"


@pytest.mark.parametrize(
    ("sort", "column", "descending"),
    [
        ("effect_desc", "effect_pct", True),
        ("effect_asc", "effect_pct", False),
        ("gain_desc", "annual_gain_kzt", True),
        ("gain_asc", "annual_gain_kzt", False),
        ("grade_best", "grade", False),
        ("grade_worst", "grade", True),
        ("pilot_asc", "pilot_code", False),
        ("pilot_desc", "pilot_code", True),
    ],
)
def test_sorting_orders_the_rows_across_pages(
    table: Table, small_pages: int, sort: str, column: str, descending: bool
) -> None:
    every = _every_row(table, {SORT: sort})
    assert len(every) == 19
    if column == "grade":
        values = [q.GRADES.index(table.rows[r]["grade"] or "insufficient_data") for r in every]
    elif column == "pilot_code":
        values = [r[0] for r in every]
    else:
        values = [_number(table.rows[r][column]) for r in every]
    _assert_ordered(values, descending)


def test_a_new_sort_search_or_filter_goes_back_to_page_1(table: Table, small_pages: int) -> None:
    values = {PAGE: 3, SORT: "pilot_asc"}
    assert _shown(table.call(values))[0] != min(table.rows)
    answers = {
        "sort": table.call(values, SORT),
        "filter": table.load(values, "portfolio-filter-grade.value"),
        "new run": table.load(values, "portfolio-results-version.data"),
    }
    for changed, payload in answers.items():
        assert payload["portfolio-table-page"]["data"] == 1, changed
        assert _pager(payload)[:4] == ["(«)", "(‹)", "[1]", "2"], changed
        assert _shown(payload)[0] == min(table.rows)  # pilot A–Z: the first code, on the first page


def test_search_keeps_the_pilots_whose_code_or_name_matches(table: Table) -> None:
    rows = table.rows
    prefixes = Counter(code.split("-")[0] for code, _ in rows)
    prefix = max(prefixes, key=lambda p: (prefixes[p], p))  # the subsidiary prefix with the most pilot-metrics
    expected = {r for r in rows if prefix.casefold() in f"{r[0]} {rows[r]['pilot_name']}".casefold()}
    assert 1 < len(expected) < len(rows)
    assert set(_shown(table.call({SEARCH: f"  {prefix.lower()} "}, SEARCH))) == expected
    name = rows[min(rows)]["pilot_name"]
    by_name = _shown(table.call({SEARCH: name.upper()}, SEARCH))
    assert {c for c, _ in by_name} == {r[0] for r in rows if rows[r]["pilot_name"] == name}
    nothing = table.call({SEARCH: "no such pilot"}, SEARCH)
    assert t("dash.empty.no_match", "en") in json.dumps(nothing["portfolio-table"], ensure_ascii=False)
    assert nothing[PAGER]["children"] is None


def test_labels_in_every_language(table: Table, small_pages: int) -> None:
    for lang, text in (("ru", "Строки 6–10 из 19"), ("kk", "19 жолдың 6–10 жолдары"), ("en", "Rows 6–10 of 19")):
        payload = table.call({PAGE: 2, LANG: lang})
        assert payload["portfolio-table-caption"]["children"].startswith(text), lang


def test_anonymous_table_request_is_refused(table: Table) -> None:
    anonymous = table.app.server.test_client()
    for dep in (table.dep, table.content):
        response = _call(anonymous, dep, {LANG: "en", PAGE: 2})
        assert response.status_code == 401
        assert "/pilots/" not in response.get_data(as_text=True)


def test_values_no_browser_sends_give_page_1_not_an_error(table: Table, small_pages: int) -> None:
    payload = table.call({PAGE: "2; DROP TABLE", SORT: ["gain_desc"], SEARCH: 5})
    assert _shown(payload) == _shown(table.call({PAGE: 1}))
    assert payload["portfolio-table-page"]["data"] == 1


ENGLISH = re.compile(r"\b(First|Previous|Prev|Next|Last|More|Page|pages?)\b", re.IGNORECASE)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_pager_speaks_the_readers_language(table: Table, small_pages: int, lang: str) -> None:
    """dbc.Pagination said "First", "Previous", "Next", "Last" and "More" to a screen reader whatever the language."""
    nav = table.call({PAGE: 2, LANG: lang})[PAGER]["children"]
    assert nav["props"]["aria-label"] == t("dash.pager.label", lang)
    said = [i["says"] for i in pager_items(nav)]
    words = [t(f"dash.pager.{k}", lang) for k in ("first", "previous", "next", "last")]
    assert said == [*words[:2], *(t("dash.pager.page", lang, page=n) for n in (1, 2, 3, 4)), *words[2:]]
    assert [i["goes_to"] for i in pager_items(nav)] == [1, 1, 1, 2, 3, 4, 3, 4]
    assert [i["current"] for i in pager_items(nav)] == [False, False, False, True, False, False, False, False]
    if lang != "en":
        assert not ENGLISH.findall(" ".join(_words(nav))), lang


def _words(node: Any) -> list[str]:
    """Every word a pager gives a reader, seen or spoken: texts, aria-labels and tooltips (not ids or classes)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [w for item in node for w in _words(item)]
    if isinstance(node, dict) and "props" in node:
        props = node["props"]
        said = [props[k] for k in ("aria-label", "title") if isinstance(props.get(k), str)]
        return said + _words(props.get("children"))
    return []


def test_a_click_on_the_pager_stores_the_page_its_button_goes_to(table: Table, small_pages: int) -> None:
    """The page the table shows follows the store, which the pager's click callback sets; that callback, like every
    other, answers only a signed-in reader."""
    deps = table.client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if "portfolio-table-pager-button" in d["inputs"][0]["id"])
    assert dep["output"].startswith("portfolio-table-page.data")
    nav = table.call({PAGE: 2})[PAGER]["children"]

    def stored(answer: Any) -> Any:
        assert answer.status_code in (200, 204), answer.status_code
        if answer.status_code == 204:  # nothing to update
            return None
        return answer.get_json()["response"].get("portfolio-table-page", {}).get("data")

    assert stored(_click(table.client, dep, nav, "next", 2)) == 3
    assert stored(_click(table.client, dep, nav, "previous", 2)) == 1
    assert stored(_click(table.client, dep, nav, "last", 2)) == 4
    assert stored(_click(table.client, dep, nav, "page-3", 2)) == 3
    assert stored(_click(table.client, dep, nav, "page-2", 2)) is None  # the page shown: nothing to do
    assert stored(_click(table.client, dep, nav, None, 2)) is None  # drawn again, no click
    for forged in ("2; DROP TABLE", "0", "-1", "9" * 5000, True):
        assert stored(_click(table.client, dep, nav, "next", 2, forged)) is None, forged
    anonymous = _click(table.app.server.test_client(), dep, nav, "next", 2)
    assert anonymous.status_code == 401


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_pilot_metric_without_an_estimate_reads_as_a_dash_not_empty_brackets(lang: str) -> None:
    """An insufficient-data row showed "— (— … —)" and "— (95% CI — – —)": dashes in brackets that say nothing."""
    import polars as pl

    columns = ("effect_pct", "ci_low_pct", "ci_high_pct")
    columns += ("annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high")
    frame = pl.DataFrame(
        {
            "pilot_code": ["KMG-EN-09", "KMG-EN-02"],
            "pilot_name": ["No data yet", "Furnaces"],
            "metric_code": ["refinery_energy_gj"] * 2,
            "metric_name": ["Refinery energy use"] * 2,
            "grade": ["insufficient_data", "promising"],
            **{c: [None, v] for c, v in zip(columns, (-2.5, -7.5, 2.6, 1.9e9, -2.1e9, 5.8e9), strict=True)},
            "roi": [None, 5.83],
        },
        schema_overrides={c: pl.Float64 for c in (*columns, "roi")},
    )
    rows = estimates_table.build(frame, lang).rows
    cells = [[c for c in _texts(row) if c.strip()] for row in rows]
    empty, full = cells
    assert empty[-3:] == ["—", "—", "—"], empty  # effect, annual gain, ROI
    assert t("dash.ci95", lang, low="§", high="§").split("§")[0] in full[-2]  # an estimate keeps its interval


def _texts(node: Any) -> list[str]:
    from dashboard_helpers import reader_texts

    return list(reader_texts(json.loads(json.dumps(node))))


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_subsidiary_without_a_demonstrated_gain_gets_no_largest_pilot_arrow(table: Table, lang: str) -> None:
    """Samruk-Energy's two pilots are only promising: the gain card said "Sum over 0 demonstrated estimates, 95% CI
    0 ₸ – 0 ₸ … Largest pilot →" with the arrow pointing nowhere; it now says nothing is counted, and why."""
    from dashboard_helpers import reader_texts

    payload = table.load({"portfolio-filter-subsidiary.value": ["SE"], LANG: lang})
    gain_card = payload["portfolio-cards"]["children"][0]
    texts = [s for s in reader_texts(gain_card) if s.strip()]
    assert texts == [t("dash.card.gain", lang), "0 ₸", t("dash.card.gain_caption_none", lang)], texts
    everything = table.load({LANG: lang})["portfolio-cards"]["children"][0]
    assert "/pilots/" in json.dumps(everything)  # with demonstrated gains the caption links to the largest pilot


_CHARTS = ("portfolio-forest", "portfolio-by-subsidiary", "portfolio-by-use-case", "portfolio-cumulative")


def _chart_messages(payload: dict[str, Any]) -> dict[str, str | None]:
    """What each chart of the portfolio says instead of data (None: it has data), its lines joined by spaces."""
    said: dict[str, str | None] = {}
    for chart in _CHARTS:
        figure = payload[chart]["figure"]
        notes = figure["layout"].get("annotations") or []
        said[chart] = None if figure["data"] else " ".join(notes[0]["text"].split("<br>"))
    return said


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_charts_say_nothing_matches_the_filters_rather_than_no_estimates_yet(table: Table, lang: str) -> None:
    """A filter that matched nothing left every chart saying "No estimates yet" (or "… yet" of gains): wrong for a
    portfolio of 19 estimates. They now say nothing matches the filters; a filter that matches estimates without a
    demonstrated gain says that of the gain charts. Without filters an empty chart still says "… yet" (no run had
    estimates: `test_figures`)."""
    assert _chart_messages(table.load({LANG: lang})) == dict.fromkeys(_CHARTS)  # the demo draws every chart
    rows = list(table.rows.values())
    pairs = {(r["subsidiary_code"], r["use_case"]) for r in rows}
    subsidiary, use_case = next(
        (s, u) for s in sorted({s for s, _ in pairs}) for u in sorted({u for _, u in pairs}) if (s, u) not in pairs
    )
    nothing = table.load(
        {"portfolio-filter-subsidiary.value": [subsidiary], "portfolio-filter-use-case.value": [use_case], LANG: lang},
        "portfolio-filter-use-case.value",
    )
    assert _chart_messages(nothing) == dict.fromkeys(_CHARTS, t("dash.empty.no_match", lang))
    assert t("dash.empty.no_estimates", lang) not in json.dumps(nothing, ensure_ascii=False)
    assert any(r["grade"] == "promising" for r in rows)
    promising = table.load({"portfolio-filter-grade.value": ["promising"], LANG: lang}, "portfolio-filter-grade.value")
    assert _chart_messages(promising) == {
        "portfolio-forest": None,  # the promising estimates are drawn
        "portfolio-by-subsidiary": t("dash.empty.no_demonstrated_match", lang),
        "portfolio-by-use-case": t("dash.empty.no_demonstrated_match", lang),
        "portfolio-cumulative": t("dash.empty.no_realized_match", lang),
    }
