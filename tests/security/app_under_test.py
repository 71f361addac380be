"""A minimal Dash app with the real security layer, served by gunicorn in the server tests.

It stands in for `dashboards.app.create_app` where the dashboard does not exist yet, and mimics its
contract: callbacks call `require(...)` first, the upload callback checks the subsidiaries of the sites
in the file against `upload_subsidiaries(user)` before it stores anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import dash
from dash import Input, Output, State, dcc, html
from dashboards.security import audit_event, current_user, install_security, require, requires

from pilot_roi.auth import check_upload_scope
from pilot_roi.safe_export import neutralise_frame
from pilot_roi.upload_guard import check_upload, decode_dash_upload
from pilot_roi.warehouse import connect, transaction


def make() -> object:
    """The WSGI app (Flask server) for gunicorn: `tests.security.app_under_test:make()`."""
    warehouse = Path(os.environ["PILOT_ROI_WAREHOUSE"])
    production = os.environ.get("PILOT_ROI_PRODUCTION") == "1"
    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    install_security(app.server, warehouse=warehouse, secret_key=None, production=production)
    app.layout = html.Div(
        [
            html.H1("pilot-roi test"),
            dcc.Input(id="who-in", value="x"),
            html.Div(id="who-out"),
            dcc.Upload(id="upload", children="drop"),
            html.Div(id="upload-out"),
            html.Button("audit", id="audit-btn"),
            html.Div(id="audit-out"),
            dcc.Graph(
                id="graph",
                figure={
                    "data": [
                        {"type": "scatter", "x": [1, 2, 3], "y": [3, 1, 2], "name": "Энергия"},
                        {"type": "bar", "x": [1, 2, 3], "y": [1, 2, 3], "name": "₸"},
                    ],
                    "layout": {"title": {"text": "Қазақша ₸"}},
                },
            ),
        ]
    )

    @app.callback(Output("who-out", "children"), Input("who-in", "value"))
    def who(value: str) -> str:
        user = require("read")
        return f"{user.username}:{user.role}:{value}"

    @app.callback(
        Output("upload-out", "children"),
        Input("upload", "contents"),
        State("upload", "filename"),
        prevent_initial_call=True,
    )
    def upload(contents: str, filename: str) -> str:
        user = require("upload")
        data = decode_dash_upload(contents)
        checked = check_upload(data, filename)
        text = data.decode("utf-8")
        sites = [line.split(",")[0] for line in text.splitlines()[1:] if line.strip()]
        con = connect(warehouse)
        try:
            codes = {
                row[0]
                for row in con.execute(
                    "SELECT subsidiary_code FROM sites WHERE list_contains($sites, code)", {"sites": sites}
                ).fetchall()
            }
            check_upload_scope(user, codes)
            with transaction(con):
                con.execute("CREATE TABLE IF NOT EXISTS test_uploads (site VARCHAR, who VARCHAR)")
                for site in sites:
                    con.execute("INSERT INTO test_uploads VALUES ($s, $w)", {"s": site, "w": user.username})
        finally:
            con.close()
        audit_event("upload", checked.display_name, {"rows": len(sites)})
        return f"stored {len(sites)}"

    @app.callback(Output("audit-out", "children"), Input("audit-btn", "n_clicks"), prevent_initial_call=True)
    def read_audit(_n: int) -> str:
        require("audit")
        return "audit rows"

    @app.server.route("/download/report.csv")
    @requires("export")
    def download() -> tuple[bytes, int, dict[str, str]]:
        import polars as pl

        user = current_user()
        frame = neutralise_frame(pl.DataFrame({"note": ["=1+1", "ok"]}))
        audit_event("export", "report.csv", {"format": "csv"})
        body = frame.write_csv().encode("utf-8")
        return body, 200, {"Content-Type": "text/csv", "X-User": user.username if user else ""}

    return app.server
