"""Callbacks over HTTP with Flask's test client, against the real app and the demo warehouse: every page's
routing callback answers in every language, and upload callbacks refuse who may not upload (nothing stored)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

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


def _component(node: Any, component_id: str) -> dict[str, Any] | None:
    """The component `component_id` in a layout's JSON wire form, or None."""
    if isinstance(node, list):
        return next((found for item in node if (found := _component(item, component_id)) is not None), None)
    if isinstance(node, dict) and "props" in node:
        if node["props"].get("id") == component_id:
            return node
        return _component(node["props"].get("children"), component_id)
    return None


def test_the_reports_page_opens_on_the_latest_year_with_data(
    demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The year picker opened on this calendar year while the demo's data end in October 2025: the report it offered
    first counted no realized gain at all. It now opens on the latest year a report has numbers for
    (`reports.latest_year`), offers this year and the five before it as well, and keeps a year the user picks
    (persisted for the session: the browser test checks it)."""
    from datetime import datetime

    from dashboard_helpers import REVIEWER

    from pilot_roi.reports import latest_year

    con = connect(demo_warehouse)
    try:
        latest = latest_year(con)
        last_value = con.execute("SELECT max(period) FROM observation_current").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert latest == last_value.year == 2025
    app = _app(demo_warehouse)
    reviewer = sign_in(app.server.test_client(), *REVIEWER)
    route = _dependency(reviewer, "_pages_content.children")
    # (this year on the product's clock, the year offered first, the years offered): the default does not hang on
    # the day the test runs; data older than five years are still offered; a year not yet begun never is
    cases = (
        (2027, "2025", range(2027, 2021, -1)),
        (2032, "2025", range(2032, 2024, -1)),
        (2024, "2024", range(2024, 2018, -1)),
    )
    for (this_year, default, years), lang in zip(cases, ("ru", "kk", "en"), strict=True):
        monkeypatch.setattr(clock, "now_utc", lambda year=this_year: datetime(year, 3, 1, 6, 0))
        values = {"_pages_location.pathname": "/reports", "_pages_location.search": "", "shell-lang-store.data": lang}
        response = _call(reviewer, route, values)
        assert response.status_code == 200
        select = _component(response.get_json()["response"]["_pages_content"]["children"], "reports-year")
        assert select is not None
        assert select["props"]["value"] == default, (this_year, lang)
        assert [o["value"] for o in select["props"]["options"]] == [str(y) for y in years], (this_year, lang)
        assert select["props"]["persistence"] is True


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


def test_the_quality_page_opens_on_the_engineers_subsidiary_and_names_its_own_last_upload(
    demo_warehouse: Path,
) -> None:
    """A KazMunayGas engineer's quality page opened on Air Astana (the first subsidiary), and every subsidiary's
    "last upload" named the last file of the whole warehouse (Samruk-Energy's): now the engineer's own subsidiary
    comes first, and each subsidiary names the latest upload behind its values."""
    app = _app(demo_warehouse)
    engineer = sign_in(app.server.test_client(), *ENGINEER)
    route = _dependency(engineer, "_pages_content.children")
    values = {"_pages_location.pathname": "/quality", "_pages_location.search": "", "shell-lang-store.data": "ru"}
    page = _call(engineer, route, values).get_json()["response"]["_pages_content"]["children"]
    assert _props_of(page, "quality-subsidiary")["value"] == "KMG"
    quality = _dependency(engineer, "quality-body.children")
    con = connect(demo_warehouse)
    try:
        files = dict(con.execute("SELECT upload_id, file_name FROM upload_log").fetchall())
        latest = con.execute("SELECT file_name FROM upload_log ORDER BY uploaded_at DESC, upload_id DESC").fetchone()
    finally:
        con.close()
    assert latest is not None
    for subsidiary in ("KMG", "AIRA", None):
        response = _call(engineer, quality, {"quality-subsidiary.value": subsidiary, "quality-lang.data": "ru"})
        assert response.status_code == 200
        shown = json.dumps(response.get_json(), ensure_ascii=False)
        named = [name for name in files.values() if f"«{name}»" in shown]
        if subsidiary is None:
            assert named == [latest[0]], named  # all subsidiaries: the warehouse's last upload
        else:
            assert len(named) == 1 and f"_{subsidiary.lower()}_" in named[0], (subsidiary, named)


def _props_of(node: Any, component_id: str) -> dict[str, Any]:
    """The props of the component `component_id` in a layout's JSON wire form ({} when absent)."""
    if isinstance(node, list):
        return next((found for item in node if (found := _props_of(item, component_id))), {})
    if isinstance(node, dict) and "props" in node:
        if node["props"].get("id") == component_id:
            return dict(node["props"])
        return _props_of(node["props"].get("children"), component_id)
    return {}


def test_the_admin_tables_say_codes_in_the_readers_words(demo_warehouse: Path) -> None:
    """A Russian admin page listed "daily", "sum", "false", "predictive_maintenance", "engineer" and "false" in its
    registry and user tables, while the forms above them say the same things in words."""
    from dashboard_helpers import ADMIN

    from pilot_roi.i18n import t

    app = _app(demo_warehouse)
    admin = sign_in(app.server.test_client(), *ADMIN)
    route = _dependency(admin, "_pages_content.children")
    for lang in ("ru", "kk", "en"):
        values = {"_pages_location.pathname": "/admin", "_pages_location.search": "", "shell-lang-store.data": lang}
        page = _call(admin, route, values).get_json()["response"]["_pages_content"]["children"]
        metrics = {r["metric_code"]: r for r in _props_of(page, "admin-metrics-table")["data"]}
        energy = metrics["refinery_energy_gj"]
        assert energy["frequency"] == t("dash.admin.form.frequency.daily", lang)
        assert energy["aggregation"] == t("dash.admin.form.aggregation.sum", lang)
        assert energy["higher_is_better"] == t("dash.admin.form.higher.false", lang)
        assert energy["value_kzt_per_unit"] == 4200  # numbers stay numbers (shown in the page's format)
        pilots = {r["pilot_code"]: r for r in _props_of(page, "admin-pilots-table")["data"]}
        assert pilots["KMG-EN-02"]["use_case"] == t("dash.use_case.energy_optimization", lang)
        rows = {r["username"]: r for r in _props_of(page, "admin-users-table")["data"]}
        assert rows["demo.engineer"]["role"] == t("dash.role.engineer", lang)
        assert rows["demo.engineer"]["disabled"] == t("dash.no", lang)
        assert rows["demo.reviewer"]["language"] == "Қазақша"


def _language_cookies(response: Any) -> list[str]:
    """The values of the language cookie that `response` sets (none when it leaves the browser's alone)."""
    prefix = "pilot_roi_lang="
    return [c[len(prefix) :].split(";", 1)[0] for c in response.headers.getlist("Set-Cookie") if c.startswith(prefix)]


def test_a_pages_start_up_language_call_leaves_the_chosen_language_alone(demo_warehouse: Path) -> None:
    """Every page, as it starts, sends the language its browser kept to the server (the kept value's arrival
    triggers the call). That answer set the language cookie each time; when the reader chose another language while
    it was on its way, its late cookie would undo the choice (the browser applies an answer's cookie although Dash
    drops the answer's outputs as stale). Only a choice, or a request whose cookie lacks the page's language, sets
    it now."""
    from pilot_roi.i18n import t

    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *EXECUTIVE)
    sync = _dependency(client, "shell-lang-store.data")
    kept = "shell-lang-store.data"
    first = _call(client, sync, {"shell-lang-select.value": "ru"}, kept)  # no cookie yet: the session's language
    assert _language_cookies(first) == ["ru"]
    assert _language_cookies(_call(client, sync, {"shell-lang-select.value": "ru", kept: "ru"}, kept)) == []

    chosen = _call(client, sync, {"shell-lang-select.value": "kk", kept: "ru"}, "shell-lang-select.value")
    assert _language_cookies(chosen) == ["kk"]
    assert chosen.get_json()["response"]["shell-lang-store"]["data"] == "kk"
    con = connect(demo_warehouse)
    try:
        saved = con.execute("SELECT language FROM users WHERE username = ?", [EXECUTIVE[0]]).fetchone()
    finally:
        con.close()
    assert saved == ("kk",)
    # The next page speaks the choice even before its browser's kept language arrives.
    route = _dependency(client, "_pages_content.children")
    page = _call(client, route, {"_pages_location.pathname": "/", "_pages_location.search": ""})
    assert t("dash.portfolio.title", "kk") in json.dumps(page.get_json(), ensure_ascii=False)
    assert _language_cookies(_call(client, sync, {"shell-lang-select.value": "kk", kept: "kk"}, kept)) == []

    client.delete_cookie("pilot_roi_lang")  # the server lost it (a cleared cookie); the browser kept English
    with client.session_transaction() as session:
        session.pop("lang", None)
    adopted = _call(client, sync, {"shell-lang-select.value": "kk", kept: "en"}, kept)
    assert _language_cookies(adopted) == ["en"]
    assert adopted.get_json()["response"]["shell-lang-select"]["value"] == "en"


def test_the_sign_in_page_speaks_the_language_last_chosen_in_the_dashboard(warehouse_path: Path) -> None:
    """The dashboard remembers the reader's language in a year-long cookie; the sign-in page read only the session
    and the browser's Accept-Language, so a Kazakh reader back the next day signed in on an English page."""
    from pilot_roi.i18n import t

    client = _app(warehouse_path).server.test_client()
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    assert t("security.sign_in_title", "en") in client.get("/login", headers=english_browser).get_data(as_text=True)
    client.set_cookie("pilot_roi_lang", "kk")
    page = client.get("/login", headers=english_browser).get_data(as_text=True)
    assert t("security.sign_in_title", "kk") in page and 'lang="kk"' in page
    asked = client.get("/login?lang=ru", headers=english_browser).get_data(as_text=True)  # a link's choice wins
    assert t("security.sign_in_title", "ru") in asked
