"""Portfolio (executives): demonstrated gains with their uncertainty, across pilots, subsidiaries and use cases.

Reads only precomputed results of the latest finished estimate run (never raw observations).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboards import ids
from dashboards.components import estimates_table, figures, pager, reestimate
from dashboards.components.ui import (
    empty_state,
    grade_badge,
    headline_card,
    money_interval,
    section_card,
)
from dashboards.components.wire import wire
from dashboards.context import access, cursor, lang_of
from dashboards.security import require
from pilot_roi import dashboard_queries as q
from pilot_roi.estimation.diagnostic_words import label
from pilot_roi.i18n import format_money, format_number, format_percent, t

_FILTERS = (ids.PF_SUBSIDIARY, ids.PF_USE_CASE, ids.PF_YEAR, ids.PF_GRADE)

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
        return dcc.Graph(id=component_id, config={**figures.GRAPH_CONFIG, "responsive": True})

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
            section_card(t("dash.portfolio.table", lang), _table_section(lang), class_name="mb-3"),
        ]
    )


def _table_section(lang: str) -> html.Div:
    """The estimates table's controls (sort, pilot search), one page of rows, and the pager under it."""
    controls = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id=ids.PF_TABLE_SORT,
                    options=estimates_table.sort_options(lang),
                    value=estimates_table.DEFAULT_SORT,
                    clearable=False,
                    searchable=False,
                ),
                md=4,
            ),
            dbc.Col(
                dbc.Input(
                    id=ids.PF_TABLE_SEARCH,
                    type="search",
                    debounce=True,  # sent on Enter or when the box loses focus, not on every key
                    placeholder=t("dash.table.search", lang),
                ),
                md=5,
            ),
        ],
        className="g-2 mb-2",
    )
    under = html.Div(
        [html.Small(id=ids.PF_TABLE_CAPTION, className="text-muted me-3"), html.Div(id=ids.PF_TABLE_PAGER)],
        className="d-flex flex-wrap align-items-center justify-content-between mt-2",
    )
    return html.Div([controls, html.Div(id=ids.PF_TABLE), under, dcc.Store(id=ids.PF_TABLE_PAGE, data=1)])


def cards(head: q.Headline, lang: str, terms: q.NpvTerms) -> list[dbc.Col]:
    """The four headline cards, each with its one-line explanation and a link to where it comes from; `terms`: the
    run's NPV horizon and discount rate, named beside the ROI."""
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
            )
            if head.n_demonstrated
            else t("dash.card.gain_caption_none", lang),  # no "largest pilot →" pointing nowhere
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
            t("dash.card.roi_caption", lang, years=terms.horizon_years, rate=rate_text(terms.discount_rate, lang)),
        ),
    ]
    return [dbc.Col(card, md=6, xl=3) for card in items]


def rate_text(rate: float, lang: str) -> str:
    """A discount rate as a percentage, with a decimal only when it has one: 15%, 8.5%."""
    percent = 100.0 * rate
    return format_percent(percent, lang, 0 if abs(percent - round(percent)) < 1e-9 else 1)


_TABLE_OUTPUTS = (
    (ids.PF_TABLE, "children"),
    (ids.PF_TABLE_PAGE, "data"),
    (ids.PF_TABLE_PAGER, "children"),
    (ids.PF_TABLE_CAPTION, "children"),
)
"""What a page of the estimates table sets: the rows, the page shown, the pager (none for one page) and its caption."""


@callback(
    Output(ids.PF_CARDS, "children"),
    Output(ids.PF_FOREST, "figure"),
    Output(ids.PF_BY_SUBSIDIARY, "figure"),
    Output(ids.PF_BY_USE_CASE, "figure"),
    Output(ids.PF_CUMULATIVE, "figure"),
    *(Output(component_id, prop) for component_id, prop in _TABLE_OUTPUTS),
    *(Input(component_id, "value") for component_id in _FILTERS),
    Input(ids.PF_LANG, "data"),
    Input(ids.PF_VERSION, "data"),
    State(ids.PF_TABLE_SORT, "value"),
    State(ids.PF_TABLE_SEARCH, "value"),
    State(ids.PF_TABLE_PAGE, "data"),
)
def update_portfolio(
    subsidiaries: list[str] | None,
    use_cases: list[str] | None,
    years: list[str] | None,
    grades: list[str] | None,
    lang: str | None,
    _shown_version: str | None = None,
    sort: str | None = None,
    search: str | None = None,
    shown_page: int | None = None,
) -> tuple[Any, ...]:
    """Everything on the page for the chosen filters (queries of precomputed results only), with the first page
    of the table in the order and search the user chose; runs again when the polled results version changes
    (a new finished run). Later pages come from `update_table`, one request each."""
    require("read")
    view = _view(subsidiaries, use_cases, years, grades, lang)
    return (*view.outputs, *_table_page(view, sort, search, 1, shown_page, lang))


@callback(
    *(Output(component_id, prop, allow_duplicate=True) for component_id, prop in _TABLE_OUTPUTS),
    Input(ids.PF_TABLE_PAGE, "data"),
    Input(ids.PF_TABLE_SORT, "value"),
    Input(ids.PF_TABLE_SEARCH, "value"),
    *(State(component_id, "value") for component_id in _FILTERS),
    State(ids.PF_LANG, "data"),
    prevent_initial_call=True,
)
def update_table(
    page_number: int | None,
    sort: str | None,
    search: str | None,
    subsidiaries: list[str] | None,
    use_cases: list[str] | None,
    years: list[str] | None,
    grades: list[str] | None,
    lang: str | None,
) -> tuple[Any, ...]:
    """The page the user asked for, sliced from the cached view; a new sort or search starts again at page 1."""
    require("read")
    view = _view(subsidiaries, use_cases, years, grades, lang)
    paging = dash.ctx.triggered_id == ids.PF_TABLE_PAGE
    return _table_page(view, sort, search, page_number if paging else 1, page_number, lang)


def _table_page(
    view: PortfolioView, sort: str | None, search: str | None, wanted: int | None, shown: int | None, lang: str | None
) -> tuple[Any, ...]:
    """The table's outputs (`_TABLE_OUTPUTS`) for page `wanted`. The stored page is left alone when it already
    is the page shown: setting it would fire `update_table` once more for nothing."""
    lang = lang_of(lang)
    page = estimates_table.page(view.table, sort, search, wanted, lang)
    active = dash.no_update if page.page == shown else page.page
    drawn = pager.pager(ids.PF_TABLE_PAGER, page.page, page.pages, lang, size="sm", class_name="mb-0")
    return page.table, active, drawn if page.pages > 1 else None, page.caption


@callback(
    Output(ids.PF_TABLE_PAGE, "data", allow_duplicate=True),
    Input(pager.every_button(ids.PF_TABLE_PAGER), "n_clicks"),
    State(pager.every_button(ids.PF_TABLE_PAGER), "value"),
    State(ids.PF_TABLE_PAGE, "data"),
    prevent_initial_call=True,
)
def go_to_table_page(_clicks: list[int | None], targets: list[Any], shown: int | None) -> Any:
    """A click on the pager: the page its button goes to becomes the stored page, which fires `update_table`
    (nothing when the pager was only drawn again, or the page is the one shown)."""
    require("read")
    page = pager.clicked_page(dash.ctx.triggered_id, dash.ctx.inputs_list[0], targets)
    return dash.no_update if page is None or page == shown else page


def _view(
    subsidiaries: list[str] | None,
    use_cases: list[str] | None,
    years: list[str] | None,
    grades: list[str] | None,
    lang: str | None,
) -> PortfolioView:
    """The cached view of the current results version for the filters as the browser sent them."""
    filters = q.PortfolioFilters(
        subsidiaries=tuple(subsidiaries or ()),
        use_cases=tuple(use_cases or ()),
        years=tuple(int(y) for y in (years or ()) if str(y).isdigit()),
        grades=tuple(g for g in (grades or ()) if g in q.GRADES),
    )
    with cursor() as cur:
        version = q.results_version(q.warehouse_info(cur))
    return portfolio_view(str(access().path), version, filters, lang_of(lang))


class EmptyMessages(NamedTuple):
    """What an empty chart says, by what it lacks: estimates (the forest plot), demonstrated gains (the bars),
    realized gain (the cumulative chart). None: the chart's own "… yet"."""

    estimates: str | None = None
    demonstrated: str | None = None
    realized: str | None = None


def empty_messages(frame: pl.DataFrame, filters: q.PortfolioFilters, lang: str) -> EmptyMessages:
    """Why the charts of a filtered view are empty: nothing matches the filters, or nothing among what matches
    has a demonstrated (or realized) gain. Without filters an empty chart means the portfolio has none yet, and
    each chart says so itself."""
    if filters == q.PortfolioFilters():
        return EmptyMessages()
    if frame.height == 0:
        nothing = t("dash.empty.no_match", lang)
        return EmptyMessages(nothing, nothing, nothing)
    return EmptyMessages(None, t("dash.empty.no_demonstrated_match", lang), t("dash.empty.no_realized_match", lang))


class PortfolioView(NamedTuple):
    """The page's content for one results version, filter set and language: the cards' and charts' outputs in
    their JSON wire form, and the estimates table's rows ready to page. (A named tuple: Dash loads pages
    outside `sys.modules`, where a dataclass cannot be defined.)"""

    outputs: tuple[Any, ...]
    table: estimates_table.EstimatesRows


@lru_cache(maxsize=256)
def portfolio_view(warehouse: str, version: str, filters: q.PortfolioFilters, lang: str) -> PortfolioView:
    """The page's content for one results version, filter set and language (results of a run never change,
    so they are computed once per version; `warehouse` and `version` are the cache key), in the JSON wire
    form so that a cache hit does not serialise thousands of components again."""
    with cursor() as cur:
        frame = q.portfolio(cur, lang, filters)
        realized = q.realized_gain(cur, filters)
        terms = q.npv_terms(q.warehouse_info(cur))
    head = q.portfolio_headline(frame)
    by_sub = q.gains_by(frame, "subsidiary_code", "subsidiary_name")
    by_uc = q.gains_by(frame, "use_case", "use_case")
    if by_uc.height:
        by_uc = by_uc.with_columns(
            pl.col("use_case").map_elements(lambda v: label("use_case", v, lang), return_dtype=pl.String)
        )
    empty = empty_messages(frame, filters, lang)
    outputs = (
        cards(head, lang, terms),
        figures.forest_plot(frame, lang, empty=empty.estimates),
        figures.gains_bar(by_sub, "subsidiary_name", lang, empty=empty.demonstrated),
        figures.gains_bar(by_uc, "use_case", lang, empty=empty.demonstrated),
        figures.cumulative_gain(realized, lang, empty=empty.realized),
    )
    return PortfolioView(tuple(wire(outputs)), estimates_table.build(frame, lang))


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
