"""The Dash app shell: theme, navbar, language switch, error toast and the pages container. Nothing else.

Pages live in `dashboards/pages/` (one module each, layout first, callbacks below); figures come from
`dashboards/components/`; queries from `pilot_roi.dashboard_queries`; sign-in and permissions from
`dashboards/security.py`. `pilot-roi serve` runs `create_app(...).server` on gunicorn.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, ctx, dcc, html

from dashboards import ids
from dashboards.components import reestimate
from dashboards.context import EXTENSION, LANG_COOKIE, WarehouseAccess, cursor, error_ref, lang_of
from dashboards.security import current_user, install_security
from pilot_roi import dashboard_queries as q
from pilot_roi.auth import can
from pilot_roi.errors import PermissionDenied, PilotRoiError
from pilot_roi.i18n import t
from pilot_roi.settings import LANGS

HERE = Path(__file__).resolve().parent
log = logging.getLogger("pilot_roi.dashboard")

# (page key, path, permission needed to see the link)
NAV_PAGES: tuple[tuple[str, str, str], ...] = (
    ("portfolio", "/", "read"),
    ("upload", "/upload", "upload"),
    ("quality", "/quality", "read"),
    ("reports", "/reports", "export"),
    ("admin", "/admin", "admin"),
    ("audit", "/audit", "audit"),
)
LANG_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


def create_app(
    warehouse: Path, *, secret_key: str | None = None, production: bool = False, warm_pool: bool = False
) -> Dash:
    """The dashboard for the warehouse at `warehouse`, secured (sign-in required) and ready to serve.

    The warehouse must exist and be migrated. `secret_key` signs the session cookie (required when
    `production`; else PILOT_ROI_SECRET_KEY or a per-process random key). `warm_pool`: start the re-estimation's
    process pool now, in the background (the server does; otherwise it starts on the first re-estimation).
    """
    server = flask.Flask("pilot_roi_dashboard")
    server.extensions[EXTENSION] = WarehouseAccess(Path(warehouse))
    install_security(server, warehouse=Path(warehouse), secret_key=secret_key, production=production)
    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="pilot-roi",
        update_title=None,
        suppress_callback_exceptions=True,
        routing_callback_inputs={"lang": Input(ids.LANG_STORE, "data")},
        on_error=_on_error,
        serve_locally=True,
        compress=False,
    )
    app.layout = _shell
    _register_shell_callbacks(app)
    if warm_pool:
        reestimate.warm_pool_in_background()
    return app


def _shell() -> html.Div:
    """The frame around every page (a function: evaluated per page load, for the signed-in user)."""
    lang = lang_of()
    user = current_user()
    demo = False
    try:
        with cursor() as cur:
            demo = q.is_demo(q.warehouse_info(cur))
    except PilotRoiError:
        demo = False
    links = [
        # Every link exists (the language callback updates them all); those the role cannot use are hidden.
        dbc.NavItem(
            dbc.NavLink(t(f"dash.nav.{key}", lang), href=path, id=ids.nav_link(key), active="exact"),
            className="" if can(user, permission) else "d-none",
        )
        for key, path, permission in NAV_PAGES
    ]
    right = [
        dbc.Badge(t("dash.demo_badge", lang), color="warning", text_color="dark", className="me-3", id=ids.DEMO_BADGE)
        if demo
        else html.Span(id=ids.DEMO_BADGE),
        html.Span(
            _user_words(user, lang),
            className="navbar-text me-3 small",
            id=ids.USER_BADGE,
        ),
        dbc.Select(
            id=ids.LANG_SELECT,
            options=[{"label": LANG_NAMES[code], "value": code} for code in LANGS],
            value=lang,
            size="sm",
            className="me-3 lang-select",
        ),
        html.A(t("dash.sign_out", lang), href="/logout", className="btn btn-outline-light btn-sm", id=ids.SIGN_OUT),
    ]
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Span("pilot-roi", className="fw-bold"),
                        html.Span(t("dash.subtitle", lang), id=ids.BRAND_SUBTITLE, className="brand-sub"),
                    ],
                    href="/",
                ),
                dbc.Nav(links, navbar=True, className="me-auto", id=ids.NAV),
                html.Div(right, className="d-flex align-items-center navbar-right"),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3",
    )
    return html.Div(
        [
            dcc.Store(id=ids.LANG_STORE, storage_type="local"),
            dcc.Location(id=ids.REDIRECT, refresh="callback-nav"),
            navbar,
            dbc.Container(
                dcc.Loading(dash.page_container, type="default", delay_show=400), fluid=True, className="pb-5"
            ),
            dbc.Toast(
                id=ids.ERROR_TOAST,
                header=t("dash.error_title", lang),
                is_open=False,
                dismissable=True,
                icon="danger",
                duration=12000,
                className="error-toast",
            ),
        ],
        lang=lang,
    )


def _user_words(user: Any, lang: str) -> str:
    """ "demo.admin · администратор": who is signed in, the role in `lang`."""
    return f"{user.username} · {t(f'dash.role.{user.role}', lang)}" if user else ""


def _register_shell_callbacks(app: Dash) -> None:
    outputs = [
        Output(ids.LANG_STORE, "data"),
        Output(ids.LANG_SELECT, "value"),
        Output(ids.BRAND_SUBTITLE, "children"),
        Output(ids.SIGN_OUT, "children"),
        Output(ids.USER_BADGE, "children"),
        Output(ids.DEMO_BADGE, "children"),
    ]

    @app.callback(*outputs, Input(ids.LANG_SELECT, "value"), Input(ids.LANG_STORE, "data"))
    def sync_language(selected: str | None, stored: str | None) -> tuple[Any, ...]:
        """Keep the select, the remembered language (browser storage, cookie, session) and the shell's words (the
        subtitle, sign-out, the user's role and the demo badge) in step."""
        from dashboards.security import require

        user = require("read")
        chosen = ctx.triggered_id == ids.LANG_SELECT and selected in LANGS
        if chosen:
            lang = str(selected)
            if user.language != lang:
                with cursor() as cur:
                    q.set_user_language(cur, user.username, lang)
        elif stored in LANGS:
            lang = str(stored)
        else:
            lang = lang_of(selected)
        # Set the cookie on a choice, or when the request's cookie lacks the language the page settled on. Not on
        # every page's start-up call: an answer that comes after the reader chose another language would put the
        # old one back (the browser applies its cookie although Dash drops its outputs as stale).
        if chosen or flask.request.cookies.get(LANG_COOKIE) != lang:
            flask.session["lang"] = lang
            ctx.response.set_cookie(LANG_COOKIE, lang, samesite="Lax", httponly=True, max_age=365 * 24 * 3600)
        store_out = lang if stored != lang else dash.no_update
        with cursor() as cur:
            demo = q.is_demo(q.warehouse_info(cur))
        return (
            store_out,
            lang,
            t("dash.subtitle", lang),
            t("dash.sign_out", lang),
            _user_words(user, lang),
            t("dash.demo_badge", lang) if demo else dash.no_update,
        )

    @app.callback(
        [Output(ids.nav_link(key), "children") for key, _p, _perm in NAV_PAGES],
        Input(ids.LANG_STORE, "data"),
    )
    def nav_labels(stored: str | None) -> list[str]:
        """The navbar's words in the chosen language."""
        from dashboards.security import require

        require("read")
        lang = lang_of(stored)
        return [t(f"dash.nav.{key}", lang) for key, _p, _perm in NAV_PAGES]


def _on_error(exc: Exception) -> None:
    """Every callback's failure ends here: refusals become a message, bugs a reference; never a traceback.

    PermissionDenied is re-raised so the security layer answers 403 (and the audit log has it).
    """
    if isinstance(exc, PermissionDenied):
        raise exc
    lang = lang_of()
    if isinstance(exc, PilotRoiError):
        body: Any = [html.Div(line) for line in exc.render(lang)]
    else:
        body = t("dash.internal_error", lang, ref=error_ref(exc))
    dash.set_props(ids.ERROR_TOAST, {"children": body, "is_open": True})
    return None
