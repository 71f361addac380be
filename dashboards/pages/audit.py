"""Audit log (reviewers and admins): who did what, when and from where, newest first; filters and a CSV download.

Every callback and download calls `require("audit")` first: executives and engineers are refused on the server
(403), whatever the interface shows. Their page says so in words instead of failing to load.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.components import pager
from dashboards.components.ui import empty_state, error_alert, table
from dashboards.context import cursor, lang_of
from dashboards.security import audit_event, current_user, require
from pilot_roi import clock
from pilot_roi import dashboard_queries as q
from pilot_roi.audit import action_words, details_in_words
from pilot_roi.auth import can
from pilot_roi.i18n import t
from pilot_roi.safe_export import write_csv

dash.register_page(__name__, path="/audit", name="audit", title="pilot-roi", order=6)

COLUMNS = ("occurred_at", "username", "action", "target", "details", "remote_addr")
PAGE_SIZE = q.AUDIT_PAGE_SIZE
MAX_EXPORT_ROWS = 1_000_000


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """Filters (user, action, dates), the count, the paged table and the CSV download; for a role without the
    audit permission, the page's title and why it is empty (the callbacks stay refused)."""
    require("read")
    lang = lang_of(lang)
    if not can(current_user(), "audit"):
        title = html.H2(t("dash.audit.title", lang), className="page-title")
        return html.Div([title, empty_state(t("dash.audit.not_allowed", lang))])
    with cursor() as cur:
        options = q.audit_options(cur)

    def dropdown(component_id: str, key: str, values: list[str], label: Callable[[str], str] = str) -> dbc.Col:
        return dbc.Col(
            [
                dbc.Label(t(key, lang), html_for=component_id),
                dcc.Dropdown(
                    id=component_id,
                    options=[{"label": label(v), "value": v} for v in values],
                    placeholder=t("dash.audit.any", lang),
                    clearable=True,
                ),
            ],
            md=3,
        )

    return html.Div(
        [
            dcc.Store(id=ids.AU_LANG, data=lang),
            html.H2(t("dash.audit.title", lang), className="page-title"),
            html.P(t("dash.audit.lead", lang), className="text-muted"),
            dbc.Row(
                [
                    dropdown(ids.AU_USER, "dash.audit.user", options["user"]),
                    dropdown(ids.AU_ACTION, "dash.audit.action", options["action"], lambda a: action_words(a, lang)),
                    dbc.Col(
                        [
                            dbc.Label(t("dash.audit.dates", lang)),
                            html.Div(
                                dcc.DatePickerRange(
                                    id=ids.AU_DATES,
                                    display_format="YYYY-MM-DD",
                                    start_date_placeholder_text=t("dash.audit.date_from", lang),
                                    end_date_placeholder_text=t("dash.audit.date_to", lang),
                                    clearable=True,
                                    first_day_of_week=1,
                                )
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        dbc.Button(
                            t("dash.audit.download", lang),
                            id=ids.AU_DOWNLOAD_BTN,
                            color="secondary",
                            outline=True,
                            className="mt-4",
                        ),
                        md=2,
                    ),
                ],
                className="g-3 mb-3",
            ),
            html.Div(id=ids.AU_COUNT, className="text-muted small mb-2"),
            dcc.Loading(html.Div(id=ids.AU_TABLE), type="dot"),
            html.Div(_pager(1, 1, lang), id=ids.AU_PAGER),
            dcc.Store(id=ids.AU_PAGE, data=1),
            dcc.Download(id=ids.AU_DOWNLOAD),
        ]
    )


def _date(value: object) -> str | None:
    """The ISO date (YYYY-MM-DD) a date picker sends, or None; ValueError for anything else."""
    if value in (None, ""):
        return None
    text = str(value)[:10]
    dt.date.fromisoformat(text)
    if len(text) != 10:
        raise ValueError(text)
    return text


def _filters(username: str | None, action: str | None, start: object, end: object) -> q.AuditFilters:
    return q.AuditFilters(
        username=str(username) if username else None,
        action=str(action) if action else None,
        date_from=_date(start),
        date_to=_date(end),
    )


def column_header(column: str, lang: str) -> str:
    """A column's header in `lang`; the time says its zone ("Time (UTC+5)"): the log stores UTC."""
    header = t(f"dash.audit.col.{column}", lang)
    return clock.zoned(header) if column == "occurred_at" else header


def events_view(frame: pl.DataFrame, lang: str) -> Any:
    """The page's table (times to the second, actions and details in the reader's words), or the empty state.

    The details read as "key: value" lines (`audit.details_in_words`), whole: the stored JSON, cut at 300
    characters, was what the reviewer read before. The CSV download keeps the JSON as stored."""
    if frame.height == 0:
        return empty_state(t("dash.audit.empty", lang))
    shown = frame.with_columns(
        clock.local_text("occurred_at", "%Y-%m-%d %H:%M:%S").alias("occurred_at"),
        pl.col("details")
        .cast(pl.String)
        .map_elements(lambda d: details_in_words(d, lang), return_dtype=pl.String, skip_nulls=False),
        pl.col("action").cast(pl.String).map_elements(lambda a: action_words(a, lang), return_dtype=pl.String),
    )
    return table(
        shown,
        [(c, column_header(c, lang)) for c in COLUMNS],
        "audit-events-table",
        page_size=PAGE_SIZE,
        sortable=False,
        multiline=("details",),
    )


def _pager(page: int, pages: int, lang: str) -> Any:
    """The log's pager at `page` of `pages` (shown even for one page)."""
    return pager.pager(ids.AU_PAGER, page, pages, lang, class_name="mt-2")


@callback(
    Output(ids.AU_TABLE, "children"),
    Output(ids.AU_COUNT, "children"),
    Output(ids.AU_PAGER, "children"),
    Output(ids.AU_PAGE, "data"),
    Input(ids.AU_USER, "value"),
    Input(ids.AU_ACTION, "value"),
    Input(ids.AU_DATES, "start_date"),
    Input(ids.AU_DATES, "end_date"),
    Input(ids.AU_PAGE, "data"),
    State(ids.AU_LANG, "data"),
)
def show_events(
    username: str | None,
    action: str | None,
    start: str | None,
    end: str | None,
    active_page: int | None,
    lang: str | None,
) -> tuple[Any, Any, Any, int]:
    """One page (200 events) of the filtered log, newest first; a changed filter goes back to page 1."""
    require("audit")
    lang = lang_of(lang)
    try:
        filters = _filters(username, action, start, end)
    except ValueError:
        return error_alert([t("dash.audit.bad_date", lang)]), "", _pager(1, 1, lang), 1
    page = 1 if ctx.triggered_id != ids.AU_PAGE else max(1, int(active_page or 1))
    with cursor() as cur:
        frame = q.audit_log(cur, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if frame.height == 0 and page > 1:  # past the end (the log shrank under a filter): the first page
            page = 1
            frame = q.audit_log(cur, filters, limit=PAGE_SIZE, offset=0)
    total = int(frame["n_total"][0]) if frame.height else 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    count = t("dash.audit.count", lang, n=total, page=page, pages=pages)
    return events_view(frame, lang), count, _pager(page, pages, lang), page


@callback(
    Output(ids.AU_PAGE, "data", allow_duplicate=True),
    Input(pager.every_button(ids.AU_PAGER), "n_clicks"),
    State(pager.every_button(ids.AU_PAGER), "value"),
    State(ids.AU_PAGE, "data"),
    prevent_initial_call=True,
)
def go_to_page(_clicks: list[int | None], targets: list[Any], shown: int | None) -> Any:
    """A click on the pager: the page its button goes to becomes the stored page, which fires `show_events`
    (nothing when the pager was only drawn again, or the page is the one shown)."""
    require("audit")
    page = pager.clicked_page(ctx.triggered_id, ctx.inputs_list[0], targets)
    return dash.no_update if page is None or page == shown else page


@callback(
    Output(ids.AU_DOWNLOAD, "data"),
    Input(ids.AU_DOWNLOAD_BTN, "n_clicks"),
    State(ids.AU_USER, "value"),
    State(ids.AU_ACTION, "value"),
    State(ids.AU_DATES, "start_date"),
    State(ids.AU_DATES, "end_date"),
    prevent_initial_call=True,
)
def download_events(
    n_clicks: int | None, username: str | None, action: str | None, start: str | None, end: str | None
) -> Any:
    """Every event matching the filters as CSV (UTF-8 with BOM, formula-safe); the download is itself audited."""
    require("audit")
    if not n_clicks:
        return dash.no_update
    try:
        filters = _filters(username, action, start, end)
    except ValueError:
        return dash.no_update
    with cursor() as cur:
        frame = q.audit_log(cur, filters, limit=MAX_EXPORT_ROWS, offset=0)
    if frame.height:
        frame = frame.select(
            "event_id",
            clock.local_text("occurred_at", "%Y-%m-%dT%H:%M:%S%.6f%:z").alias("occurred_at"),  # unambiguous anywhere
            *(pl.col(c).cast(pl.String) for c in COLUMNS[1:]),
        )
    else:
        frame = pl.DataFrame(schema={"event_id": pl.Int64, **dict.fromkeys(COLUMNS, pl.String)})
    text = write_csv(frame) or ""
    audit_event(
        "export",
        "audit_log",
        {**{k: v for k, v in filters.params().items() if v is not None}, "format": "csv", "rows": frame.height},
    )
    return dcc.send_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"), "pilot-roi-audit-log.csv", type="text/csv")
