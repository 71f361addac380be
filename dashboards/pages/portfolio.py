"""Portfolio (executives): demonstrated gains with their uncertainty, across pilots, subsidiaries and use cases.

Reads only precomputed results of the latest finished estimate run (never raw observations).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboards import ids
from dashboards.components import figures, reestimate
from dashboards.components.ui import (
    empty_state,
    grade_badge,
    headline_card,
    label,
    money_interval,
    num,
    section_card,
)
from dashboards.components.wire import wire
from dashboards.context import access, cursor, lang_of
from dashboards.security import require
from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import format_money, format_number, format_percent, t

dash.register_page(__name__, path="/", name="portfolio", title="pilot-roi", order=0)


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """Filters, headline cards, forest plot, gains by subsidiary and use case, cumulative gain, the table."""
    require("read")
    lang = lang_of(lang)
    with cursor() as cur:
        options = q.filter_options(cur, lang)
        info = q.warehouse_info(cur)
    title = [
        html.H2(t("dash.portfolio.title", lang), className="page-title"),
        html.P(t("dash.portfolio.lead", lang), className="text-muted"),
    ]
    poll = reestimate.poll_components(ids.PF_POLL, ids.PF_VERSION, ids.PF_NOTICE, q.results_version(info))
    if "latest_run_id" not in info:  # polled too: the content fills in once the first run finishes
        waiting = empty_state(t("dash.empty.no_run", lang), t("dash.empty.no_run_hint", lang))
        return html.Div([dcc.Store(id=ids.PF_LANG, data=lang), *poll, *title, html.Div(waiting, id=ids.PF_EMPTY)])
    return html.Div([dcc.Store(id=ids.PF_LANG, data=lang), *poll, *title, *_content(options, lang)])


def _content(options: dict[str, list[tuple[str, str]]], lang: str) -> list[Any]:
    """The filters and the body (cards, charts, table) that the content callback fills in."""
    filters = dbc.Row(
        [
            _dropdown(
                ids.PF_SUBSIDIARY, t("dash.filter.subsidiary", lang), [(v, lab) for v, lab in options["subsidiary"]]
            ),
            _dropdown(
                ids.PF_USE_CASE,
                t("dash.filter.use_case", lang),
                [(v, label("use_case", v, lang)) for v, _ in options["use_case"]],
            ),
            _dropdown(ids.PF_YEAR, t("dash.filter.year", lang), options["year"]),
            _dropdown(
                ids.PF_GRADE, t("dash.filter.grade", lang), [(g, figures.grade_label(g, lang)) for g in q.GRADES]
            ),
        ],
        className="g-2 mb-3",
    )
    return [filters, _body(lang)]


def _dropdown(component_id: str, placeholder: str, options: list[tuple[str, str]]) -> dbc.Col:
    return dbc.Col(
        dcc.Dropdown(
            id=component_id,
            options=[{"label": lab, "value": value} for value, lab in options],
            multi=True,
            placeholder=placeholder,
        ),
        md=3,
    )


def _body(lang: str) -> html.Div:
    def graph(component_id: str) -> dcc.Graph:
        return dcc.Graph(id=component_id, config={"displaylogo": False, "responsive": True})

    return html.Div(
        [
            dbc.Row(id=ids.PF_CARDS, className="g-3 mb-3"),
            section_card(
                t("dash.portfolio.forest", lang),
                graph(ids.PF_FOREST),
                t("dash.portfolio.forest_help", lang),
                "mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(section_card(t("dash.portfolio.by_subsidiary", lang), graph(ids.PF_BY_SUBSIDIARY)), lg=6),
                    dbc.Col(section_card(t("dash.portfolio.by_use_case", lang), graph(ids.PF_BY_USE_CASE)), lg=6),
                ],
                className="g-3 mb-3",
            ),
            section_card(
                t("dash.portfolio.cumulative", lang),
                graph(ids.PF_CUMULATIVE),
                t("dash.portfolio.cumulative_help", lang),
                "mb-3",
            ),
            section_card(t("dash.portfolio.table", lang), html.Div(id=ids.PF_TABLE), class_name="mb-3"),
        ]
    )


def cards(head: q.Headline, lang: str) -> list[dbc.Col]:
    """The four headline cards, each with its one-line explanation and a link to where it comes from."""
    best = f"/pilots/{head.best_pilot_code}" if head.best_pilot_code else None
    grade_counts = html.Div(
        [
            html.Span([grade_badge(g, lang), f" {head.by_grade.get(g, 0)}"], className="me-2 d-inline-block")
            for g in q.GRADES
        ],
        className="mb-1",
    )
    roi_text = format_percent(100 * head.median_roi, lang, 0) if head.median_roi is not None else "—"
    items = [
        headline_card(
            "portfolio-card-gain",
            t("dash.card.gain", lang),
            format_money(head.demonstrated_gain_kzt, lang),
            t(
                "dash.card.gain_caption",
                lang,
                n=head.n_demonstrated,
                ci=money_interval(head.demonstrated_gain_ci_low, head.demonstrated_gain_ci_high, lang),
            ),
            best,
        ),
        headline_card(
            "portfolio-card-grades",
            t("dash.card.grades", lang),
            format_number(head.n_estimates, lang),
            t("dash.card.grades_caption", lang, pilots=head.n_pilots),
            None,
            grade_counts,
        ),
        headline_card(
            "portfolio-card-invested",
            t("dash.card.invested", lang),
            format_money(head.total_invested_kzt, lang),
            t(
                "dash.card.invested_caption",
                lang,
                pilots=head.n_pilots,
                opex=format_money(head.total_opex_kzt_per_year, lang),
            ),
        ),
        headline_card(
            "portfolio-card-roi",
            t("dash.card.roi", lang),
            roi_text,
            t("dash.card.roi_caption", lang),
        ),
    ]
    return [dbc.Col(card, md=6, xl=3) for card in items]


def estimates_table(frame: pl.DataFrame, lang: str) -> Any:
    """Every pilot-metric shown, each number in words and linked to its pilot."""
    if frame.height == 0:
        return empty_state(t("dash.empty.no_match", lang))
    header = html.Thead(
        html.Tr([html.Th(t(f"dash.col.{c}", lang)) for c in ("pilot", "metric", "grade", "effect", "gain", "roi")])
    )
    rows = []
    for r in frame.iter_rows(named=True):
        rows.append(
            html.Tr(
                [
                    html.Td(dcc.Link(f"{r['pilot_code']} — {r['pilot_name']}", href=f"/pilots/{r['pilot_code']}")),
                    html.Td(r["metric_name"]),
                    html.Td(grade_badge(r.get("grade"), lang)),
                    html.Td(
                        f"{format_percent(num(r.get('effect_pct')), lang)} "
                        f"({format_percent(num(r.get('ci_low_pct')), lang)} … "
                        f"{format_percent(num(r.get('ci_high_pct')), lang)})"
                    ),
                    html.Td(
                        f"{format_money(num(r.get('annual_gain_kzt')), lang)} "
                        f"({money_interval(r.get('annual_gain_ci_low'), r.get('annual_gain_ci_high'), lang)})"
                    ),
                    html.Td(format_percent(100 * v, lang, 0) if (v := num(r.get("roi"))) is not None else "—"),
                ]
            )
        )
    return dbc.Table([header, html.Tbody(rows)], hover=True, size="sm", responsive=True, className="mb-0")


@callback(
    Output(ids.PF_CARDS, "children"),
    Output(ids.PF_FOREST, "figure"),
    Output(ids.PF_BY_SUBSIDIARY, "figure"),
    Output(ids.PF_BY_USE_CASE, "figure"),
    Output(ids.PF_CUMULATIVE, "figure"),
    Output(ids.PF_TABLE, "children"),
    Input(ids.PF_SUBSIDIARY, "value"),
    Input(ids.PF_USE_CASE, "value"),
    Input(ids.PF_YEAR, "value"),
    Input(ids.PF_GRADE, "value"),
    Input(ids.PF_LANG, "data"),
    Input(ids.PF_VERSION, "data"),
)
def update_portfolio(
    subsidiaries: list[str] | None,
    use_cases: list[str] | None,
    years: list[str] | None,
    grades: list[str] | None,
    lang: str | None,
    _shown_version: str | None = None,
) -> tuple[Any, ...]:
    """Everything on the page for the chosen filters (queries of precomputed results only); runs again when
    the polled results version changes (a new finished run)."""
    require("read")
    lang = lang_of(lang)
    filters = q.PortfolioFilters(
        subsidiaries=tuple(subsidiaries or ()),
        use_cases=tuple(use_cases or ()),
        years=tuple(int(y) for y in (years or ()) if str(y).isdigit()),
        grades=tuple(g for g in (grades or ()) if g in q.GRADES),
    )
    with cursor() as cur:
        version = q.results_version(q.warehouse_info(cur))
    return portfolio_view(str(access().path), version, filters, lang)


@lru_cache(maxsize=256)
def portfolio_view(warehouse: str, version: str, filters: q.PortfolioFilters, lang: str) -> tuple[Any, ...]:
    """The page's outputs for one results version, filter set and language (results of a run never change,
    so they are computed once per version; `warehouse` and `version` are the cache key), in their JSON wire
    form so that a cache hit does not serialise thousands of components again."""
    with cursor() as cur:
        frame = q.portfolio(cur, lang, filters)
        realized = q.realized_gain(cur, filters)
    head = q.portfolio_headline(frame)
    by_sub = q.gains_by(frame, "subsidiary_code", "subsidiary_name")
    by_uc = q.gains_by(frame, "use_case", "use_case")
    if by_uc.height:
        by_uc = by_uc.with_columns(
            pl.col("use_case").map_elements(lambda v: label("use_case", v, lang), return_dtype=pl.String)
        )
    return tuple(
        wire(
            (
                cards(head, lang),
                figures.forest_plot(frame, lang),
                figures.gains_bar(by_sub, "subsidiary_name", lang),
                figures.gains_bar(by_uc, "use_case", lang),
                figures.cumulative_gain(realized, lang),
                estimates_table(frame, lang),
            )
        )
    )


@callback(
    Output(ids.PF_VERSION, "data"),
    Output(ids.PF_NOTICE, "children"),
    Input(ids.PF_POLL, "n_intervals"),
    State(ids.PF_VERSION, "data"),
    State(ids.PF_LANG, "data"),
    prevent_initial_call=True,
)
def poll_portfolio_results(_n: int | None, known: str | None, lang: str | None) -> tuple[Any, Any]:
    """Every 10 s: when a new run finished (or the registry changed), store the new version, which refreshes
    the page, and say so."""
    require("read")
    return reestimate.poll_results(known, lang_of(lang))


@callback(
    Output(ids.PF_EMPTY, "children"),
    Input(ids.PF_VERSION, "data"),
    State(ids.PF_LANG, "data"),
    prevent_initial_call=True,
)
def fill_in_first_run(_version: str | None, lang: str | None) -> Any:
    """The page opened before any run finished: when the polled version says one has, put the filters and
    the body in place of the empty state (their content callback then runs as for a page opened now)."""
    require("read")
    lang = lang_of(lang)
    with cursor() as cur:
        if "latest_run_id" not in q.warehouse_info(cur):
            return dash.no_update
        options = q.filter_options(cur, lang)
    return _content(options, lang)


@callback(Output(ids.REDIRECT, "href"), Input(ids.PF_FOREST, "clickData"), prevent_initial_call=True)
def open_pilot(click: dict[str, Any] | None) -> Any:
    """A click on a point of the forest plot opens its pilot."""
    require("read")
    try:
        code = str(click["points"][0]["customdata"][0])  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return dash.no_update
    return f"/pilots/{code}"
