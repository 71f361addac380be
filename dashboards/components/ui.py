"""Small UI pieces: headline cards, grade badges, tables, alerts and the plain-language verdict (pure)."""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import dash_table, dcc, html

from dashboards.components.figures import GRADE_COLORS, GRAPH_CONFIG, grade_label
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import format_money, format_number, format_percent, t
from pilot_roi.numbers import finite_or_none

_TEXT_ON = {"demonstrated": "#fff", "adverse": "#fff", "promising": "#000", "inconclusive": "#000"}


def grade_badge(grade: str | None, lang: str) -> html.Span:
    """The grade as a coloured pill (colour-blind-safe palette, always with its word)."""
    grade = grade or "insufficient_data"
    return html.Span(
        grade_label(grade, lang),
        className="badge rounded-pill grade-badge",
        style={"backgroundColor": GRADE_COLORS.get(grade, "#999"), "color": _TEXT_ON.get(grade, "#000")},
    )


def headline_card(
    card_id: str, title: str, value: str, caption: str, href: str | None = None, extra: Any = None
) -> dbc.Card:
    """A headline number with its title and a one-line explanation; the caption links where the number comes from."""
    caption_el: Any = dcc.Link(caption, href=href, className="card-caption-link") if href else caption
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(title, className="card-kicker"),
                html.Div(value, className="card-number", id=card_id),
                extra if extra is not None else html.Span(),
                html.Div(caption_el, className="card-caption"),
            ]
        ),
        className="h-100 headline-card",
    )


def section_card(title: str, body: Any, help_text: str | None = None, class_name: str | None = None) -> dbc.Card:
    """A titled card around `body`; `help_text` is a small muted line above it (a chart's reading guide)."""
    content = [html.P(help_text, className="small text-muted"), body] if help_text is not None else body
    extra = {"className": class_name} if class_name is not None else {}
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(content)], **extra)


def plot(component_id: str, figure: Any) -> dcc.Graph:
    """A chart with the dashboard's mode bar (no logo, no selection tools)."""
    return dcc.Graph(id=component_id, figure=figure, config=GRAPH_CONFIG)


def table_or_empty(
    frame: pl.DataFrame,
    columns: list[tuple[str, str]],
    table_id: str,
    empty: str,
    *,
    numbers: tuple[str, ...] = (),
    lang: str = "en",
) -> Any:
    """`table(frame, columns, table_id, numbers=..., lang=...)`, or the `empty` message when the frame has no rows."""
    return table(frame, columns, table_id, numbers=numbers, lang=lang) if frame.height else empty_state(empty)


def money_interval(low: Any, high: Any, lang: str) -> str:
    """ "95% CI a – b" in money."""
    return t(
        "dash.ci95", lang, low=format_money(finite_or_none(low), lang), high=format_money(finite_or_none(high), lang)
    )


def interval_caption(low: str, high: str, lang: str) -> str:
    """ "95% CI a – b" from the formatted ends; when neither end has a number (no estimate), the words for that
    instead of "95% CI — – —"."""
    if low == "—" and high == "—":
        return t("dash.no_interval", lang)
    return t("dash.ci95", lang, low=low, high=high)


def table(
    frame: pl.DataFrame,
    columns: list[tuple[str, str]],
    table_id: str,
    *,
    page_size: int = 15,
    sortable: bool = True,
    markdown: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    multiline: tuple[str, ...] = (),
    lang: str = "en",
) -> dash_table.DataTable:
    """A sortable DataTable of `frame` with `columns` [(column, header), ...]; dates as text. The `numbers` columns
    stay numbers (they sort as numbers) and show with `lang`'s thousands separator and decimal mark; the
    `multiline` columns show their text's line breaks and wrap a long word (a hash) rather than widen the table."""
    records: list[dict[str, Any]] = []
    for row in frame.iter_rows(named=True) if frame.height else []:
        records.append({c: _cell(row.get(c)) for c, _ in columns})
    return dash_table.DataTable(
        id=table_id,
        data=records,
        columns=[
            {
                "name": header,
                "id": col,
                **({"presentation": "markdown"} if col in markdown else {}),
                **(number_column(lang) if col in numbers else {}),
            }
            for col, header in columns
        ],
        sort_action="native" if sortable else "none",
        page_size=page_size,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "fontSize": "0.9rem", "textAlign": "left", "padding": "4px 8px"},
        style_header={"fontWeight": "600", "backgroundColor": "#f1f3f5"},
        style_cell_conditional=[
            {"if": {"column_id": c}, "whiteSpace": "pre-line", "overflowWrap": "anywhere", "minWidth": "16rem"}
            for c in multiline
        ],
        markdown_options={"link_target": "_self"},
    )


def number_column(lang: str) -> dict[str, Any]:
    """A DataTable column's type and format for numbers in `lang`: "2 990", "4 200,5" (ru, kk), "2,990" (en)."""
    decimal, group = format_number(0.5, lang, 1)[1], format_number(1000, lang)[1]
    return {"type": "numeric", "format": {"locale": {"decimal": decimal, "group": group}, "specifier": ","}}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, (int, str, bool)):
        return value
    return str(value)


def empty_state(message: str, hint: str | None = None) -> html.Div:
    """What a page shows when there is nothing yet, and what to do about it."""
    return html.Div(
        [html.Div(message, className="empty-title"), html.Div(hint or "", className="empty-hint")],
        className="empty-state",
    )


def error_alert(lines: list[str]) -> dbc.Alert:
    """A refusal the user can act on, one line per problem."""
    return dbc.Alert([html.Div(line) for line in lines], color="danger", className="mb-2")


def verdict(row: dict[str, Any], lang: str) -> str:
    """The plain-language verdict of one estimate.

    E.g. "Energy use fell 4.2% (95% CI 2.9–5.5%), worth 310 M ₸ a year: demonstrated."
    """
    metric = str(row.get("metric_name") or row.get("metric_code") or "")
    grade = str(row.get("grade") or "insufficient_data")
    effect_pct = finite_or_none(row.get("effect_pct"))
    if row.get("status") != "ok" or effect_pct is None:
        reason = str(row.get("reason") or row.get("grade_reason") or "insufficient_data")
        return t("dash.verdict.no_number", lang, metric=metric, reason=describe_grade_reason(reason, lang))
    effect = finite_or_none(row.get("effect"))
    low, high = finite_or_none(row.get("ci_low")), finite_or_none(row.get("ci_high"))
    scale = effect_pct / effect if effect else None
    low_pct = low * scale if scale is not None and low is not None else None
    high_pct = high * scale if scale is not None and high is not None else None
    lows = sorted(abs(v) for v in (low_pct, high_pct) if v is not None)
    same_sign = low_pct is not None and high_pct is not None and (low_pct > 0) == (high_pct > 0)
    if same_sign and len(lows) == 2:
        interval = f"{format_number(lows[0], lang, 1)}–{format_percent(lows[1], lang)}"
    else:
        interval = f"{format_percent(low_pct, lang)} … {format_percent(high_pct, lang)}"
    direction = "rose" if effect_pct > 0 else "fell"
    return t(
        f"dash.verdict.{direction}",
        lang,
        metric=metric,
        pct=format_percent(abs(effect_pct), lang),
        interval=interval,
        gain=format_money(finite_or_none(row.get("annual_gain_kzt")), lang),
        grade=grade_label(grade, lang),
    )
