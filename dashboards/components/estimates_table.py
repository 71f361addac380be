"""The portfolio's "All estimates" table, paged on the server: rows built once per cached view, pages sliced.

Sending every pilot-metric (500 rows, ~4,500 components, 550 kB on the benchmark warehouse) cost most of the
portfolio's CPU per request and was slow for the browser to draw. `build` turns the rows into their JSON wire
form once, with every sort order and the search text precomputed; `page` then only picks indices and
slices, so a page costs microseconds on a cached view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from dashboards.components.ui import empty_state, grade_badge, money_interval
from dashboards.components.wire import wire
from pilot_roi.dashboard_queries import GRADES
from pilot_roi.i18n import format_money, format_number, format_percent, t
from pilot_roi.numbers import finite_or_none

PAGE_SIZE = 25
"""Rows per page."""

COLUMNS = ("pilot", "metric", "grade", "effect", "gain", "roi")

SORTS: dict[str, tuple[str, bool]] = {
    "gain_desc": ("annual_gain_kzt", True),
    "gain_asc": ("annual_gain_kzt", False),
    "effect_desc": ("effect_pct", True),
    "effect_asc": ("effect_pct", False),
    "grade_best": ("grade_rank", False),
    "grade_worst": ("grade_rank", True),
    "pilot_asc": ("pilot_code", False),
    "pilot_desc": ("pilot_code", True),
}
"""Sort choices offered to users: key → (column, descending). Ties and missing values: see `_order`."""

DEFAULT_SORT = "gain_desc"


@dataclass(frozen=True, slots=True)
class EstimatesRows:
    """All rows of one portfolio view (one results version, filter set and language), ready to page.

    `rows` are the table rows in their JSON wire form (`html.Tr`); `orders` maps each key of `SORTS` to the
    row indices in that order; `search_text` is each row's pilot code and name, case-folded; `header` is
    the wire form of the table's header row.
    """

    rows: tuple[dict[str, Any], ...]
    orders: dict[str, tuple[int, ...]]
    search_text: tuple[str, ...]
    header: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TablePage:
    """One page of the table: the component (wire form) and where it sits (1-based `page` of `pages`)."""

    table: Any
    page: int
    pages: int
    caption: str


def build(frame: pl.DataFrame, lang: str) -> EstimatesRows:
    """Every pilot-metric of the portfolio frame as a table row, each number in words and linked to its pilot."""
    header = wire(html.Thead(html.Tr([html.Th(t(f"dash.col.{c}", lang)) for c in COLUMNS])))
    rows = tuple(wire(_row(r, lang)) for r in frame.iter_rows(named=True))
    search = tuple(f"{r['pilot_code']} {r['pilot_name']}".casefold() for r in frame.iter_rows(named=True))
    return EstimatesRows(rows=rows, orders=_orders(frame), search_text=search, header=header)


def _row(r: dict[str, Any], lang: str) -> html.Tr:
    return html.Tr(
        [
            html.Td(dcc.Link(f"{r['pilot_code']} — {r['pilot_name']}", href=f"/pilots/{r['pilot_code']}")),
            html.Td(r["metric_name"]),
            html.Td(grade_badge(r.get("grade"), lang)),
            html.Td(_effect(r, lang)),
            html.Td(_gain(r, lang)),
            html.Td(format_percent(100 * v, lang, 0) if (v := finite_or_none(r.get("roi"))) is not None else "—"),
        ]
    )


def _effect(r: dict[str, Any], lang: str) -> str:
    """ "-4,2 % (-5,5 % … -2,9 %)"; a bare dash for a pilot-metric without an estimate."""
    effect = finite_or_none(r.get("effect_pct"))
    if effect is None:
        return "—"
    low, high = finite_or_none(r.get("ci_low_pct")), finite_or_none(r.get("ci_high_pct"))
    return f"{format_percent(effect, lang)} ({format_percent(low, lang)} … {format_percent(high, lang)})"


def _gain(r: dict[str, Any], lang: str) -> str:
    """ "310,0 млн ₸ (95% ДИ …)"; a bare dash for a pilot-metric without an estimate."""
    gain = finite_or_none(r.get("annual_gain_kzt"))
    if gain is None:
        return "—"
    interval = money_interval(r.get("annual_gain_ci_low"), r.get("annual_gain_ci_high"), lang)
    return f"{format_money(gain, lang)} ({interval})"


def _orders(frame: pl.DataFrame) -> dict[str, tuple[int, ...]]:
    """Row indices for every sort choice: missing values (no estimate, NaN) last in either direction, ties by
    pilot and metric so that a page never shuffles between requests."""
    if frame.height == 0:
        return {key: () for key in SORTS}
    rank = {grade: i for i, grade in enumerate(GRADES)}
    keyed = frame.select(
        pl.int_range(pl.len()).alias("row"),
        pl.col("pilot_code"),
        pl.col("metric_code"),
        pl.col("annual_gain_kzt").cast(pl.Float64).fill_nan(None),
        pl.col("effect_pct").cast(pl.Float64).fill_nan(None),
        pl.col("grade").fill_null("insufficient_data").replace_strict(rank, default=len(GRADES)).alias("grade_rank"),
    )
    orders = {}
    for key, (column, descending) in SORTS.items():
        ordered = keyed.sort(
            [column, "pilot_code", "metric_code"], descending=[descending, False, False], nulls_last=True
        )
        orders[key] = tuple(ordered["row"].to_list())
    return orders


def page(rows: EstimatesRows, sort: str | None, search: str | None, page_number: object, lang: str) -> TablePage:
    """Page `page_number` (clamped to the pages there are) of the rows in order `sort`, keeping only the rows
    whose pilot code or name contains `search` (case-insensitive)."""
    order = rows.orders.get(sort if isinstance(sort, str) else DEFAULT_SORT, rows.orders[DEFAULT_SORT])
    needle = (search if isinstance(search, str) else "").strip().casefold()
    if needle:
        order = tuple(i for i in order if needle in rows.search_text[i])
    total = len(order)
    pages = max(1, -(-total // PAGE_SIZE))
    current = min(max(1, _whole(page_number)), pages)
    if total == 0:
        return TablePage(empty_state(t("dash.empty.no_match", lang)), 1, 1, "")
    first = (current - 1) * PAGE_SIZE
    shown = [rows.rows[i] for i in order[first : first + PAGE_SIZE]]
    body = {"type": "Tbody", "namespace": "dash_html_components", "props": {"children": shown}}
    table = wire(dbc.Table(hover=True, size="sm", responsive=True, className="mb-0"))
    table["props"]["children"] = [rows.header, body]
    caption = t(
        "dash.table.position",
        lang,
        first=format_number(first + 1, lang),
        last=format_number(first + len(shown), lang),
        total=format_number(total, lang),
        page=format_number(current, lang),
        pages=format_number(pages, lang),
    )
    return TablePage(table, current, pages, caption)


def _whole(value: object) -> int:
    """A page number as the browser sent it (the pager sends an int; anything else means page 1)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def sort_options(lang: str) -> list[dict[str, str]]:
    """The sort choices in `lang`, for a dropdown."""
    return [{"label": t(f"dash.table.sort.{key}", lang), "value": key} for key in SORTS]
