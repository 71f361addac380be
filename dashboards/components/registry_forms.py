"""The Admin page's registry forms: add or edit one site, metric or pilot without writing YAML.

Layout first (`registry_forms_card`), callbacks below (`register_callbacks`, called by the Admin page
module each time Dash loads it, so every app gets them). A form is turned into a partial registry document
by the pure builders of `registry_documents` and loaded by `pilot_roi.registry.load_registry_document`,
the same validation and upsert as the YAML upload and `pilot-roi registry load`: the same messages
(`pilots[0].sites[0].go_live: ...`), nothing changed when refused, a `registry_load` audit row when saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboards import ids
from dashboards.components.registry_documents import (
    FORMS,
    MAX_FIELD_CHARS,
    MAX_LINES_CHARS,
    RegistryForm,
    empty_fields,
)
from dashboards.components.ui import error_alert
from dashboards.context import cursor, lang_of
from dashboards.security import require
from pilot_roi.errors import PilotRoiError
from pilot_roi.i18n import t
from pilot_roi.registry import load_registry_document, stored_items
from pilot_roi.registry.model import AGGREGATIONS, FREQUENCIES, USE_CASES
from pilot_roi.registry.store import table_word

Options = list[dict[str, str]]

# The choice lists the forms show, refreshed together after every registry change (see `choice_outputs`).
CHOICES = (
    ("site", "pick", "options"),
    ("metric", "pick", "options"),
    ("pilot", "pick", "options"),
    ("site", "subsidiary", "options"),
    ("pilot", "subsidiary", "options"),
    ("pilot", "controls", "options"),
    ("pilot", "metrics", "options"),
)


def _labelled(items: dict[str, dict[str, Any]], lang: str) -> Options:
    """Codes with their name in `lang`: "KMG-ANPZ — Atyrau refinery"."""
    return [{"label": f"{code} — {item['name'].get(lang) or code}", "value": code} for code, item in items.items()]


def _choices(lang: str) -> list[Options]:
    """Every list of `CHOICES`, in its order, from the warehouse as it is now."""
    with cursor() as cur:
        stored = {section: stored_items(cur, section) for section in ("subsidiaries", "sites", "metrics", "pilots")}
    new = [{"label": t("dash.admin.form.new", lang), "value": ""}]
    choose = [{"label": t("dash.admin.form.choose", lang), "value": ""}]
    subsidiaries = choose + _labelled(stored["subsidiaries"], lang)
    sites = _labelled(stored["sites"], lang)
    return [
        new + sites,
        new + _labelled(stored["metrics"], lang),
        new + _labelled(stored["pilots"], lang),
        subsidiaries,
        subsidiaries,
        sites,
        _labelled(stored["metrics"], lang),
    ]


def _select(kind: str, part: str, options: Options) -> dbc.Select:
    # dbc.Select shows its own hidden placeholder option for the value "": give it the empty entry's label.
    empty = next((o["label"] for o in options if o["value"] == ""), "")
    return dbc.Select(id=ids.registry_form(kind, part), options=options, value="", placeholder=empty)


def _fixed(kind: str, part: str, values: tuple[str, ...], label_key: str, lang: str) -> dbc.Select:
    """A choice among the registry contract's fixed values, labelled in `lang`."""
    options = [{"label": t(label_key.format(value=v), lang), "value": v} for v in values]
    return _select(kind, part, choose_first(options, lang))


def choose_first(options: Options, lang: str) -> Options:
    """`options` after an empty "choose" entry (an unchosen required field is then the validator's to name)."""
    return [{"label": t("dash.admin.form.choose", lang), "value": ""}, *options]


def _control(kind: str, part: str, lang: str, choices: dict[tuple[str, str], Options]) -> Any:
    """The input for one field of a form."""
    field_id = ids.registry_form(kind, part)
    if part == "subsidiary":
        return _select(kind, part, choices[(kind, part)])
    if part in ("controls", "metrics"):
        return dcc.Dropdown(
            id=field_id,
            options=choices[(kind, part)],
            value=[],
            multi=True,
            placeholder=t(f"dash.admin.form.{part}_placeholder", lang),
        )
    if part == "frequency":
        return _fixed(kind, part, FREQUENCIES, "dash.admin.form.frequency.{value}", lang)
    if part == "aggregation":
        return _fixed(kind, part, AGGREGATIONS, "dash.admin.form.aggregation.{value}", lang)
    if part == "use_case":
        return _fixed(kind, part, USE_CASES, "dash.use_case.{value}", lang)
    if part == "higher_is_better":
        return _fixed(kind, part, ("true", "false"), "dash.admin.form.higher.{value}", lang)
    if part == "sites":
        return dbc.Textarea(
            id=field_id,
            value="",
            rows=4,
            maxLength=MAX_LINES_CHARS,
            placeholder=t("dash.admin.form.sites_placeholder", lang),
        )
    if part in ("value_kzt_per_unit", "min_value", "max_value", "capex_kzt", "opex_kzt_per_year"):
        # Text, not type=number: "1 200 000,5" is how many people type money; the builder reads it.
        return dbc.Input(
            id=field_id,
            type="text",
            inputMode="decimal",
            value="",
            maxLength=MAX_FIELD_CHARS,
            placeholder=t("dash.admin.form.number_placeholder", lang),
        )
    return dbc.Input(id=field_id, type="text", value="", maxLength=64 if part == "code" else MAX_FIELD_CHARS)


_WIDE = ("sites", "controls", "metrics")


def _form(form: RegistryForm, lang: str, choices: dict[tuple[str, str], Options]) -> html.Div:
    """One form: the code to edit (or "new"), its fields, Save, and where the outcome shows."""
    kind = form.kind
    fields = [
        dbc.Col(
            [dbc.Label(t(f"dash.admin.form.field.{part}", lang)), _control(kind, part, lang, choices)],
            md=12 if part in _WIDE else 4,
        )
        for part in form.fields
    ]
    return html.Div(
        [
            dbc.Row(
                dbc.Col(
                    [
                        dbc.Label(t("dash.admin.form.pick", lang)),
                        _select(kind, "pick", choices[(kind, "pick")]),
                    ],
                    md=6,
                ),
                className="mb-2",
            ),
            dbc.Row(fields, className="g-2 mb-3"),
            dbc.Button(t("dash.admin.form.save", lang), id=ids.registry_form(kind, "save"), color="primary"),
            dcc.Loading(html.Div(id=ids.registry_form(kind, "result"), className="mt-3"), type="dot"),
        ],
        className="pt-3",
    )


def registry_forms_card(lang: str) -> dbc.Card:
    """Three tabs (site, metric, pilot), each a form that loads one item through the registry's validator."""
    choices = dict(zip(((k, p) for k, p, _ in CHOICES), _choices(lang), strict=True))
    tabs = dbc.Tabs(
        [
            dbc.Tab(_form(form, lang, choices), label=t(f"dash.admin.form.{kind}.tab", lang), tab_id=kind)
            for kind, form in FORMS.items()
        ],
        active_tab="site",
    )
    return dbc.Card(
        [
            dbc.CardHeader(t("dash.admin.form.title", lang)),
            dbc.CardBody([html.P(t("dash.admin.form.lead", lang), className="text-muted"), tabs]),
        ],
        id=ids.AD_FORMS,
        className="mb-3",
    )


# ---------------------------------------------------------------------------------------------- callbacks


def prefill(form: RegistryForm, code: object) -> list[Any]:
    """The form's values for the stored item `code`, or a blank form (a new code)."""
    require("admin")
    item = None
    if isinstance(code, str) and code:
        with cursor() as cur:
            item = stored_items(cur, form.section).get(code[:MAX_FIELD_CHARS])
    values = form.prefill(item) if item is not None else empty_fields(form.fields)
    return [values[part] for part in form.fields]


def save(
    form: RegistryForm, values: tuple[object, ...], version: object, lang: str, tables: Callable[[str], Any]
) -> tuple[Any, Any, Any]:
    """Load the form as a partial registry document: (outcome, refreshed tables, new registry version)."""
    admin = require("admin")
    fields = dict(zip(form.fields, values, strict=True))
    document = form.document(fields)
    code = str(document[form.section][0].get("code") or "")
    try:
        with cursor() as cur:
            summary = load_registry_document(
                cur, document, username=admin.username, source=f"admin form: {form.kind} {code}"
            )
    except PilotRoiError as exc:
        return error_alert([t("dash.admin.form.refused", lang), *exc.render(lang)]), dash.no_update, dash.no_update
    if not summary.changed:
        return dbc.Alert(t("dash.admin.form.unchanged", lang, code=code), color="info"), dash.no_update, dash.no_update
    lines = [
        t(
            "registry.summary",
            lang,
            table=table_word(c.table, lang),
            created=c.created,
            updated=c.updated,
            unchanged=c.unchanged,
        )
        for c in summary.changes
        if c.created or c.updated
    ]
    alert = dbc.Alert(
        [html.Div(t(f"dash.admin.form.{form.kind}.saved", lang, code=code))] + [html.Div(x) for x in lines],
        color="success",
    )
    next_version = (version if isinstance(version, int) and not isinstance(version, bool) else 0) + 1
    return alert, tables(lang), next_version


def register_callbacks(tables: Callable[[str], Any]) -> None:
    """Register the forms' callbacks (prefill, save, refreshed choices); `tables(lang)` redraws the registry tables.

    Every callback checks the admin role itself: a hand-made request from any other role gets 403.
    """
    for form in FORMS.values():
        _register_form(form, tables)

    @callback(
        *[Output(ids.registry_form(kind, part), prop) for kind, part, prop in CHOICES],
        Input(ids.AD_FORM_VERSION, "data"),
        State(ids.AD_LANG, "data"),
        prevent_initial_call=True,
    )
    def refresh_choices(_version: object, lang: str | None) -> list[Options]:
        """After a registry change, the forms offer the codes that now exist."""
        require("admin")
        return _choices(lang_of(lang))


def _register_form(form: RegistryForm, tables: Callable[[str], Any]) -> None:
    kind = form.kind

    @callback(
        *[Output(ids.registry_form(kind, part), "value") for part in form.fields],
        Input(ids.registry_form(kind, "pick"), "value"),
        prevent_initial_call=True,
    )
    def prefill_form(code: object) -> list[Any]:
        return prefill(form, code)

    @callback(
        Output(ids.registry_form(kind, "result"), "children"),
        Output(ids.AD_TABLES, "children", allow_duplicate=True),
        Output(ids.AD_FORM_VERSION, "data", allow_duplicate=True),
        Input(ids.registry_form(kind, "save"), "n_clicks"),
        *[State(ids.registry_form(kind, part), "value") for part in form.fields],
        State(ids.AD_FORM_VERSION, "data"),
        State(ids.AD_LANG, "data"),
        prevent_initial_call=True,
    )
    def save_form(_clicks: object, *rest: object) -> tuple[Any, Any, Any]:
        *values, version, lang = rest
        return save(form, tuple(values), version, lang_of(lang), tables)
