"""Admin: the registry (pilots, sites, metrics with KZT values) and users; registry edits as a registry YAML
upload or through the site, metric and pilot forms (`components/registry_forms.py`), both validated exactly
like `pilot-roi registry load`; users added, disabled and reset through `pilot_roi.auth` (validated and
audited there, with the signed-in admin as the actor)."""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.components import registry_forms
from dashboards.components.registry_documents import MAX_FIELD_CHARS
from dashboards.components.ui import empty_state, error_alert, table
from dashboards.context import cursor, lang_of
from dashboards.security import current_user, remote_addr, require
from pilot_roi import auth
from pilot_roi import dashboard_queries as q
from pilot_roi.auth import can
from pilot_roi.errors import PilotRoiError
from pilot_roi.estimation.diagnostic_words import label
from pilot_roi.i18n import frequency_word, t
from pilot_roi.resources import read_sql

dash.register_page(__name__, path="/admin", name="admin", title="pilot-roi", order=5)

MAX_REGISTRY_BYTES = 2 * 1_048_576
LANG_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


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
            dcc.Store(id=ids.AD_FORM_VERSION, data=0),
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
            registry_forms.registry_forms_card(lang),
            html.Div(registry_tables(lang), id=ids.AD_TABLES),
            users_card(lang),
        ]
    )


def in_words(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The tables' codes in the reader's words, as the forms above them say them ("daily" → "ежедневно", true →
    "Больше — лучше", "engineer" → "инженер"); codes that name things (pilot, site, metric, unit) stay."""
    words: dict[str, Callable[[Any], str]] = {
        "use_case": lambda v: label("use_case", v, lang),
        "frequency": lambda v: frequency_word(str(v), lang),
        "aggregation": lambda v: label("admin.form.aggregation", v, lang),
        "higher_is_better": lambda v: t(f"dash.admin.form.higher.{'true' if v else 'false'}", lang),
        "role": lambda v: label("role", v, lang),
        "language": lambda v: LANG_NAMES.get(str(v), str(v)),
        "disabled": lambda v: t("dash.yes" if v else "dash.no", lang),
    }
    present = [c for c in words if c in frame.columns]
    if not frame.height or not present:
        return frame
    return frame.with_columns(
        pl.col(c).map_elements(words[c], return_dtype=pl.String, skip_nulls=True).alias(c) for c in present
    )


def registry_tables(lang: str) -> Any:
    """Pilots, sites and metrics as sortable tables (users are in `users_card`)."""
    with cursor() as cur:
        pilots = q.registry_pilots(cur, lang)
        sites = q.registry_sites(cur, lang)
        metrics = q.registry_metrics(cur, lang)

    def section(key: str, frame: Any, columns: tuple[str, ...]) -> dbc.Card:
        body = (
            table(
                in_words(frame, lang),
                [(c, t(f"dash.admin.col.{c}", lang)) for c in columns],
                f"admin-{key}-table",
                numbers=("capex_kzt", "opex_kzt_per_year", "value_kzt_per_unit", "min_value", "max_value"),
                lang=lang,
            )
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
        ]
    )


@callback(
    Output(ids.AD_RESULT, "children"),
    Output(ids.AD_TABLES, "children"),
    Output(ids.AD_FORM_VERSION, "data", allow_duplicate=True),
    Input(ids.AD_UPLOAD, "contents"),
    State(ids.AD_UPLOAD, "filename"),
    State(ids.AD_LANG, "data"),
    State(ids.AD_FORM_VERSION, "data"),
    prevent_initial_call=True,
)
def load_registry(
    contents: str | None, filename: str | None, lang: str | None, version: object = 0
) -> tuple[Any, Any, Any]:
    """Validate the uploaded registry YAML whole and apply it in one transaction, or show every problem."""
    user = require("admin")
    lang = lang_of(lang)
    if not contents:
        return dash.no_update, dash.no_update, dash.no_update
    from pilot_roi.registry import load_registry_file

    try:
        data = base64.b64decode(contents.split(",", 1)[1])
    except (IndexError, binascii.Error):
        return error_alert([t("dash.upload.unreadable", lang)]), dash.no_update, dash.no_update
    if len(data) > MAX_REGISTRY_BYTES:
        return error_alert([t("dash.upload.unreadable", lang)]), dash.no_update, dash.no_update
    # The uploaded name is never a path: the bytes go to a fresh temporary file of our own naming.
    with tempfile.TemporaryDirectory(prefix="pilot-roi-registry-") as tmp:
        path = Path(tmp) / "registry.yaml"
        path.write_bytes(data)
        try:
            with cursor() as cur:
                summary = load_registry_file(cur, path, username=user.username)
        except PilotRoiError as exc:
            return error_alert([t("dash.admin.refused", lang), *exc.render(lang)]), dash.no_update, dash.no_update
    lines = summary.lines(lang)
    next_version = (version if isinstance(version, int) and not isinstance(version, bool) else 0) + 1
    return (
        dbc.Alert(
            [html.Div(t("dash.admin.loaded", lang, name=str(filename or "")[:100]))] + [html.Div(x) for x in lines],
            color="success",
        ),
        registry_tables(lang),
        next_version,
    )


registry_forms.register_callbacks(registry_tables)


# ---------------------------------------------------------------------------------------------- users

USER_COLUMNS = ("username", "role", "subsidiary_code", "language", "disabled", "locked_until")


def users_table(lang: str) -> Any:
    """Every account (disabled ones too) as a sortable table, or the empty state."""
    with cursor() as cur:
        users = q.users(cur)
    if not users.height:
        return empty_state(t("dash.admin.empty", lang))
    columns = [(c, t(f"dash.admin.col.{c}", lang)) for c in USER_COLUMNS]
    return table(in_words(users, lang), columns, "admin-users-table")


def _user_options() -> list[dict[str, str]]:
    with cursor() as cur:
        records = auth.list_users(cur)
    return [
        {
            "label": f"{r.username} ({r.role}{', ' + r.subsidiary_code if r.subsidiary_code else ''})",
            "value": r.username,
        }
        for r in records
        if not r.disabled
    ]


def _subsidiary_options(lang: str) -> list[dict[str, str]]:
    """The registry's subsidiaries, named in `lang`, after a "none" choice."""
    column = {"ru": 1, "kk": 2, "en": 3}[lang]
    with cursor() as cur:
        rows = cur.execute(read_sql("registry/current_subsidiaries.sql")).fetchall()
    options = [{"label": t("dash.admin.users.no_subsidiary", lang), "value": ""}]
    for row in sorted(rows, key=lambda r: str(r[0])):
        options.append({"label": f"{row[0]} — {row[column] or row[0]}", "value": str(row[0])})
    return options


def users_card(lang: str) -> dbc.Card:
    """The users table, a form to add a user, and disable / reset for an existing one."""

    def field(label_key: str, control: Any) -> dbc.Col:
        return dbc.Col([dbc.Label(t(label_key, lang)), control], md=3)

    add_form = html.Div(
        [
            html.H5(t("dash.admin.users.add_title", lang)),
            dbc.Row(
                [
                    field("dash.admin.users.name", dbc.Input(id=ids.AD_USER_NAME, type="text", maxLength=64)),
                    field(
                        "dash.admin.users.role",
                        dbc.Select(
                            id=ids.AD_USER_ROLE,
                            value="executive",
                            options=[{"label": t(f"dash.role.{r}", lang), "value": r} for r in auth.ROLES],
                        ),
                    ),
                    field(
                        "dash.admin.users.subsidiary",
                        # dbc.Select hides its own placeholder option for the value "": it must read "none"
                        dbc.Select(
                            id=ids.AD_USER_SUBSIDIARY,
                            value="",
                            options=_subsidiary_options(lang),
                            placeholder=t("dash.admin.users.no_subsidiary", lang),
                        ),
                    ),
                    field(
                        "dash.admin.users.language",
                        dbc.Select(
                            id=ids.AD_USER_LANGUAGE,
                            value=lang,
                            options=[{"label": LANG_NAMES[c], "value": c} for c in auth.USER_LANGS],
                        ),
                    ),
                ],
                className="g-2 mb-2",
            ),
            dbc.Button(t("dash.admin.users.add", lang), id=ids.AD_USER_ADD, color="primary", className="mb-3"),
        ]
    )
    manage = html.Div(
        [
            html.H5(t("dash.admin.users.existing_title", lang)),
            dbc.Row(
                [
                    field("dash.admin.users.target", dbc.Select(id=ids.AD_USER_TARGET, options=_user_options())),
                    dbc.Col(
                        [
                            dbc.Button(
                                t("dash.admin.users.reset", lang),
                                id=ids.AD_USER_RESET,
                                color="secondary",
                                className="me-2",
                            ),
                            dbc.Button(t("dash.admin.users.disable", lang), id=ids.AD_USER_DISABLE, color="danger"),
                        ],
                        md=6,
                        className="d-flex align-items-end",
                    ),
                ],
                className="g-2 mb-3",
            ),
        ]
    )
    return dbc.Card(
        [
            dbc.CardHeader(t("dash.admin.users", lang)),
            dbc.CardBody(
                [
                    html.Div(users_table(lang), id=ids.AD_USERS_TABLE, className="mb-3"),
                    html.H4(t("dash.admin.users.manage", lang), className="h5"),
                    add_form,
                    manage,
                    dcc.Loading(html.Div(id=ids.AD_USER_RESULT), type="dot"),
                ]
            ),
        ],
        className="mb-3",
    )


def _text(value: object) -> str:
    """A client-sent field as bounded text (anything not text is empty)."""
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def _password_alert(message: str, password: str, lang: str) -> dbc.Alert:
    """The change's confirmation and the one-time password, shown once (it is stored nowhere in the page)."""
    return dbc.Alert(
        [
            html.Div(message),
            html.Div(t("dash.admin.users.one_time_password", lang), className="mt-2"),
            html.Code(password, className="one-time-password fs-5 user-select-all"),
        ],
        color="success",
    )


@callback(
    Output(ids.AD_USER_RESULT, "children"),
    Output(ids.AD_USERS_TABLE, "children"),
    Output(ids.AD_USER_TARGET, "options"),
    Input(ids.AD_USER_ADD, "n_clicks"),
    Input(ids.AD_USER_DISABLE, "n_clicks"),
    Input(ids.AD_USER_RESET, "n_clicks"),
    State(ids.AD_USER_NAME, "value"),
    State(ids.AD_USER_ROLE, "value"),
    State(ids.AD_USER_SUBSIDIARY, "value"),
    State(ids.AD_USER_LANGUAGE, "value"),
    State(ids.AD_USER_TARGET, "value"),
    State(ids.AD_LANG, "data"),
    prevent_initial_call=True,
)
def manage_users(
    _add: int | None,
    _disable: int | None,
    _reset: int | None,
    name: object,
    role: object,
    subsidiary: object,
    language: object,
    target: object,
    lang: str | None,
) -> tuple[Any, Any, Any]:
    """Add a user (with a generated one-time password), disable one, or reset one's password; audited as the admin."""
    admin = require("admin")
    lang = lang_of(lang)
    action = ctx.triggered_id
    address = remote_addr()
    try:
        if action == ids.AD_USER_ADD:
            password = auth.generate_password()
            with cursor() as cur:
                added = auth.add_user(
                    cur,
                    _text(name),
                    password,
                    _text(role),
                    _text(subsidiary) or None,
                    language=_text(language) or lang,
                    actor=admin.username,
                    remote_addr=address,
                )
            role_name = t(f"dash.role.{added.role}", lang)
            result: Any = _password_alert(
                t("dash.admin.users.added", lang, name=added.username, role=role_name), password, lang
            )
        elif action in (ids.AD_USER_DISABLE, ids.AD_USER_RESET):
            username = auth.normalise_username(_text(target))
            if not username:
                return error_alert([t("dash.admin.users.choose_user", lang)]), dash.no_update, dash.no_update
            if action == ids.AD_USER_DISABLE:
                if username == admin.username:
                    return (
                        error_alert([t("dash.admin.users.cannot_disable_self", lang)]),
                        dash.no_update,
                        dash.no_update,
                    )
                with cursor() as cur:
                    auth.disable_user(cur, username, actor=admin.username, remote_addr=address)
                result = dbc.Alert(t("dash.admin.users.disabled", lang, name=username), color="success")
            else:
                password = auth.generate_password()
                with cursor() as cur:
                    auth.reset_password(cur, username, password, actor=admin.username, remote_addr=address)
                result = _password_alert(t("dash.admin.users.reset_done", lang, name=username), password, lang)
        else:
            return dash.no_update, dash.no_update, dash.no_update
    except PilotRoiError as exc:
        return error_alert([t("dash.admin.users.refused", lang), *exc.render(lang)]), dash.no_update, dash.no_update
    return result, users_table(lang), _user_options()
