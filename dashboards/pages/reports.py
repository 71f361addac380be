"""Reports (reviewers): choose year, language and format; download the year-end report from `pilot_roi.reports`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboards import ids
from dashboards.components.ui import empty_state
from dashboards.context import cursor, lang_of
from dashboards.security import audit_event, current_user, require
from pilot_roi import clock
from pilot_roi.auth import can
from pilot_roi.errors import PilotRoiError
from pilot_roi.i18n import t
from pilot_roi.settings import LANGS

dash.register_page(__name__, path="/reports", name="reports", title="pilot-roi", order=4)

FORMATS = ("pdf", "xlsx", "csv")
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
LANG_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


def default_year(latest: int | None, this_year: int) -> int:
    """The year the page offers first: the latest year a report has numbers for (`reports.latest_year`: the demo's
    data end in October 2025, and a 2026 report would have none), never a year not yet begun; this year when
    the warehouse has no data."""
    return this_year if latest is None else min(latest, this_year)


def year_choices(default: int, this_year: int) -> list[int]:
    """The years offered, newest first: this year back to five years ago, and back to `default` if it is older."""
    return list(range(this_year, min(this_year - 5, default) - 1, -1))


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """Year, language and format pickers and the download button. The year starts at the latest year with data
    (`default_year`); a year the user picks is kept for the browser session (Dash persistence), until the default
    itself moves."""
    require("read")
    lang = lang_of(lang)
    title = html.H2(t("dash.reports.title", lang), className="page-title")
    if not can(current_user(), "export"):
        return html.Div([title, empty_state(t("dash.reports.not_allowed", lang))])
    from pilot_roi.reports import latest_year

    this_year = clock.today().year
    with cursor() as cur:
        year = default_year(latest_year(cur), this_year)
    return html.Div(
        [
            dcc.Store(id=ids.RP_LANG, data=lang),
            title,
            html.P(t("dash.reports.lead", lang), className="text-muted"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(t("dash.reports.year", lang)),
                            dbc.Select(
                                id=ids.RP_YEAR,
                                value=str(year),
                                options=[{"label": str(y), "value": str(y)} for y in year_choices(year, this_year)],
                                persistence=True,
                                persistence_type="session",
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(t("dash.reports.language", lang)),
                            dbc.Select(
                                id=ids.RP_REPORT_LANG,
                                value=lang,
                                options=[{"label": LANG_NAMES[c], "value": c} for c in LANGS],
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(t("dash.reports.format", lang)),
                            dbc.RadioItems(
                                id=ids.RP_FORMAT,
                                value="pdf",
                                inline=True,
                                options=[{"label": f.upper(), "value": f} for f in FORMATS],
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        dbc.Button(
                            t("dash.reports.download", lang), id=ids.RP_BUTTON, color="primary", className="mt-4"
                        ),
                        md=3,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dcc.Loading(html.Div(id=ids.RP_STATUS), type="dot"),
            dcc.Download(id=ids.RP_DOWNLOAD),
            html.Hr(),
            html.H4(t("dash.reports.freeze_title", lang)),
            html.P(t("dash.reports.freeze_lead", lang), className="text-muted"),
            dbc.Button(t("dash.reports.freeze", lang), id=ids.RP_FREEZE_BUTTON, color="secondary", outline=True),
            dcc.Loading(html.Div(id=ids.RP_FREEZE_STATUS, className="mt-2"), type="dot"),
        ]
    )


@callback(
    Output(ids.RP_DOWNLOAD, "data"),
    Output(ids.RP_STATUS, "children"),
    Input(ids.RP_BUTTON, "n_clicks"),
    State(ids.RP_YEAR, "value"),
    State(ids.RP_REPORT_LANG, "value"),
    State(ids.RP_FORMAT, "value"),
    State(ids.RP_LANG, "data"),
    prevent_initial_call=True,
)
def download_report(
    n_clicks: int | None, year: str | None, report_lang: str | None, fmt: str | None, lang: str | None
) -> tuple[Any, Any]:
    """Render the year's report (frozen snapshot, else the latest run) in the chosen language and format."""
    require("export")
    lang = lang_of(lang)
    from pilot_roi.reports import RENDERERS, load_report

    fmt = fmt if fmt in FORMATS else "pdf"
    report_lang = report_lang if report_lang in LANGS else lang
    year_n = int(year) if year and str(year).isdigit() else clock.today().year
    with cursor() as cur:
        report = load_report(cur, year_n)
    with tempfile.TemporaryDirectory(prefix="pilot-roi-report-") as tmp:
        out = Path(tmp) / f"report.{fmt}"
        RENDERERS[fmt](report, str(report_lang), out)
        data = out.read_bytes()
    audit_event("export", f"report:{year_n}", {"format": fmt, "lang": report_lang})
    name = f"pilot-roi-report-{year_n}-{report_lang}.{fmt}"
    return dcc.send_bytes(data, name, type=MEDIA[fmt]), dbc.Alert(
        t("dash.reports.ready", lang, name=name), color="success"
    )


def _freeze_words(freeze: dict[str, Any] | None, year: int, lang: str) -> str:
    if freeze is None:
        return t("dash.reports.not_frozen", lang, year=year)
    return t("dash.reports.frozen", lang, year=year, run=freeze["run_id"], user=freeze["frozen_by"],
             when=clock.stamp(freeze["frozen_at"]))  # fmt: skip


@callback(
    Output(ids.RP_FREEZE_STATUS, "children"),
    Input(ids.RP_YEAR, "value"),
    Input(ids.RP_FREEZE_BUTTON, "n_clicks"),
    State(ids.RP_LANG, "data"),
)
def freeze_year(year: str | None, n_clicks: int | None, lang: str | None) -> Any:
    """Say whether the year is frozen; on a click, freeze the latest finished run as its official result."""
    user = require("export")
    lang = lang_of(lang)
    from pilot_roi.reports.freeze import freeze_report, get_freeze

    year_n = int(year) if year and str(year).isdigit() else clock.today().year
    clicked = dash.ctx.triggered_id == ids.RP_FREEZE_BUTTON
    with cursor() as cur:
        if clicked:
            try:
                freeze_report(cur, year_n, username=user.username)
            except PilotRoiError as exc:
                return dbc.Alert(" ".join(exc.render(lang)), color="warning")
        freeze = get_freeze(cur, year_n)
    return dbc.Alert(_freeze_words(freeze, year_n, lang), color="success" if freeze else "light")
