"""Small UI pieces: headline cards, grade badges, tables, alerts and the plain-language verdict (pure)."""

from __future__ import annotations

import json
import math
from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import dash_table, dcc, html

from dashboards.components.figures import GRADE_COLORS, grade_label
from pilot_roi.estimation.method_words import method_reason_in
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import format_money, format_number, format_percent, t

# How the interval was built is in the method reason, in the reader's language; the estimator's own (English)
# inference label stays in the warehouse and the reports' technical appendix.
SHOWN_DIAGNOSTICS: tuple[str, ...] = (
    "pre_rmse_pct",
    "placebo_p",
    "placebo_time_p",
    "randomization_p_value",
    "excluded_sites",
)
_TEXT_ON = {"demonstrated": "#fff", "adverse": "#fff", "promising": "#000", "inconclusive": "#000"}


def num(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def label(prefix: str, value: object, lang: str) -> str:
    """The word for a code (`dash.<prefix>.<value>`), or the code made readable when no message exists."""
    text = str(value or "")
    key = f"dash.{prefix}.{text}"
    word = t(key, lang)
    return text.replace("_", " ") if word == key else word


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
    """A chart without Plotly's logo in the mode bar."""
    return dcc.Graph(id=component_id, figure=figure, config={"displaylogo": False})


def table_or_empty(frame: pl.DataFrame, columns: list[tuple[str, str]], table_id: str, empty: str) -> Any:
    """`table(frame, columns, table_id)`, or the `empty` message when the frame has no rows."""
    return table(frame, columns, table_id) if frame.height else empty_state(empty)


def money_interval(low: Any, high: Any, lang: str) -> str:
    """ "95% CI a – b" in money."""
    return t("dash.ci95", lang, low=format_money(num(low), lang), high=format_money(num(high), lang))


def table(
    frame: pl.DataFrame,
    columns: list[tuple[str, str]],
    table_id: str,
    *,
    page_size: int = 15,
    sortable: bool = True,
    markdown: tuple[str, ...] = (),
) -> dash_table.DataTable:
    """A sortable DataTable of `frame` with `columns` [(column, header), ...]; dates and numbers as text."""
    records: list[dict[str, Any]] = []
    for row in frame.iter_rows(named=True) if frame.height else []:
        records.append({c: _cell(row.get(c)) for c, _ in columns})
    return dash_table.DataTable(
        id=table_id,
        data=records,
        columns=[
            {"name": header, "id": col, **({"presentation": "markdown"} if col in markdown else {})}
            for col, header in columns
        ],
        sort_action="native" if sortable else "none",
        page_size=page_size,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "fontSize": "0.9rem", "textAlign": "left", "padding": "4px 8px"},
        style_header={"fontWeight": "600", "backgroundColor": "#f1f3f5"},
        markdown_options={"link_target": "_self"},
    )


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
    effect_pct = num(row.get("effect_pct"))
    if row.get("status") != "ok" or effect_pct is None:
        reason = str(row.get("reason") or row.get("grade_reason") or "insufficient_data")
        return t("dash.verdict.no_number", lang, metric=metric, reason=label("reason", reason, lang))
    effect = num(row.get("effect"))
    low, high = num(row.get("ci_low")), num(row.get("ci_high"))
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
        gain=format_money(num(row.get("annual_gain_kzt")), lang),
        grade=grade_label(grade, lang),
    )


def diagnostics_of(row: dict[str, Any]) -> dict[str, Any]:
    """An estimate's diagnostics (stored as JSON text) as a dict; empty when absent or unreadable."""
    try:
        diagnostics = json.loads(row.get("diagnostics") or "{}")
    except (TypeError, ValueError):
        return {}
    return diagnostics if isinstance(diagnostics, dict) else {}


def all_sites_treated(diagnostics: dict[str, Any]) -> bool:
    """Every site goes live at staggered dates: the comparison is the sites not yet live, there are no controls."""
    facts = diagnostics.get("method_choice")
    return isinstance(facts, dict) and facts.get("case") == "all_treated_staggered"


def diagnostics_in_words(row: dict[str, Any], lang: str) -> list[str]:
    """The design and its diagnostics as sentences (pre-trend test, placebo in time, leave-one-out, sample, method,
    grade reason)."""
    diagnostics = diagnostics_of(row)
    # With every site treated the estimator's control count is the not-yet-live comparison sites, not controls.
    all_treated = all_sites_treated(diagnostics)
    lines = [
        t(
            "dash.diag.design_all_treated" if all_treated else "dash.diag.design",
            lang,
            method=label("method", row.get("method") or "none", lang),
            treated=row.get("n_treated") or 0,
            controls=row.get("n_controls") or 0,
            pre=row.get("n_pre_periods") or 0,
            post=row.get("n_post_periods") or 0,
        )
    ]
    reason = method_reason_in(row.get("diagnostics"), row.get("method_reason"), lang)
    if reason:
        lines.append(t("dash.diag.method_reason", lang, reason=reason))
    pre_p = num(row.get("pre_trend_p"))
    if pre_p is not None:
        key = "dash.diag.pretrend_bad" if pre_p < 0.05 else "dash.diag.pretrend_ok"
        key += "_not_yet" if all_treated and pre_p >= 0.05 else ""
        lines.append(t(key, lang, p=format_number(pre_p, lang, 2)))
    p_value, q_value = num(row.get("p_value")), num(row.get("q_value"))
    if p_value is not None:
        lines.append(t("dash.diag.pq", lang, p=format_number(p_value, lang, 3), q=format_number(q_value, lang, 3)))
    mde = num(row.get("mde"))
    unit = row.get("unit") or ""
    if mde is not None:
        lines.append(t("dash.diag.mde", lang, mde=format_number(mde, lang, 2), unit=unit))
    lines.extend(_placebo_and_leave_one_out(diagnostics, unit, lang))
    # Only the diagnostics a reader can act on, in words; the full set stays in the warehouse and reports.
    for key in SHOWN_DIAGNOSTICS:
        value = diagnostics.get(key)
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            continue
        if isinstance(value, int):  # a count of sites, not a measurement
            shown = format_number(float(value), lang, 0)
        else:
            shown = format_number(float(value), lang, 3) if isinstance(value, float) else str(value)
        lines.append(t(f"dash.diag.{key}", lang, value=shown))
    if row.get("grade_reason"):
        lines.append(t("dash.diag.grade_reason", lang, reason=describe_grade_reason(str(row["grade_reason"]), lang)))
    return lines


def _placebo_and_leave_one_out(diagnostics: dict[str, Any], unit: str, lang: str) -> list[str]:
    """The placebo in time (a fake go-live in the pre-period) and the leave-one-control-out range, in words."""
    lines = []
    placebo = diagnostics.get("placebo_in_time")
    if isinstance(placebo, dict) and placebo.get("status") == "ok" and num(placebo.get("p_value")) is not None:
        lines.append(
            t(
                "dash.diag.placebo_in_time",
                lang,
                date=str(placebo.get("fake_go_live") or "—"),
                att=format_number(num(placebo.get("att")), lang, 2),
                unit=unit,
                p=format_number(num(placebo.get("p_value")), lang, 3),
            )
        )
    loo = diagnostics.get("leave_one_out")
    if isinstance(loo, dict) and loo.get("status") == "ok":
        low, high = format_number(num(loo.get("att_min")), lang, 2), format_number(num(loo.get("att_max")), lang, 2)
        lines.append(t("dash.diag.loo", lang, low=low, high=high, unit=unit))
    elif isinstance(loo, dict) and loo.get("reason") == "no_controls":
        lines.append(t("dash.diag.loo_no_controls", lang))
    return lines
