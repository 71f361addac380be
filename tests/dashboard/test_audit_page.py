"""The audit-log page: its query (filters, newest first, 200 a page) on a real warehouse, and over HTTP against the
real app and the demo warehouse (built by the real demo builder and runner): reviewers and admins read the log with
the runner's `estimate_run` and the report download's `export`; executives and engineers are refused (403)."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboard_helpers import ADMIN, ENGINEER, EXECUTIVE, REVIEWER, pager_items, post_pager_click, reader_texts, sign_in
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call

from pilot_roi import audit, clock
from pilot_roi import dashboard_queries as q
from pilot_roi.audit import details_in_words
from pilot_roi.i18n import catalog, t
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


@pytest.mark.slow
def test_the_log_pages_with_a_pager_in_the_readers_language(demo_warehouse: Path) -> None:
    """450 more events make three pages of 200. The pager (dbc.Pagination said "First", "Previous", "Next", "Last"
    to a screen reader in every language) speaks Russian and Kazakh; its click callback stores the page its button
    goes to, for reviewers only; the table callback shows the stored page, and a filter goes back to page 1."""
    con = connect(demo_warehouse)
    try:
        with transaction(con):
            for i in range(450):
                audit.record(con, "ann", "export", f"target-{i}", {"i": i}, "10.0.0.1")
    finally:
        con.close()
    app = _app(demo_warehouse)
    reviewer = sign_in(app.server.test_client(), *REVIEWER)
    table = _dependency(reviewer, "audit-table.children")
    deps = reviewer.get("/_dash-dependencies").get_json()
    click = next(d for d in deps if "audit-pager-button" in d["inputs"][0]["id"])
    assert click["output"].startswith("audit-page.data")

    def show(lang: str, page: int, changed: str = "audit-page.data") -> dict[str, Any]:
        response = _call(reviewer, table, {"audit-lang.data": lang, "audit-page.data": page}, changed)
        assert response.status_code == 200
        return response.get_json()["response"]

    first, second = show("ru", 1, "audit-filter-user.value"), show("kk", 2)
    targets = [{r["target"] for r in answer["audit-table"]["children"]["props"]["data"]} for answer in (first, second)]
    assert len(targets[0]) == len(targets[1]) == 200 and not targets[0] & targets[1]
    assert second["audit-count"]["children"].endswith(t("dash.audit.count", "kk", n=0, page=2, pages=3).split("; ")[1])
    for lang, answer, current in (("ru", first, 1), ("kk", second, 2)):
        nav = answer["audit-pager"]["children"]
        assert nav["props"]["aria-label"] == t("dash.pager.label", lang)
        items = pager_items(nav)
        words = [t(f"dash.pager.{k}", lang) for k in ("first", "previous", "next", "last")]
        numbers = [t("dash.pager.page", lang, page=n) for n in (1, 2, 3)]
        assert [i["says"] for i in items] == [*words[:2], *numbers, *words[2:]]
        assert [i["goes_to"] for i in items if i["current"]] == [current]
        assert answer["audit-page"]["data"] == current
    assert post_pager_click(reviewer, click, first["audit-pager"]["children"], "next", 1).get_json()["response"] == {
        "audit-page": {"data": 2}
    }
    assert show("en", 9)["audit-page"]["data"] == 1  # past the end (the log shrank under a filter): page 1
    assert show("en", 3, "audit-filter-action.value")["audit-page"]["data"] == 1  # a changed filter: page 1
    for who in (EXECUTIVE, ENGINEER):
        client = sign_in(app.server.test_client(), *who)
        assert post_pager_click(client, click, first["audit-pager"]["children"], "next", 1).status_code == 403, who


def test_csv_download_is_formula_safe(logged: duckdb.DuckDBPyConnection) -> None:
    from pilot_roi.safe_export import write_csv

    text = write_csv(q.audit_log(logged, limit=5).select("target")) or ""
    assert all(line.startswith("'=") for line in text.splitlines()[1:])


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_details_read_as_key_value_lines_in_the_readers_language(lang: str) -> None:
    """The details column showed the stored JSON ('{"upload_id": 4, "status": "loaded", "sha256": ...') cut at 300
    characters. It reads as one "key: value" line per key, known keys in the reader's words, every value whole."""
    sha = "ab" * 32
    stored = json.dumps(
        {
            "upload_id": 4,
            "status": "loaded",
            "sha256": sha,
            "rows_read": 6058,
            "frozen": True,
            "locked_until": None,
            "sites": {"created": 52, "updated": 0},
            "codes": ["KMG-ANPZ", "KMG-PNHZ"],
            "note": "x" * 400,
        },
        ensure_ascii=False,
    )
    lines = details_in_words(stored, lang).split("\n")

    def word(key: str) -> str:
        text = t(f"dash.audit.detail.{key}", lang)
        return text[:1].upper() + text[1:]

    assert lines == [
        f"{word('upload_id')}: 4",
        f"{word('status')}: loaded",  # values read as written
        f"SHA-256: {sha}",
        f"{word('rows_read')}: 6058",  # an id or a count as stored, never "6 058" (nor a year as "2 025")
        f"{word('frozen')}: {t('dash.audit.value.yes', lang)}",
        f"{word('locked_until')}: —",
        f"{t('registry.table.sites', lang).capitalize()}: ({t('dash.audit.detail.created', lang)}: 52, "
        f"{t('dash.audit.detail.updated', lang)}: 0)",
        "codes: KMG-ANPZ, KMG-PNHZ",  # a key without words stays as written
        "note: " + "x" * 400,  # whole: nothing is cut
    ]
    if lang != "en":
        assert not {"Upload", "Status", "Rows read"} & {line.split(":")[0] for line in lines}
    # what is not a JSON object is shown as stored
    assert details_in_words("not json {", lang) == "not json {"
    assert details_in_words("[1, 2]", lang) == "[1, 2]"
    assert details_in_words(None, lang) == details_in_words("{}", lang) == ""


def test_every_detail_key_the_product_records_has_words() -> None:
    """Each key an audited action records, in every language (a key without words would show its code)."""
    recorded = {
        "upload_id", "status", "sha256", "rows_read", "rows_inserted", "rows_updated", "rows_unchanged",
        "rows_rejected", "rows", "role", "subsidiary_code", "language", "reason", "locked_until", "failures",
        "method", "subject", "run_id", "n_estimates", "reused_from", "data_version", "code_version", "year",
        "format", "lang", "frozen", "file", "bytes", "permission", "username", "action", "from_utc", "to_utc",
        "created", "updated", "unchanged", "subsidiaries", "sites", "metrics", "pilots",
    }  # fmt: skip
    keys = {k for k in catalog() if k.startswith(("dash.audit.detail.", "registry.table."))}
    assert [k for k in sorted(recorded) if not {f"dash.audit.detail.{k}", f"registry.table.{k}"} & keys] == []
    assert audit.detail_key("rows_read", "kk") == t("dash.audit.detail.rows_read", "kk")
    assert audit.detail_key("sites", "ru") == t("registry.table.sites", "ru")
    assert audit.detail_key("no_such_key", "ru") == "no_such_key"


@pytest.mark.slow
def test_the_table_shows_the_demos_details_in_words_and_the_csv_keeps_the_json(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    reviewer = sign_in(app.server.test_client(), *REVIEWER)
    table = _dependency(reviewer, "audit-table.children")
    con = connect(demo_warehouse)
    try:
        stored = con.execute("SELECT action, CAST(details AS VARCHAR) FROM audit_log").fetchall()
    finally:
        con.close()
    uploads = [json.loads(text) for action, text in stored if action == "upload"]
    assert len(uploads) == 24  # the demo's files
    for lang in ("ru", "kk", "en"):
        values = {"audit-lang.data": lang, "audit-filter-action.value": "upload"}
        shown = [row["details"] for row in _rows(_call(reviewer, table, values, "audit-filter-user.value"))]
        assert len(shown) == len(uploads), lang
        label = {k: t(f"dash.audit.detail.{k}", lang).capitalize() for k in ("upload_id", "rows_read")}
        for text in shown:
            lines = text.split("\n")
            assert len(lines) == 8 and not text.startswith("{"), text  # upload, status, SHA-256, five row counts
            assert lines[0].startswith(f"{label['upload_id']}: ") and f"\n{label['rows_read']}: " in text, text
        # every stored value is shown, each event's on its own row
        for details in uploads:
            matching = [text for text in shown if all(f": {value}\n" in f"{text}\n" for value in details.values())]
            assert len(matching) == 1, details
    download = _dependency(reviewer, "audit-download.data")
    got = _call(reviewer, download, {"audit-download-button.n_clicks": 1}, "audit-download-button.n_clicks")
    data = got.get_json()["response"]["audit-download"]["data"]
    raw = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode("utf-8")
    details = {r["details"] for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    assert {text for _, text in stored} <= details  # the download keeps each event's JSON as stored
