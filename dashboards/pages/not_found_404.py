"""The page for an unknown address."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboards.components.ui import empty_state
from dashboards.context import lang_of
from pilot_roi.i18n import t

dash.register_page(__name__, path="/404", name="not_found", title="pilot-roi")


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """Nothing here; a way back."""
    lang = lang_of(lang)
    return html.Div([empty_state(t("dash.not_found", lang)), dcc.Link(t("dash.back_to_portfolio", lang), href="/")])
