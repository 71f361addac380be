"""Callbacks over HTTP with Flask's test client, against the real app and the demo warehouse: every page's
routing callback answers in every language, and upload callbacks refuse who may not upload (nothing stored)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from dashboard_helpers import ENGINEER, EXECUTIVE, ORIGIN, sign_in
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call

from pilot_roi import clock
from pilot_roi.warehouse import connect

pytestmark = pytest.mark.slow


def _counts(path: Path) -> tuple[int, int]:
    con = connect(path)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM observation_current), (SELECT count(*) FROM upload_log)"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1])


def test_every_page_answers_in_every_language(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *EXECUTIVE)
    route = _dependency(client, "_pages_content.children")
    pages = ("/", "/pilots/KMG-EN-02", "/pilots/NOPE", "/upload", "/quality", "/reports", "/admin", "/x")
    for lang, path in ((lang, path) for lang in ("ru", "kk", "en") for path in pages):
        values = {"_pages_location.pathname": path, "_pages_location.search": "", "shell-lang-store.data": lang}
        response = _call(client, route, values)
        assert response.status_code == 200, (lang, path)
        assert "Traceback" not in response.get_data(as_text=True)


def test_anonymous_callback_is_refused(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    client = app.server.test_client()
    assert client.post("/_dash-update-component", json={}, headers=ORIGIN).status_code == 401


def _csv(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def test_executive_cannot_call_the_upload_callback(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *EXECUTIVE)
    preview = _dependency(client, "upload-preview.children")
    before = _counts(demo_warehouse)
    response = _call(client, preview, {"upload-files.contents": [_csv("site_code,metric_code,period,value\n")],
                                       "upload-files.filename": ["x.csv"], "upload-mode.value": "all_or_nothing",
                                       "upload-lang.data": "en"})  # fmt: skip
    assert response.status_code == 403
    assert _counts(demo_warehouse) == before


def test_engineer_cannot_load_another_subsidiarys_site_by_hand(demo_warehouse: Path) -> None:
    con = connect(demo_warehouse)
    try:
        row = con.execute(
            "SELECT o.site_code, o.metric_code, o.period, o.value FROM observation_current o "
            "JOIN sites s ON s.code = o.site_code WHERE s.subsidiary_code <> 'KMG' LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *ENGINEER)
    preview = _dependency(client, "upload-preview.children")
    before = _counts(demo_warehouse)
    text = f"site_code,metric_code,period,value\n{row[0]},{row[1]},{row[2]:%Y-%m-%d},{float(row[3]) + 5}\n"
    response = _call(client, preview, {"upload-files.contents": [_csv(text)], "upload-files.filename": ["other.csv"],
                                       "upload-mode.value": "skip_invalid", "upload-lang.data": "en"})  # fmt: skip
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        payload = response.get_json()["response"]
        assert payload["upload-confirm"]["disabled"] is True  # nothing offered for loading
        assert payload["upload-token"]["data"] is None
    assert _counts(demo_warehouse) == before


def test_empty_warehouse_shows_empty_states_not_errors(warehouse_path: Path) -> None:
    from pilot_roi.auth import add_user
    from pilot_roi.i18n import t

    con = connect(warehouse_path)
    try:
        add_user(con, "boss", "a-long-password", "admin", language="kk")
    finally:
        con.close()
    app = _app(warehouse_path)
    client = sign_in(app.server.test_client(), "boss", "a-long-password")
    route = _dependency(client, "_pages_content.children")
    for path in ("/", "/pilots/ANY", "/upload", "/quality", "/reports", "/admin"):
        values = {"_pages_location.pathname": path, "_pages_location.search": "", "shell-lang-store.data": "kk"}
        response = _call(client, route, values)
        assert response.status_code == 200, path
    portfolio = _call(
        client, route, {"_pages_location.pathname": "/", "_pages_location.search": "", "shell-lang-store.data": "kk"}
    )
    assert t("dash.empty.no_run", "kk") in json.dumps(portfolio.get_json(), ensure_ascii=False)
    quality = _dependency(client, "quality-body.children")
    response = _call(client, quality, {"quality-subsidiary.value": None, "quality-lang.data": "kk"})
    assert response.status_code == 200
    assert t("dash.empty.no_observations", "kk") in json.dumps(response.get_json(), ensure_ascii=False)


def test_reviewer_downloads_the_report_and_an_executive_may_not(demo_warehouse: Path) -> None:
    from dashboard_helpers import REVIEWER

    app = _app(demo_warehouse)
    reviewer = sign_in(app.server.test_client(), *REVIEWER)
    download = _dependency(reviewer, "reports-download.data")
    values = {"reports-button.n_clicks": 1, "reports-year.value": "2025", "reports-language.value": "kk",
              "reports-format.value": "csv", "reports-lang.data": "kk"}  # fmt: skip
    response = _call(reviewer, download, values)
    assert response.status_code == 200
    data = response.get_json()["response"]["reports-download"]["data"]
    assert data["filename"] == "pilot-roi-report-2025-kk.csv"
    content = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode("utf-8")
    assert content.startswith(b"\xef\xbb\xbf") and len(content) > 100
    executive = sign_in(app.server.test_client(), *EXECUTIVE)
    assert _call(executive, download, values).status_code == 403


def test_reviewer_freezes_the_year_once_and_an_executive_may_not(demo_warehouse: Path) -> None:
    from dashboard_helpers import REVIEWER

    app = _app(demo_warehouse)
    reviewer = sign_in(app.server.test_client(), *REVIEWER)
    freeze = _dependency(reviewer, "reports-freeze-status.children")
    values = {"reports-year.value": "2025", "reports-freeze-button.n_clicks": 1, "reports-lang.data": "en"}
    executive = sign_in(app.server.test_client(), *EXECUTIVE)
    click = "reports-freeze-button.n_clicks"
    assert _call(executive, freeze, values, click).status_code == 403
    assert "is not frozen" in json.dumps(_call(reviewer, freeze, values).get_json())
    first = _call(reviewer, freeze, values, click)
    assert first.status_code == 200
    assert "is frozen: run" in json.dumps(first.get_json())
    second = _call(reviewer, freeze, values, click)
    assert "already" in json.dumps(second.get_json()).lower()
    con = connect(demo_warehouse)
    try:
        rows = con.execute("SELECT year, frozen_by FROM report_freezes").fetchall()
        audited = con.execute("SELECT username FROM audit_log WHERE action = 'report_freeze'").fetchall()
        frozen_at = con.execute("SELECT frozen_at FROM report_freezes").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert rows == [(2025, "demo.reviewer")]
    assert audited == [("demo.reviewer",)]
    # when, on Kazakhstan's clock and saying so (stored in UTC)
    when = f"{clock.local_moment_text(frozen_at)} ({clock.offset_label()})"
    assert when in json.dumps(first.get_json(), ensure_ascii=False)


def test_the_quality_page_dates_the_last_upload_on_kazakhstans_clock(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *EXECUTIVE)
    quality = _dependency(client, "quality-body.children")
    response = _call(client, quality, {"quality-subsidiary.value": None, "quality-lang.data": "ru"})
    assert response.status_code == 200
    con = connect(demo_warehouse)
    try:
        last = con.execute("SELECT uploaded_at FROM upload_log ORDER BY upload_id DESC LIMIT 1").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    when = f"{clock.local_moment_text(last)} ({clock.offset_label()})"
    assert when in json.dumps(response.get_json(), ensure_ascii=False)
