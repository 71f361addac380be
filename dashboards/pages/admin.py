"""Admin: the registry (pilots, sites, metrics with KZT values) and users; edits as a registry YAML upload,
validated exactly like `pilot-roi registry load`."""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboards import ids
from dashboards.components.ui import empty_state, error_alert, table
from dashboards.context import cursor, lang_of
from dashboards.security import current_user, require
from pilot_roi import dashboard_queries as q
from pilot_roi.auth import can
from pilot_roi.errors import PilotRoiError
from pilot_roi.i18n import t

dash.register_page(__name__, path="/admin", name="admin", title="pilot-roi", order=5)

MAX_REGISTRY_BYTES = 2 * 1_048_576


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """The registry upload and the registry's tables."""
    require("read")
    lang = lang_of(lang)
    title = html.H2(t("dash.admin.title", lang), className="page-title")
    if not can(current_user(), "admin"):
        return html.Div([title, empty_state(t("dash.admin.not_allowed", lang))])
    return html.Div(
        [
            dcc.Store(id=ids.AD_LANG, data=lang),
            title,
            html.P(t("dash.admin.lead", lang), className="text-muted"),
            dcc.Upload(
                id=ids.AD_UPLOAD,
                children=html.Div(t("dash.admin.drop", lang)),
                multiple=False,
                max_size=MAX_REGISTRY_BYTES,
                className="upload-zone mb-3",
                accept=".yaml,.yml",
            ),
            dcc.Loading(html.Div(id=ids.AD_RESULT), type="dot"),
            html.Div(registry_tables(lang), id=ids.AD_TABLES),
        ]
    )


def registry_tables(lang: str) -> Any:
    """Pilots, sites, metrics and users as sortable tables."""
    with cursor() as cur:
        pilots = q.registry_pilots(cur, lang)
        sites = q.registry_sites(cur, lang)
        metrics = q.registry_metrics(cur, lang)
        users = q.users(cur)

    def section(key: str, frame: Any, columns: tuple[str, ...]) -> dbc.Card:
        body = (
            table(frame, [(c, t(f"dash.admin.col.{c}", lang)) for c in columns], f"admin-{key}-table")
            if frame.height
            else empty_state(t("dash.admin.empty", lang))
        )
        return dbc.Card([dbc.CardHeader(t(f"dash.admin.{key}", lang)), dbc.CardBody(body)], className="mb-3")

    return html.Div(
        [
            section(
                "pilots",
                pilots,
                (
                    "pilot_code",
                    "pilot_name",
                    "subsidiary_code",
                    "use_case",
                    "capex_kzt",
                    "opex_kzt_per_year",
                    "treated",
                    "controls",
                    "metrics",
                ),
            ),
            section("sites", sites, ("site_code", "subsidiary_code", "site_name", "region")),
            section(
                "metrics",
                metrics,
                (
                    "metric_code",
                    "metric_name",
                    "unit",
                    "frequency",
                    "aggregation",
                    "higher_is_better",
                    "value_kzt_per_unit",
                    "min_value",
                    "max_value",
                ),
            ),
            section("users", users, ("username", "role", "subsidiary_code", "language", "disabled", "locked_until")),
        ]
    )


@callback(
    Output(ids.AD_RESULT, "children"),
    Output(ids.AD_TABLES, "children"),
    Input(ids.AD_UPLOAD, "contents"),
    State(ids.AD_UPLOAD, "filename"),
    State(ids.AD_LANG, "data"),
    prevent_initial_call=True,
)
def load_registry(contents: str | None, filename: str | None, lang: str | None) -> tuple[Any, Any]:
    """Validate the uploaded registry YAML whole and apply it in one transaction, or show every problem."""
    user = require("admin")
    lang = lang_of(lang)
    if not contents:
        return dash.no_update, dash.no_update
    from pilot_roi.registry import load_registry_file

    try:
        data = base64.b64decode(contents.split(",", 1)[1])
    except (IndexError, binascii.Error):
        return error_alert([t("dash.upload.unreadable", lang)]), dash.no_update
    if len(data) > MAX_REGISTRY_BYTES:
        return error_alert([t("dash.upload.unreadable", lang)]), dash.no_update
    # The uploaded name is never a path: the bytes go to a fresh temporary file of our own naming.
    with tempfile.TemporaryDirectory(prefix="pilot-roi-registry-") as tmp:
        path = Path(tmp) / "registry.yaml"
        path.write_bytes(data)
        try:
            with cursor() as cur:
                summary = load_registry_file(cur, path, username=user.username)
        except PilotRoiError as exc:
            return error_alert([t("dash.admin.refused", lang), *exc.render(lang)]), dash.no_update
    lines = [
        t("registry.summary", lang, table=c.table, created=c.created, updated=c.updated, unchanged=c.unchanged)
        for c in summary.changes
    ]
    return dbc.Alert(
        [html.Div(t("dash.admin.loaded", lang, name=str(filename or "")[:100]))] + [html.Div(x) for x in lines],
        color="success",
    ), registry_tables(lang)
