"""The audit-log page: its query (filters, newest first, 200 a page) on a real warehouse, and over HTTP against the
real app and the demo warehouse (built by the real demo builder and runner): reviewers and admins read the log with
the runner's `estimate_run` and the report download's `export`; executives and engineers are refused (403)."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboard_helpers import ADMIN, ENGINEER, EXECUTIVE, REVIEWER, reader_texts, sign_in
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call

from pilot_roi import audit, clock
from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect, migrate, transaction


@pytest.fixture
def logged(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A migrated warehouse whose audit log holds 450 events of three users (one transaction: one timestamp)."""
    con = connect(tmp_path / "wh.duckdb", create=True)
    migrate(con)
    with transaction(con):
        for i in range(450):
            user = ("ann", "bob", "cat")[i % 3]
            action = "sign_in" if i % 2 else "export"
            audit.record(con, user, action, f"=target-{i}", {"i": i}, "10.0.0.1")
    yield con
    con.close()


def test_audit_query_pages_newest_first_with_the_total(logged: duckdb.DuckDBPyConnection) -> None:
    first = q.audit_log(logged)
    assert first.height == q.AUDIT_PAGE_SIZE == 200
    assert set(first["n_total"].to_list()) == {450}
    ids = first["event_id"].to_list()
    assert ids == sorted(ids, reverse=True)
    third = q.audit_log(logged, offset=400)
    assert third.height == 50 and third["event_id"].min() == 1
    assert q.audit_log(logged, offset=600).height == 0


def test_audit_query_filters(logged: duckdb.DuckDBPyConnection) -> None:
    bob = q.audit_log(logged, q.AuditFilters(username="bob", action="sign_in"), limit=1000)
    assert bob.height == 75 and set(bob["username"]) == {"bob"} and set(bob["action"]) == {"sign_in"}
    moment = logged.execute("SELECT max(occurred_at) FROM audit_log").fetchone()[0]  # type: ignore[index]
    when = clock.local(moment).date()  # the filter's days are Kazakhstan's
    day = when.isoformat()
    assert q.audit_log(logged, q.AuditFilters(date_from=day, date_to=day), limit=1000).height == 450
    day_before, day_after = (when - timedelta(days=1)).isoformat(), (when + timedelta(days=1)).isoformat()
    assert q.audit_log(logged, q.AuditFilters(date_to=day_before)).height == 0
    assert q.audit_log(logged, q.AuditFilters(date_from=day_after)).height == 0
    assert q.audit_options(logged) == {"user": ["ann", "bob", "cat"], "action": ["export", "sign_in"]}
    with pytest.raises(ValueError):
        q.AuditFilters(date_from="27.11.2026")


def test_audit_days_and_times_are_kazakhstans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the log stores UTC; 20:00 UTC on 27 November is 01:00 on the 28th in Astana (UTC+5), and a reviewer who picks
    # the 28th must find it, shown at 01:00
    monkeypatch.delenv("PILOT_ROI_TIMEZONE", raising=False)
    con = connect(tmp_path / "wh.duckdb", create=True)
    try:
        migrate(con)
        with transaction(con):
            audit.record(con, "ann", "export", "late", {}, "10.0.0.1")
            audit.record(con, "ann", "export", "evening", {}, "10.0.0.1")
        con.execute("UPDATE audit_log SET occurred_at = TIMESTAMP '2026-11-27 20:00:00' WHERE target = 'late'")
        con.execute("UPDATE audit_log SET occurred_at = TIMESTAMP '2026-11-27 18:59:59' WHERE target = 'evening'")

        def targets(day: str) -> list[str]:
            return q.audit_log(con, q.AuditFilters(date_from=day, date_to=day))["target"].to_list()

        assert targets("2026-11-28") == ["late"]
        assert targets("2026-11-27") == ["evening"]  # 23:59:59 in Astana
        shown = q.audit_log(con).select(clock.local_text("occurred_at", "%Y-%m-%d %H:%M:%S"))  # as the page shows it
        assert shown.to_series().to_list() == ["2026-11-28 01:00:00", "2026-11-27 23:59:59"]
        monkeypatch.setenv("PILOT_ROI_TIMEZONE", "Europe/Moscow")  # another zone where it is set
        assert targets("2026-11-27") == ["late", "evening"]
    finally:
        con.close()


def _rows(response: Any) -> list[dict[str, Any]]:
    children = response.get_json()["response"]["audit-table"]["children"]
    return list(children["props"]["data"]) if children.get("type") == "DataTable" else []


@pytest.mark.slow
def test_reviewer_and_admin_read_the_log_executive_and_engineer_are_refused(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    reviewer = sign_in(app.server.test_client(), *REVIEWER)
    report = _dependency(reviewer, "reports-download.data")
    got = _call(reviewer, report, {"reports-button.n_clicks": 1, "reports-year.value": "2025",
                                   "reports-language.value": "en", "reports-format.value": "csv",
                                   "reports-lang.data": "en"}, "reports-button.n_clicks")  # fmt: skip
    assert got.status_code == 200
    table = _dependency(reviewer, "audit-table.children")
    values = {"audit-lang.data": "en"}
    for who, client in (("reviewer", reviewer), ("admin", sign_in(app.server.test_client(), *ADMIN))):
        response = _call(client, table, values, "audit-filter-user.value")
        assert response.status_code == 200, who
        seen = {(r["username"], r["action"]) for r in _rows(response)}
        # the table shows each action in the reader's words (the CSV download keeps the codes)
        signed_in, exported = t("dash.audit.action.sign_in", "en"), t("dash.audit.action.export", "en")
        assert {(REVIEWER[0], signed_in), (ADMIN[0], signed_in), (REVIEWER[0], exported)} <= seen, who
        assert ("demo-generator", "Estimates run") in seen, who  # the demo's real run_portfolio
        assert ("demo-generator", t("dash.audit.action.upload", "en")) in seen, who
        assert not {a for _, a in seen} & {"sign_in", "export", "estimate_run", "upload"}, who
    runs = _call(reviewer, table, {**values, "audit-filter-action.value": "estimate_run"}, "audit-filter-user.value")
    assert {r["action"] for r in _rows(runs)} == {"Estimates run"}
    assert all(r["target"].startswith("run:") for r in _rows(runs))
    in_russian = _call(reviewer, table, {"audit-lang.data": "ru", "audit-filter-action.value": "estimate_run"},
                       "audit-filter-user.value")  # fmt: skip
    assert {r["action"] for r in _rows(in_russian)} == {"Пересчёт оценок"}
    # times on Kazakhstan's clock, the header says so (the log stores UTC)
    shown = in_russian.get_json()["response"]["audit-table"]["children"]["props"]
    assert shown["columns"][0]["name"] == f"{t('dash.audit.col.occurred_at', 'ru')} ({clock.offset_label()})"
    con = connect(demo_warehouse)
    try:
        stored = con.execute("SELECT occurred_at FROM audit_log WHERE action = 'estimate_run'").fetchall()
    finally:
        con.close()
    expected = sorted(clock.local(m).strftime("%Y-%m-%d %H:%M:%S") for (m,) in stored)
    assert sorted(r["occurred_at"] for r in shown["data"]) == expected

    download = _dependency(reviewer, "audit-download.data")
    got = _call(reviewer, download, {"audit-download-button.n_clicks": 1}, "audit-download-button.n_clicks")
    assert got.status_code == 200
    data = got.get_json()["response"]["audit-download"]["data"]
    raw = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {"sign_in", "export", "estimate_run", "upload"} <= {r["action"] for r in rows}
    # the download's times carry their offset ("2026-11-28T01:00:00.123456+05:00"): the stored UTC moment, exactly
    moments = [datetime.fromisoformat(r["occurred_at"]) for r in rows]
    assert all(m.utcoffset() == timedelta(hours=5) for m in moments)  # the demo's events are all after March 2024
    con = connect(demo_warehouse)
    try:
        stored = {m for (m,) in con.execute("SELECT occurred_at FROM audit_log").fetchall()}
    finally:
        con.close()
    assert {m.astimezone(UTC).replace(tzinfo=None) for m in moments} <= stored

    for who in (EXECUTIVE, ENGINEER):
        client = sign_in(app.server.test_client(), *who)
        for dep, trigger, extra in (
            (table, "audit-filter-user.value", values),
            (download, "audit-download-button.n_clicks", {"audit-download-button.n_clicks": 1}),
        ):
            response = _call(client, dep, extra, trigger)
            assert response.status_code == 403, who
            assert "estimate_run" not in response.get_data(as_text=True)
    con = connect(demo_warehouse)  # the app holds the file open read-write in this process
    try:
        exports = con.execute(
            "SELECT username, target FROM audit_log WHERE action = 'export' ORDER BY event_id"
        ).fetchall()
    finally:
        con.close()
    assert (REVIEWER[0], "report:2025") in exports and (REVIEWER[0], "audit_log") in exports
    assert not [e for e in exports if e[0] in (EXECUTIVE[0], ENGINEER[0])]


@pytest.mark.slow
def test_the_page_tells_an_executive_and_an_engineer_it_is_not_theirs(demo_warehouse: Path) -> None:
    """Opening /audit without the audit permission showed an empty page (the page callback answered 403 and the
    browser logged a TypeError); it now says who the log is for, and its data callbacks stay refused."""
    app = _app(demo_warehouse)
    for who in (EXECUTIVE, ENGINEER):
        client = sign_in(app.server.test_client(), *who)
        route = _dependency(client, "_pages_content.children")
        for lang in ("ru", "kk", "en"):
            values = {"_pages_location.pathname": "/audit", "_pages_location.search": "", "shell-lang-store.data": lang}
            response = _call(client, route, values)
            assert response.status_code == 200, (who, lang)
            texts = list(reader_texts(response.get_json()["response"]["_pages_content"]["children"]))
            assert texts[:2] == [t("dash.audit.title", lang), t("dash.audit.not_allowed", lang)], texts
            text = response.get_data(as_text=True)
            assert "audit-table" not in text and "demo-generator" not in text, (who, lang)
        table = _dependency(client, "audit-table.children")
        assert _call(client, table, {"audit-lang.data": "en"}, "audit-filter-user.value").status_code == 403


def test_csv_download_is_formula_safe(logged: duckdb.DuckDBPyConnection) -> None:
    from pilot_roi.safe_export import write_csv

    text = write_csv(q.audit_log(logged, limit=5).select("target")) or ""
    assert all(line.startswith("'=") for line in text.splitlines()[1:])
