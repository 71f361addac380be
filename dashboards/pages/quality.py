"""Data quality: coverage heatmap (site × month), missing periods, flagged outliers, the last uploads."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboards import ids
from dashboards.components import figures
from dashboards.components.ui import empty_state, plot, section_card, table_or_empty
from dashboards.context import cursor, lang_of
from dashboards.security import current_user, require
from pilot_roi import clock
from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import t

dash.register_page(__name__, path="/quality", name="quality", title="pilot-roi", order=3)

MISSING_COLUMNS = ("site_code", "metric_code", "first_period", "last_period", "n_present", "n_missing")
OUTLIER_COLUMNS = ("site_code", "metric_code", "period", "value", "median", "reason")


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """A subsidiary picker above the quality views (one subsidiary at a time keeps the heatmap readable)."""
    require("read")
    lang = lang_of(lang)
    with cursor() as cur:
        options = q.filter_options(cur, lang)["subsidiary"]
    # An engineer opens on their own subsidiary's data; others on the first subsidiary.
    own = getattr(current_user(), "subsidiary_code", None)
    chosen = own if own in {value for value, _label in options} else (options[0][0] if options else None)
    return html.Div(
        [
            dcc.Store(id=ids.DQ_LANG, data=lang),
            html.H2(t("dash.quality.title", lang), className="page-title"),
            html.P(t("dash.quality.lead", lang), className="text-muted"),
            dbc.Row(
                dbc.Col(
                    dcc.Dropdown(
                        id=ids.DQ_SUBSIDIARY,
                        options=[{"label": label, "value": value} for value, label in options],
                        value=chosen,
                        placeholder=t("dash.filter.subsidiary", lang),
                        clearable=True,
                    ),
                    md=4,
                ),
                className="mb-3",
            ),
            dcc.Loading(html.Div(id=ids.DQ_BODY), type="default"),
        ]
    )


@callback(Output(ids.DQ_BODY, "children"), Input(ids.DQ_SUBSIDIARY, "value"), Input(ids.DQ_LANG, "data"))
def update_quality(subsidiary: str | None, lang: str | None) -> Any:
    """Coverage, gaps, outliers and the latest upload behind the values of one subsidiary (or of all)."""
    require("read")
    lang = lang_of(lang)
    with cursor() as cur:
        views = q.quality(cur, subsidiary)
        last = q.last_upload(cur, subsidiary)
    coverage, missing, flagged = views.coverage, views.missing, views.outliers
    if coverage.height == 0 and last is None:
        return empty_state(t("dash.empty.no_observations", lang), t("dash.quality.no_data_hint", lang))
    last_text = (
        t(
            "dash.quality.last_upload",
            lang,
            when=clock.stamp(last["uploaded_at"]),
            who=last["uploaded_by"],
            file=last["file_name"],
            status=t(f"dash.status.{last['status']}", lang),
        )
        if last
        else t("dash.quality.no_uploads", lang)
    )

    def columns(names: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(c, t(f"dash.quality.col.{c}", lang)) for c in names]

    if flagged.height:
        flagged = flagged.with_columns(
            flagged["reason"].replace_strict(
                {"bounds": t("dash.quality.reason_bounds", lang), "robust_z": t("dash.quality.reason_z", lang)},
                default=None,
            )
        )
    return html.Div(
        [
            dbc.Alert(last_text, color="light", id="quality-last-upload"),
            section_card(
                t("dash.quality.coverage", lang),
                plot("quality-coverage", figures.coverage_heatmap(coverage, lang)),
                t("dash.quality.coverage_help", lang),
                "mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section_card(
                            t("dash.quality.missing", lang),
                            table_or_empty(
                                missing,
                                columns(MISSING_COLUMNS),
                                "quality-missing-table",
                                t("dash.quality.no_missing", lang),
                                numbers=("n_present", "n_missing"),
                                lang=lang,
                            ),
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        section_card(
                            t("dash.quality.outliers", lang),
                            table_or_empty(
                                flagged,
                                columns(OUTLIER_COLUMNS),
                                "quality-outliers-table",
                                t("dash.quality.no_outliers", lang),
                                numbers=("value", "median"),
                                lang=lang,
                            ),
                        ),
                        lg=6,
                    ),
                ],
                className="g-3",
            ),
        ]
    )
