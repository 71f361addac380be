"""Pilot (`/pilots/<code>`): design and costs (the sites as registered), and per metric the verdict, the sites its
estimate used, observed vs counterfactual, event study, robustness.

Reads the latest finished run's precomputed results for the pilot; nothing is re-estimated here.
"""

from __future__ import annotations

import math
from datetime import date
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
    interval_caption,
    plot,
    section_card,
    verdict,
)
from dashboards.components.wire import wire
from dashboards.context import access, cursor, lang_of
from dashboards.security import require
from pilot_roi import dashboard_queries as q
from pilot_roi.economics import realized_gain_start
from pilot_roi.estimation.diagnostic_words import all_sites_treated, diagnostics_in_words, diagnostics_of, label
from pilot_roi.grading import describe_grade_reason
from pilot_roi.i18n import format_money, format_number, format_percent, t, unit_label
from pilot_roi.numbers import finite_or_none

dash.register_page(__name__, path_template="/pilots/<pilot_code>", name="pilot", title="pilot-roi", order=1)


def layout(pilot_code: str | None = None, lang: str | None = None, **_: Any) -> html.Div:
    """The pilot's header, design and costs, and a metric picker above the metric's evidence."""
    require("read")
    lang = lang_of(lang)
    code = str(pilot_code or "")[:64]
    with cursor() as cur:
        version = q.results_version(q.warehouse_info(cur))
    return layout_view(str(access().path), version, code, lang)


@lru_cache(maxsize=1024)
def pilot_facts(warehouse: str, version: str, code: str, lang: str) -> tuple[dict[str, Any] | None, pl.DataFrame]:
    """The pilot's registry entry (None: unknown code) and its estimates, for one results version: shared by the
    page and its metric section, which a browser asks for one right after the other (read them, don't change)."""
    with cursor() as cur:
        pilot = q.pilot(cur, code, lang) if code else None
        return pilot, q.pilot_estimates(cur, code, lang) if pilot is not None else pl.DataFrame()


@lru_cache(maxsize=256)
def layout_view(warehouse: str, version: str, code: str, lang: str) -> html.Div:
    """The page for one results version (cached: a run's results and the registry version never change)."""
    pilot, estimates = pilot_facts(warehouse, version, code, lang)
    if pilot is None:
        return html.Div(
            [
                html.H2(t("dash.pilot.unknown_title", lang)),
                empty_state(t("dash.pilot.unknown", lang, code=code)),
                dcc.Link(t("dash.back_to_portfolio", lang), href="/"),
            ]
        )
    with cursor() as cur:
        sites = q.pilot_sites(cur, code, lang)
    # Without estimates yet the page is polled too: the evidence fills in once a run has estimated the pilot.
    evidence = (
        evidence_picker(estimates, lang)
        if estimates.height
        else [
            html.Div(
                empty_state(t("dash.pilot.no_estimates", lang), t("dash.empty.no_run_hint", lang)), id=ids.PI_EMPTY
            )
        ]
    )
    return html.Div(
        [
            dcc.Store(id=ids.PI_LANG, data=lang),
            dcc.Store(id=ids.PI_CODE, data=code),
            *reestimate.poll_components(ids.PI_POLL, ids.PI_VERSION, ids.PI_NOTICE, version),
            dcc.Link(t("dash.back_to_portfolio", lang), href="/", className="small"),
            html.H2([f"{pilot['pilot_code']} — {pilot['pilot_name']}"], className="page-title"),
            design_card(pilot, sites, lang, estimates),
            *evidence,
        ]
    )


def evidence_picker(estimates: pl.DataFrame, lang: str) -> list[Any]:
    """The metric picker and the (empty) section the metric callback fills in; `estimates` is not empty."""
    options = [
        {"label": str(r["metric_name"]), "value": str(r["metric_code"])} for r in estimates.iter_rows(named=True)
    ]
    picker = dbc.Select(id=ids.PI_METRIC, options=options, value=options[0]["value"], className="mb-3 metric-select")
    return [
        html.Div([html.Label(t("dash.pilot.metric", lang), className="form-label"), picker]),
        html.Div(id=ids.PI_SECTION),
    ]


def design_card(pilot: dict[str, Any], sites: pl.DataFrame, lang: str, estimates: pl.DataFrame) -> dbc.Card:
    """Who, where, since when, at what cost."""
    treated = [r for r in sites.iter_rows(named=True) if r["role"] == "treated"] if sites.height else []
    controls = [r for r in sites.iter_rows(named=True) if r["role"] == "control"] if sites.height else []
    # Every site treated at staggered dates: no controls, default or listed; the later adopters are the comparison.
    all_treated = any(all_sites_treated(diagnostics_of(r)) for r in estimates.iter_rows(named=True))
    # No listed controls and no estimate found a default one: saying "by default: the subsidiary's sites" would
    # promise a comparison that does not exist; the estimate is the treated sites' own forecast.
    none_found = estimates.height > 0 and all(not r["n_controls"] for r in estimates.iter_rows(named=True))
    if all_treated:
        no_controls = t("dash.pilot.no_controls_staggered", lang)
    elif none_found:
        no_controls = t("dash.pilot.no_controls_found", lang)
    else:
        no_controls = t("dash.pilot.default_controls", lang)
    rows = [
        (t("dash.pilot.subsidiary", lang), pilot["subsidiary_name"]),
        (t("dash.pilot.use_case", lang), label("use_case", pilot["use_case"], lang)),
        (
            t("dash.pilot.treated_registry", lang),
            ", ".join(f"{r['site_name']} ({r['go_live']})" for r in treated) or "—",
        ),
        (
            t("dash.pilot.controls_registry", lang),
            ", ".join(str(r["site_name"]) for r in controls) or no_controls,
        ),
        (t("dash.pilot.capex", lang), format_money(finite_or_none(pilot["capex_kzt"]), lang)),
        (t("dash.pilot.opex", lang), format_money(finite_or_none(pilot["opex_kzt_per_year"]), lang)),
    ]
    # The registry's listing spans every metric; each estimate's own sites are in its metric section below.
    note = html.P(t("dash.pilot.registry_sites_note", lang), className="small text-muted mb-0 mt-2")
    return section_card(
        t("dash.pilot.design", lang),
        [_facts(rows, ids.PI_DESIGN), note] if estimates.height else _facts(rows, ids.PI_DESIGN),
        class_name="mb-3",
    )


def _facts(rows: list[tuple[str, Any]], component_id: str) -> html.Dl:
    """Labelled facts, one per line: the label on the left, its value on the right."""
    return html.Dl(
        [el for k, v in rows for el in (html.Dt(k, className="col-sm-3"), html.Dd(v, className="col-sm-9"))],
        className="row mb-0",
        id=component_id,
    )


def no_controls_key(row: dict[str, Any]) -> str | None:
    """The words (an i18n key) for what an estimate that used no control site compared the treated sites with, as the
    year-end report says it (`pilot_roi.reports.tables.no_controls_key`): an interrupted time series, their own history
    before go-live; a staggered DiD whose every site goes live, the sites not yet live. None otherwise."""
    if row.get("method") == "its":
        return "dash.pilot.used_controls_none_its"
    if all_sites_treated(diagnostics_of(row)):
        return "dash.pilot.used_controls_none_staggered"
    return None


def _site_text(r: dict[str, Any]) -> str:
    """ "Site name (CODE, go-live)" for a treated site, "Site name (CODE)" for a control site."""
    details = [str(r["site_code"]), *([str(r["go_live"])] if r.get("go_live") is not None else [])]
    return f"{r['site_name']} ({', '.join(details)})"


def sites_used_card(row: dict[str, Any], used: pl.DataFrame, lang: str) -> dbc.Card:
    """The treated and control sites this metric's estimate rests on, as the run recorded them (the year-end report's
    sites), not the registry's listing: no treated site it left out, no control without values on both sides of
    go-live, and for an estimate without controls what it compared the treated sites with, in words. Without an
    estimate, the sites the run offered it; from a run that did not record them, a sentence saying so."""
    design = t("dash.pilot.design", lang)
    if not row.get("sites_recorded"):
        return section_card(
            t("dash.pilot.sites_used", lang),
            html.P(t("dash.pilot.sites_not_recorded", lang, design=design), className="mb-0", id=ids.PI_SITES_USED),
            class_name="mb-3",
        )
    sites = list(used.iter_rows(named=True)) if used.height else []
    treated = [_site_text(r) for r in sites if r["role"] == "treated"]
    controls = [_site_text(r) for r in sites if r["role"] == "control"]
    estimated = row.get("status") == "ok"
    key = no_controls_key(row) if estimated and treated else None
    rows = [
        (t("dash.pilot.treated", lang), ", ".join(treated) or "—"),
        (t("dash.pilot.controls", lang), ", ".join(controls) or (t(key, lang) if key else "—")),
    ]
    return section_card(
        t("dash.pilot.sites_used" if estimated else "dash.pilot.sites_offered", lang),
        _facts(rows, ids.PI_SITES_USED),
        t("dash.pilot.sites_used_help" if estimated else "dash.pilot.sites_offered_help", lang, design=design),
        "mb-3",
    )


def robustness_table(frame: pl.DataFrame, unit: str, lang: str) -> Any:
    """Each method's estimate side by side, the primary one first."""
    if frame.height == 0:
        return empty_state(t("dash.empty.no_robustness", lang))
    head = html.Thead(
        html.Tr([html.Th(t(f"dash.rb.{c}", lang)) for c in ("method", "effect", "ci", "pct", "p", "status")])
    )
    body = []
    for r in frame.iter_rows(named=True):
        why = describe_grade_reason(r.get("reason") or r.get("status"), lang) or "—"
        status = "✓" if r.get("status") == "ok" else why
        body.append(
            html.Tr(
                [
                    html.Td(
                        [
                            label("method", r["method"], lang),
                            html.Span(f" ({t('dash.rb.primary', lang)})", className="text-muted")
                            if r.get("is_primary")
                            else "",
                        ]
                    ),
                    html.Td(_with_unit(format_number(finite_or_none(r.get("effect")), lang, 2), unit)),
                    html.Td(
                        f"{format_number(finite_or_none(r.get('ci_low')), lang, 2)} … "
                        f"{format_number(finite_or_none(r.get('ci_high')), lang, 2)}"
                    ),
                    html.Td(format_percent(finite_or_none(r.get("effect_pct")), lang)),
                    html.Td(format_number(finite_or_none(r.get("p_value")), lang, 3)),
                    html.Td(status),
                ]
            )
        )
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True, id=ids.PI_ROBUSTNESS)


def _with_unit(number: str, unit: str) -> str:
    """ "1 250,90 ГДж"; a missing number stays a bare dash ("—", not "— ГДж")."""
    return number if number == "—" or not unit else f"{number} {unit}"


def money_caption(low: Any, high: Any, lang: str) -> str:
    """A money card's interval line, or why there is none."""
    return interval_caption(format_money(finite_or_none(low), lang), format_money(finite_or_none(high), lang), lang)


def money_cards(row: dict[str, Any], lang: str, terms: q.NpvTerms) -> dbc.Row:
    """Annual gain, NPV (over the run's horizon, `terms`), ROI and payback, each with its interval or meaning."""
    roi = finite_or_none(row.get("roi"))
    roi_low, roi_high = finite_or_none(row.get("roi_ci_low")), finite_or_none(row.get("roi_ci_high"))
    payback = finite_or_none(row.get("payback_months"))
    never = row.get("payback_months") == math.inf  # the net annual flow is not positive: not "not available"
    items = [
        headline_card(
            "pilot-card-gain",
            t("dash.pilot.annual_gain", lang),
            format_money(finite_or_none(row.get("annual_gain_kzt")), lang),
            money_caption(row.get("annual_gain_ci_low"), row.get("annual_gain_ci_high"), lang),
        ),
        headline_card(
            "pilot-card-npv",
            t("dash.pilot.npv", lang, years=terms.horizon_years),
            format_money(finite_or_none(row.get("npv_kzt")), lang),
            money_caption(row.get("npv_ci_low"), row.get("npv_ci_high"), lang),
        ),
        headline_card(
            "pilot-card-roi",
            t("dash.pilot.roi", lang),
            format_percent(100 * roi, lang, 0) if roi is not None else "—",
            interval_caption(
                format_percent(100 * roi_low, lang, 0) if roi_low is not None else "—",
                format_percent(100 * roi_high, lang, 0) if roi_high is not None else "—",
                lang,
            ),
        ),
        headline_card(
            "pilot-card-payback",
            t("dash.pilot.payback", lang),
            t("dash.months", lang, n=format_number(payback, lang, 0))
            if payback is not None
            else (t("estimate.payback_never", lang) if never else "—"),
            t("dash.pilot.realized", lang, gain=format_money(finite_or_none(row.get("realized_gain_kzt")), lang)),
        ),
    ]
    return dbc.Row([dbc.Col(c, md=6, xl=3) for c in items], className="g-3 mb-3")


@callback(
    Output(ids.PI_SECTION, "children"),
    Input(ids.PI_METRIC, "value"),
    Input(ids.PI_CODE, "data"),
    Input(ids.PI_LANG, "data"),
    Input(ids.PI_VERSION, "data"),
)
def show_metric(
    metric_code: str | None, pilot_code: str | None, lang: str | None, _shown_version: str | None = None
) -> Any:
    """The evidence for one metric: verdict, money, counterfactual, event study, robustness, diagnostics; runs
    again when the polled results version changes (a new finished run)."""
    require("read")
    lang = lang_of(lang)
    if not metric_code or not pilot_code:
        return dash.no_update
    with cursor() as cur:
        version = q.results_version(q.warehouse_info(cur))
    return metric_view(str(access().path), version, str(pilot_code)[:64], str(metric_code)[:64], lang)


@callback(
    Output(ids.PI_VERSION, "data"),
    Output(ids.PI_NOTICE, "children"),
    Input(ids.PI_POLL, "n_intervals"),
    State(ids.PI_VERSION, "data"),
    State(ids.PI_LANG, "data"),
    prevent_initial_call=True,
)
def poll_pilot_results(_n: int | None, known: str | None, lang: str | None) -> tuple[Any, Any]:
    """Every 10 s: when a new run finished (or the registry changed), store the new version, which refreshes
    the metric section, and say so."""
    require("read")
    return reestimate.poll_results(known, lang_of(lang))


@callback(
    Output(ids.PI_EMPTY, "children"),
    Input(ids.PI_VERSION, "data"),
    State(ids.PI_CODE, "data"),
    State(ids.PI_LANG, "data"),
    prevent_initial_call=True,
)
def fill_in_first_estimates(_version: str | None, pilot_code: str | None, lang: str | None) -> Any:
    """The page opened before the pilot had estimates: when the polled version changes and it has them now,
    put the metric picker and section in place of the empty state (the metric callback then fills it)."""
    require("read")
    lang = lang_of(lang)
    code = str(pilot_code or "")[:64]
    if not code:
        return dash.no_update
    with cursor() as cur:
        estimates = q.pilot_estimates(cur, code, lang)
    return evidence_picker(estimates, lang) if estimates.height else dash.no_update


def counterfactual_help_key(row: dict[str, Any]) -> str:
    """The chart's reading guide: without control sites the counterfactual comes from the estimated effect, and
    an interrupted time series forecasts it from the treated sites' own history."""
    if row.get("method") == "its":
        return "dash.pilot.counterfactual_help_its"
    all_treated = all_sites_treated(diagnostics_of(row))
    return "dash.pilot.counterfactual_help_all_treated" if all_treated else "dash.pilot.counterfactual_help"


def chart_go_live(row: dict[str, Any], registry_first_go_live: date | None) -> date | None:
    """The go-live the chart marks: the first treated period of the earliest go-live among the treated sites the
    estimate used (a site left out, e.g. live from the first day of data, does not move the line; a monthly pilot
    live from 15 June marks June); the same period starts the realized gain."""
    if registry_first_go_live is None:
        return None
    return realized_gain_start(diagnostics_of(row), registry_first_go_live, row.get("frequency"))


def observed_values(cur: Any, pilot_code: str, metric_code: str, row: dict[str, Any], lang: str) -> pl.DataFrame:
    """Without an estimate there is no counterfactual to draw: the values received instead, mean per treated site and
    per control site (the controls the run considered, or the listed ones when the run never got that far)."""
    sites = q.pilot_sites(cur, pilot_code, lang)
    roles = sites.iter_rows(named=True) if sites.height else iter(())
    treated, listed = [], []
    for r in roles:
        (treated if r["role"] == "treated" else listed).append(str(r["site_code"]))
    considered = diagnostics_of(row).get("controls")
    controls = [str(c) for c in considered] if isinstance(considered, list) else listed
    return q.observed_series(cur, metric_code, treated, controls)


@lru_cache(maxsize=512)
def metric_view(warehouse: str, version: str, pilot_code: str, metric_code: str, lang: str) -> Any:
    """The metric section for one results version (cached: a run's results never change), in its JSON wire form
    so that a cache hit does not serialise its components again."""
    pilot, estimates = pilot_facts(warehouse, version, pilot_code, lang)
    chosen = estimates.filter(pl.col("metric_code") == metric_code) if estimates.height else estimates
    if pilot is None or chosen.height == 0:
        return empty_state(t("dash.pilot.no_estimates", lang))
    row = chosen.row(0, named=True)
    run_id = int(row["run_id"])
    with cursor() as cur:
        cf = q.counterfactual(cur, run_id, pilot_code, metric_code)
        es = q.event_study(cur, run_id, pilot_code, metric_code)
        rb = q.robustness(cur, run_id, pilot_code, metric_code)
        terms = q.npv_terms(q.warehouse_info(cur))
        observed = observed_values(cur, pilot_code, metric_code, row, lang) if cf.height == 0 else None
        used = q.pilot_sites_used(cur, run_id, pilot_code, metric_code, lang)
    unit = unit_label(str(row.get("unit") or ""), lang)
    alert_color = {"demonstrated": "success", "adverse": "danger", "promising": "info"}.get(
        str(row.get("grade")), "secondary"
    )
    section = html.Div(
        [
            dbc.Alert(
                [grade_badge(row.get("grade"), lang), html.Span(" " + verdict(row, lang), className="verdict")],
                color=alert_color,
                className="verdict-box",
            ),
            money_cards(row, lang, terms),
            sites_used_card(row, used, lang),
            section_card(
                t("dash.pilot.counterfactual", lang),
                plot(
                    ids.PI_COUNTERFACTUAL,
                    figures.counterfactual_chart(cf, chart_go_live(row, pilot.get("first_go_live")), unit, lang),
                ),
                t(counterfactual_help_key(row), lang),
                "mb-3",
            )
            if observed is None
            else section_card(
                t("dash.pilot.observed", lang),
                plot(ids.PI_COUNTERFACTUAL, figures.observed_chart(observed, pilot.get("first_go_live"), unit, lang)),
                t("dash.pilot.observed_help", lang),
                "mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section_card(
                            t("dash.pilot.event_study", lang),
                            plot(ids.PI_EVENT_STUDY, figures.event_study_chart(es, unit, lang, row.get("frequency"))),
                            t("dash.pilot.event_study_help", lang),
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        section_card(
                            t("dash.pilot.diagnostics", lang),
                            html.Ul([html.Li(line) for line in diagnostics_in_words(row, lang)]),
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            section_card(t("dash.pilot.robustness", lang), robustness_table(rb, unit, lang), class_name="mb-3"),
        ]
    )
    return wire(section)
