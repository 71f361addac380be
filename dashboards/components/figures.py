"""Pure figure builders: polars frames in, Plotly figures out (plain dicts). No queries, no callbacks.

The figures are plain Plotly JSON dicts ({"data": [...], "layout": {...}}) rather than `go.Figure`
objects: dcc.Graph takes either, and building the object model (validation, template copies) cost
~40 ms per figure on the server — most of a callback's time. Colours are the Okabe–Ito palette (safe for
the common colour-vision deficiencies); grades also differ by marker symbol, so a grey print still reads.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from datetime import date
from typing import Any

import polars as pl

from pilot_roi.i18n import format_money, format_number, format_percent, t

Figure = dict[str, Any]

GRADE_ORDER: tuple[str, ...] = ("demonstrated", "promising", "inconclusive", "adverse", "insufficient_data")
GRADE_COLORS: dict[str, str] = {
    "demonstrated": "#009E73",  # bluish green
    "promising": "#56B4E9",  # sky blue
    "inconclusive": "#999999",  # grey
    "adverse": "#D55E00",  # vermillion
    "insufficient_data": "#E69F00",  # orange
}
GRADE_SYMBOLS: dict[str, str] = {
    "demonstrated": "circle",
    "promising": "diamond",
    "inconclusive": "square",
    "adverse": "x",
    "insufficient_data": "triangle-up",
}
OBSERVED_COLOR = "#0072B2"  # blue
COUNTERFACTUAL_COLOR = "#E69F00"  # orange
BAND_COLOR = "rgba(230, 159, 0, 0.18)"
CONTROLS_COLOR = "#7F7F7F"  # grey: the comparison, not the evidence
FONT = "Inter, 'DejaVu Sans', 'Segoe UI', Roboto, Arial, sans-serif"
_SEPARATORS = {"ru": ", ", "kk": ", ", "en": ".,"}  # Plotly: decimal mark, then thousands separator
# Numbers in full with the page's thousands separator ("60 000"): Plotly's SI suffixes ("60k", "5B") are English
# whatever the page's language; tenge axes get their ticks in words instead (`money_ticks`).
_AXIS = {
    "gridcolor": "#e9ecef",
    "zerolinecolor": "#ced4da",
    "linecolor": "#ced4da",
    "automargin": True,
    "exponentformat": "none",
    "separatethousands": True,
}
# Date axes as ISO numbers: Plotly's month names are English whatever the page's language (it ships no Kazakh).
DATE_AXIS: dict[str, Any] = {
    "tickformatstops": [
        {"dtickrange": [None, "M1"], "value": "%Y-%m-%d"},
        {"dtickrange": ["M1", None], "value": "%Y-%m"},
    ],
    "hoverformat": "%Y-%m-%d",
}

# The legend sits under the chart, at the container's foot: above it, it met the go-live label and the mode
# bar (which Plotly draws over the top right corner on hover); Plotly widens the bottom margin to fit it.
LEGEND: dict[str, Any] = {
    "orientation": "h",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
    "x": 0,
    "xanchor": "left",
}

# dcc.Graph's config for every chart: no Plotly logo, and no box/lasso select (no chart reads a selection), so
# the mode bar stays short in the top right margin, clear of the go-live label and the legend below.
GRAPH_CONFIG: dict[str, Any] = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def _figure(data: list[dict[str, Any]], lang: str, *, height: int = 360, **layout: Any) -> Figure:
    base: dict[str, Any] = {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": FONT, "size": 13},
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "height": height,
        "hoverlabel": {"font": {"family": FONT}},
        "legend": dict(LEGEND),
        "separators": _SEPARATORS.get(lang, ".,"),
        "xaxis": dict(_AXIS),
        "yaxis": dict(_AXIS),
    }
    for key, value in layout.items():
        if key in ("xaxis", "yaxis"):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return {"data": data, "layout": base}


EMPTY_MESSAGE_CHARS = 34
"""Characters a line of an empty chart's message holds (15 px text): a 360 px phone shows the whole message."""


def _wrapped(text: str, width: int) -> str:
    """`text` in lines of at most `width` characters, broken at spaces (a longer word keeps its line; codes never
    break at their hyphens), escaped for Plotly's HTML-like text and joined by its line break."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [text]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


# The axes of a blank figure: drawn (not `visible: False`) but bare. When a chart with data becomes blank (a filter
# that matches nothing), Plotly keeps the margin an invisible axis had pushed out for its tick labels; the message,
# centred on the plot area, then sat off-centre and ran off a phone's screen. A drawn bare axis pushes nothing.
_BARE_AXIS: dict[str, Any] = {
    "showticklabels": False,
    "showgrid": False,
    "zeroline": False,
    "showline": False,
    "ticks": "",
    "title": {"text": ""},
    "fixedrange": True,
}


def empty_figure(message: str, *, height: int = 300, lang: str = "en") -> Figure:
    """A blank figure that says why it is blank, the message wrapped to fit a phone's width."""
    return _figure(
        [],
        lang,
        height=height,
        xaxis=_BARE_AXIS,
        yaxis=_BARE_AXIS,
        annotations=[
            {
                "text": _wrapped(message, EMPTY_MESSAGE_CHARS),
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "font": {"size": 15},
            }
        ],
    )


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def money_ticks(values: list[Any], lang: str, *, ticks: int = 5) -> dict[str, Any]:
    """Tick positions and their labels in the page's words ("5 млрд", "2,5 bn") for a tenge axis spanning zero
    and `values`; {} (Plotly's own ticks) when there is no span. About `ticks` ticks, at 1, 2, 2.5 or 5 × 10^k."""
    finite = [v for v in (_num(x) for x in values) if v is not None]
    low, high = min([0.0, *finite]), max([0.0, *finite])
    if high <= low:
        return {}
    rough = (high - low) / max(1, ticks - 1)
    magnitude = 10.0 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= rough * (1 - 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    positions = [round(i * step, 6) for i in range(first, last + 1)]
    return {"tickmode": "array", "tickvals": positions, "ticktext": [_money_tick(v, lang) for v in positions]}


def _money_tick(value: float, lang: str) -> str:
    """A tick's amount in words without the currency sign (the axis title has it): "0", "5 млрд", "2,5 bn"."""
    if value == 0:
        return "0"
    text = format_money(value, lang, 1).removesuffix(" ₸")
    return re.sub(r"[.,]0(?=\s|$)", "", text)


def grade_label(grade: str, lang: str) -> str:
    """The grade in words."""
    return t(f"dash.grade.{grade}", lang)


def forest_plot(frame: pl.DataFrame, lang: str, *, empty: str | None = None) -> Figure:
    """Every pilot-metric's effect in % with its 95% CI, one row each, coloured and shaped by grade.

    `frame` has pilot_code, pilot_name, metric_name, effect_pct, ci_low_pct, ci_high_pct, grade,
    annual_gain_kzt. Each point's customdata[0] is its pilot code (a click opens the pilot). `empty` says why a
    frame without rows is empty (default: no estimates yet; the portfolio passes "nothing matches the filters").

    Each row's label ("KMG-EN-02 · Refinery energy use", wrapped at `FOREST_LABEL_CHARS`) is written above its
    interval, inside the plot, rather than as a tick label beside it: on a 390 px phone the tick labels took
    Plotly's whole automargin and still ran off the left edge, leaving the intervals a 64 px strip. Rows are as
    tall as their label, the largest effect on top.
    """
    rows = [r for r in frame.iter_rows(named=True) if _num(r.get("effect_pct")) is not None] if frame.height else []
    if not rows:
        if frame.height:  # rows, none with a number (e.g. the filters chose insufficient data)
            return empty_figure(t("dash.empty.no_effect", lang), lang=lang)
        return empty_figure(empty or t("dash.empty.no_estimates", lang), lang=lang)
    rows.sort(key=lambda r: float(r["effect_pct"]), reverse=True)
    labels = [_forest_label(f"{r['pilot_code']} · {r['metric_name']}") for r in rows]
    centers, bottom = _forest_rows(labels)
    center_of = {id(r): c for r, c in zip(rows, centers, strict=True)}
    data = []
    for grade in GRADE_ORDER:
        chosen = [r for r in rows if r.get("grade") == grade]
        if not chosen:
            continue
        x = [float(r["effect_pct"]) for r in chosen]
        plus = [max(0.0, (_num(r.get("ci_high_pct")) or xi) - xi) for r, xi in zip(chosen, x, strict=True)]
        minus = [max(0.0, xi - (_num(r.get("ci_low_pct")) or xi)) for r, xi in zip(chosen, x, strict=True)]
        hover = [
            t(
                "dash.forest.hover",
                lang,
                pilot=r["pilot_name"],
                metric=r["metric_name"],
                effect=format_percent(_num(r.get("effect_pct")), lang),
                low=format_percent(_num(r.get("ci_low_pct")), lang),
                high=format_percent(_num(r.get("ci_high_pct")), lang),
                gain=format_money(_num(r.get("annual_gain_kzt")), lang),
                grade=grade_label(grade, lang),
            )
            for r in chosen
        ]
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": [center_of[id(r)] for r in chosen],
                "mode": "markers",
                "name": grade_label(grade, lang),
                "marker": {"color": GRADE_COLORS[grade], "symbol": GRADE_SYMBOLS[grade], "size": 10},
                "error_x": {
                    "type": "data",
                    "array": plus,
                    "arrayminus": minus,
                    "color": GRADE_COLORS[grade],
                    "width": 0,
                },
                "customdata": [[r["pilot_code"]] for r in chosen],
                "hovertext": hover,
                "hoverinfo": "text",
            }
        )
    low, high = _forest_span(rows)
    data.append(
        {
            "type": "scatter",
            "mode": "text",
            "x": [low] * len(rows),
            "y": [c - _FOREST_LABEL_GAP for c in centers],
            "text": labels,
            "textposition": "top right",
            "textfont": {"size": 12, "color": "#343a40"},
            "cliponaxis": False,
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "labels",
        }
    )
    return _figure(
        data,
        lang,
        height=max(320, round(bottom) + 120),
        xaxis={"title": {"text": t("dash.forest.x", lang)}, "zeroline": False, "range": [low, high]},
        # y counts (about) pixels from the top down: each row is as tall as its label needs
        yaxis={
            "range": [bottom, 0],
            "autorange": False,
            "tickmode": "array",
            "tickvals": centers,
            "showticklabels": False,
            "zeroline": False,
        },
        shapes=[_vline(0)],
    )


FOREST_LABEL_CHARS = 34
"""Characters a line of a forest-plot row label holds before it wraps: ~240 px of 12 px text, which fits the plot
of a 360 px phone."""
_FOREST_LINE = 15.0  # px a label line takes (12 px text at Plotly's line spacing)
_FOREST_LABEL_GAP = 10.0  # px between a label's last line and its row's marker centre (the marker's radius is 5)
_FOREST_ROW_FOOT = 11.0  # px under a row's marker centre before the next row's label


def _forest_label(text: str) -> str:
    """A forest-plot row label wrapped at FOREST_LABEL_CHARS."""
    return _wrapped(text, FOREST_LABEL_CHARS)


def _forest_rows(labels: list[str]) -> tuple[list[float], float]:
    """Each row's marker centre (px from the top of the plot) and the bottom of the last row: a row holds its
    label's lines above its marker."""
    centers: list[float] = []
    top = 0.0
    for label in labels:
        lines = label.count("<br>") + 1
        center = top + 4.0 + lines * _FOREST_LINE + _FOREST_LABEL_GAP
        centers.append(center)
        top = center + _FOREST_ROW_FOOT
    return centers, top


def _forest_span(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The x range: every effect, both ends of every interval and zero, with 4% to spare each side (fixed rather
    than Plotly's autorange, so that the labels start at its left edge)."""
    values = [0.0]
    for r in rows:
        values.extend(v for v in (_num(r.get(k)) for k in ("effect_pct", "ci_low_pct", "ci_high_pct")) if v is not None)
    low, high = min(values), max(values)
    pad = 0.04 * (high - low) if high > low else 1.0
    return low - pad, high + pad


def _vline(x: Any) -> dict[str, Any]:
    return {
        "type": "line",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"color": "#444", "width": 1, "dash": "dot"},
    }


def gains_bar(frame: pl.DataFrame, label: str, lang: str, *, empty: str | None = None) -> Figure:
    """Horizontal bars of demonstrated annual gain (KZT) by the `label` column, largest on top; `empty` says why
    there are none (default: no demonstrated gains yet)."""
    if frame.height == 0:
        return empty_figure(empty or t("dash.empty.no_demonstrated", lang), height=260, lang=lang)
    labels = [str(v) for v in frame[label].to_list()]
    values = [float(v) for v in frame["annual_gain_kzt"].to_list()]
    trace = {
        "type": "bar",
        "x": values,
        "y": labels,
        "orientation": "h",
        "marker": {"color": GRADE_COLORS["demonstrated"]},
        "text": [format_money(v, lang) for v in values],
        "textposition": "auto",
        "hovertext": [f"{lab}: {format_money(v, lang)}" for lab, v in zip(labels, values, strict=True)],
        "hoverinfo": "text",
    }
    return _figure(
        [trace],
        lang,
        height=max(220, 40 * len(labels) + 100),
        yaxis={"autorange": "reversed"},
        xaxis={"title": {"text": t("dash.axis.kzt_per_year", lang)}, **money_ticks(values, lang)},
    )


def cumulative_gain(frame: pl.DataFrame, lang: str, *, empty: str | None = None) -> Figure:
    """Cumulative realized gain (KZT) over months, from a frame with month and cumulative_kzt; `empty` says why
    there is none (default: no realized gain yet)."""
    if frame.height == 0:
        return empty_figure(empty or t("dash.empty.no_realized", lang), height=300, lang=lang)
    months = frame["month"].to_list()
    values = [float(v) for v in frame["cumulative_kzt"].to_list()]
    trace = {
        "type": "scatter",
        "x": [m.isoformat() for m in months],
        "y": values,
        "mode": "lines",
        "fill": "tozeroy",
        "line": {"color": GRADE_COLORS["demonstrated"], "width": 2},
        "hovertext": [f"{m:%Y-%m}: {format_money(v, lang)}" for m, v in zip(months, values, strict=True)],
        "hoverinfo": "text",
    }
    yaxis = {"title": {"text": t("dash.axis.kzt", lang)}, **money_ticks(values, lang)}
    return _figure([trace], lang, height=300, xaxis=DATE_AXIS, yaxis=yaxis)


def _iso(values: list[Any]) -> list[Any]:
    return [v.isoformat() if isinstance(v, date) else v for v in values]


def counterfactual_chart(frame: pl.DataFrame, go_live: date | None, unit: str, lang: str) -> Figure:
    """Observed vs counterfactual (mean per treated site) with the 95% band and the go-live marked."""
    if frame.height == 0:
        return empty_figure(t("dash.empty.no_counterfactual", lang), lang=lang)
    periods = _iso(frame["period"].to_list())
    data: list[dict[str, Any]] = []
    low = frame["ci_low"].to_list()
    high = frame["ci_high"].to_list()
    if any(v is not None for v in low) and any(v is not None for v in high):
        edge = {"type": "scatter", "x": periods, "mode": "lines", "line": {"width": 0}, "hoverinfo": "skip"}
        data.append({**edge, "y": high, "showlegend": False})
        data.append({**edge, "y": low, "fill": "tonexty", "fillcolor": BAND_COLOR, "name": t("dash.cf.band", lang)})
    line = {"type": "scatter", "x": periods, "mode": "lines"}
    data.append(
        {
            **line,
            "y": frame["counterfactual"].to_list(),
            "name": t("dash.cf.counterfactual", lang),
            "line": {"color": COUNTERFACTUAL_COLOR, "dash": "dash", "width": 2},
        }
    )
    data.append(
        {
            **line,
            "y": frame["observed"].to_list(),
            "name": t("dash.cf.observed", lang),
            "line": {"color": OBSERVED_COLOR, "width": 2},
        }
    )
    return _series_figure(data, go_live, unit, lang)


def observed_chart(frame: pl.DataFrame, go_live: date | None, unit: str, lang: str) -> Figure:
    """The values received, mean per treated site and per control site, with the go-live marked: what a pilot-metric
    without an estimate shows instead of a counterfactual (`frame`: period, treated, controls)."""
    if frame.height == 0:
        return empty_figure(t("dash.empty.no_values", lang), lang=lang)
    periods = _iso(frame["period"].to_list())
    data: list[dict[str, Any]] = []
    for column, color, key in (
        ("treated", OBSERVED_COLOR, "dash.cf.treated_mean"),
        ("controls", CONTROLS_COLOR, "dash.cf.controls_mean"),
    ):
        values = frame[column].to_list()
        if any(v is not None for v in values):
            trace = {"type": "scatter", "x": periods, "y": values, "mode": "lines", "name": t(key, lang)}
            data.append({**trace, "line": {"color": color, "width": 2}})
    return _series_figure(data, go_live, unit, lang)


SERIES_TOP_MARGIN = 54
"""px above a time-series plot. The mode bar takes the chart's top ~28 px (right-aligned; two thirds of a phone's
width): the go-live label, drawn just above the plot, sits below that strip instead of behind the bar."""


def _series_figure(data: list[dict[str, Any]], go_live: date | None, unit: str, lang: str) -> Figure:
    """A time-series chart over dates with the go-live as a dotted line labelled above the plot, below the mode
    bar's strip (`SERIES_TOP_MARGIN`)."""
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if go_live is not None:
        x = go_live.isoformat()
        shapes.append({**_vline(x), "line": {"color": "#333", "width": 1.5, "dash": "dot"}})
        annotations.append(
            {
                "x": x,
                "y": 1,
                "yref": "paper",
                "text": t("dash.cf.go_live", lang),
                "showarrow": False,
                "yanchor": "bottom",
            }
        )
    return _figure(
        data,
        lang,
        height=380,
        margin={"l": 10, "r": 10, "t": SERIES_TOP_MARGIN, "b": 10},
        xaxis=DATE_AXIS,
        yaxis={"title": {"text": unit}},
        shapes=shapes,
        annotations=annotations,
    )


def event_study_chart(frame: pl.DataFrame, unit: str, lang: str, frequency: str | None = None) -> Figure:
    """Event-study coefficients with 95% CIs; pre-periods (leads) and post-periods differ in colour. The x axis
    counts the metric's periods (`frequency`: days for a daily metric, months for a monthly one) and says which."""
    if frame.height == 0:
        return empty_figure(t("dash.empty.no_event_study", lang), height=300, lang=lang)
    data = []
    for is_post, color, key in ((False, "#999999", "dash.es.pre"), (True, OBSERVED_COLOR, "dash.es.post")):
        part = frame.filter((pl.col("event_time") >= 0) == is_post)
        if part.height == 0:
            continue
        att = [_num(v) for v in part["att"].to_list()]
        high = [_num(v) for v in part["ci_high"].to_list()]
        low = [_num(v) for v in part["ci_low"].to_list()]
        data.append(
            {
                "type": "scatter",
                "x": part["event_time"].to_list(),
                "y": att,
                "mode": "markers",
                "name": t(key, lang),
                "marker": {"color": color, "size": 8},
                "error_y": {
                    "type": "data",
                    "array": [
                        (h - a) if h is not None and a is not None else 0 for h, a in zip(high, att, strict=True)
                    ],
                    "arrayminus": [
                        (a - lo) if lo is not None and a is not None else 0 for lo, a in zip(low, att, strict=True)
                    ],
                    "color": color,
                    "width": 0,
                },
            }
        )
    zero = {
        "type": "line",
        "x0": 0,
        "x1": 1,
        "xref": "paper",
        "y0": 0,
        "y1": 0,
        "line": {"color": "#444", "width": 1, "dash": "dot"},
    }
    return _figure(
        data,
        lang,
        height=300,
        xaxis={"title": {"text": _event_time_title(frequency, lang)}},
        yaxis={"title": {"text": unit}},
        shapes=[zero, {**_vline(-0.5), "line": {"color": "#333", "width": 1, "dash": "dot"}}],
    )


def _event_time_title(frequency: str | None, lang: str) -> str:
    """ "Periods relative to go-live, in days": event time counts the metric's periods (-800 is 800 days before a
    daily metric's go-live, 18 months before a monthly one's)."""
    key = f"method_choice.frequency.{frequency}"
    word = t(key, lang) if frequency else key
    return t("dash.es.x", lang) if word == key else t("dash.es.x_in", lang, unit=word)


def coverage_heatmap(frame: pl.DataFrame, lang: str) -> Figure:
    """Site × month heatmap of the share of expected observations present (0–100%)."""
    if frame.height == 0:
        return empty_figure(t("dash.empty.no_observations", lang), lang=lang)
    sites = sorted({str(s) for s in frame["site_code"].to_list()})
    months = sorted(set(frame["month"].to_list()))
    index = {(str(r["site_code"]), r["month"]): float(r["coverage"]) for r in frame.iter_rows(named=True)}
    z = [[round(100 * index[(s, m)], 1) if (s, m) in index else 0.0 for m in months] for s in sites]
    trace = {
        "type": "heatmap",
        "z": z,
        "x": _iso(months),
        "y": sites,
        "zmin": 0,
        "zmax": 100,
        "colorscale": "Cividis",
        "colorbar": {"title": {"text": "%"}},
        "hovertemplate": "%{y} · %{x|%Y-%m}: %{z}%<extra></extra>",
    }
    return _figure([trace], lang, height=max(300, 22 * len(sites) + 120), xaxis=DATE_AXIS)


def number_or_dash(value: Any, lang: str, decimals: int = 2) -> str:
    """A number formatted for `lang`, or an em dash."""
    return format_number(_num(value), lang, decimals)
