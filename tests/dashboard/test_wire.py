"""The cached views' JSON wire form: what Dash sends for it is exactly what it sends for the components."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash._utils import to_json
from dashboards.components.wire import wire


def _view() -> tuple[object, ...]:
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th("Пилот"), html.Th("Әсер")])),
            html.Tbody(
                [html.Tr([html.Td(dcc.Link("P-1 — Альфа", href="/pilots/P-1")), html.Td(html.Span("₸ 1,5 млн"))])]
            ),
        ],
        hover=True,
        size="sm",
    )
    figure = {"data": [{"x": ["2024-01-01", "2024-02-01"], "y": [1.5, math.nan], "customdata": [["P-1"], ["P-2"]]}]}
    return (html.Div([table, None, 3, "text"], id="v"), figure, [html.Span("a"), {"label": html.B("b")}])


def test_wire_form_serialises_exactly_like_the_components() -> None:
    view = _view()
    assert to_json(list(wire(view))) == to_json(list(view))


def test_wire_form_holds_no_component_and_leaves_plain_data_alone() -> None:
    div, figure, mixed = wire(_view())
    assert div["type"] == "Div" and div["namespace"] == "dash_html_components"
    assert div["props"]["children"][0]["props"]["children"][1]["type"] == "Tbody"
    assert div["props"]["children"][1:] == [None, 3, "text"]
    assert figure["data"][0]["x"] == ["2024-01-01", "2024-02-01"]
    assert mixed == [
        {"props": {"children": "a"}, "type": "Span", "namespace": "dash_html_components"},
        {"label": {"props": {"children": "b"}, "type": "B", "namespace": "dash_html_components"}},
    ]
