"""The audit-log page of the real dashboard under gunicorn: reviewers and admins read it, executives and engineers
are refused on the server (callbacks posted by hand: 403, no event in the answer; the page itself only says it is
not theirs), and the log holds sign-ins,
uploads, estimate runs and exports with the right users.

As in test_security_dashboard.py, one module-scoped scenario drives every request, then each test asserts one claim.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from security_fixtures import copy_template, running_server
from test_security_dashboard import CSV_OWN, Client, _confirm, _preview, _token

from pilot_roi.i18n import t
from pilot_roi.runner.store import store_run
from pilot_roi.warehouse import connect

pytest.importorskip("dashboards.app")

TABLE = "audit-filter-user.value"  # any filter input fires the table callback
DOWNLOAD = "audit-download-button.n_clicks"


@dataclass
class Record:
    """Responses by step, and the audit log as stored once the server stopped."""

    responses: dict[str, requests.Response] = field(default_factory=dict)
    audit: list[tuple[Any, ...]] = field(default_factory=list)


def _rows(response: requests.Response) -> list[dict[str, Any]]:
    """The events of the audit table in a callback answer."""
    children = response.json()["response"]["audit-table"]["children"]
    return list(children["props"]["data"]) if children.get("type") == "DataTable" else []


def _show(client: Client, user: str | None = None, action: str | None = None) -> requests.Response:
    """POST the table callback as the renderer does when the user filter changes, with every input's value."""
    dep = client.callbacks[TABLE]
    values = {TABLE: user, "audit-filter-action.value": action, "audit-lang.data": "en"}
    outputs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["inputs"]],
        "state": [{**st, "value": values.get(f"{st['id']}.{st['property']}")} for st in dep["state"]],
        "changedPropIds": [TABLE],
    }
    return client.session.post(f"{client.server.url}/_dash-update-component", json=body, timeout=60)


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory, _template_warehouse: Path) -> Iterator[Record]:
    folder = tmp_path_factory.mktemp("audit_page")
    warehouse = copy_template(_template_warehouse, folder / "wh.duckdb")
    con = connect(warehouse)
    try:  # an estimate run, stored exactly as the runner stores it (its store transaction writes the event)
        now = datetime.now(UTC).replace(tzinfo=None)
        store_run(con, started_at=now, finished_at=now, data_version="d", code_version="c", parameters={},
                  started_by="admin", rows=[], estimates=[], reused_from=None)  # fmt: skip
    finally:
        con.close()
    rec = Record()
    r = rec.responses
    with running_server("tests.security.real_app:make()", warehouse, folder, {}) as server:
        admin = Client(server, "admin")
        admin.load_callbacks()
        clients = {name: Client(server, name) for name in ("eng_kmg", "rev", "exec")}
        for client in clients.values():
            client.callbacks = admin.callbacks
        eng, rev, exe = clients["eng_kmg"], clients["rev"], clients["exec"]

        r["eng_upload"] = _confirm(eng, _token(_preview(eng, CSV_OWN)))
        r["rev_download"] = rev.fire(DOWNLOAD, 1, {})
        r["rev_table"] = _show(rev)
        r["admin_table"] = _show(admin)
        r["admin_eng_only"] = _show(admin, "eng_kmg")
        r["admin_exports"] = _show(admin, None, "export")
        for name, client in (("exec", exe), ("eng", eng)):
            r[f"{name}_table"] = _show(client)
            r[f"{name}_download"] = client.fire(DOWNLOAD, 1, {})
            r[f"{name}_page"] = client.fire(
                "_pages_location.pathname", "/audit", {"_pages_location.search": "", "shell-lang-store.data": "en"}
            )
        r["rev_page"] = rev.fire(
            "_pages_location.pathname", "/audit", {"_pages_location.search": "", "shell-lang-store.data": "en"}
        )
    ro = duckdb.connect(str(warehouse), read_only=True)
    try:
        rec.audit = ro.execute("SELECT username, action, target, details FROM audit_log ORDER BY event_id").fetchall()
    finally:
        ro.close()
    yield rec


@pytest.mark.parametrize("step", ["rev_table", "admin_table"])
def test_reviewer_and_admin_see_the_events_with_their_users(record: Record, step: str) -> None:
    response = record.responses[step]
    assert response.status_code == 200
    rows = _rows(response)
    seen = {(row["username"], row["action"]) for row in rows}  # the actions in the reader's words (en here)
    signed_in = _words("sign_in")
    assert {("admin", signed_in), ("rev", signed_in), ("eng_kmg", signed_in), ("exec", signed_in)} <= seen
    assert ("eng_kmg", _words("upload")) in seen
    assert ("admin", _words("estimate_run")) in seen
    assert ("rev", _words("export")) in seen  # the reviewer's CSV download of the log, fired before the table
    times = [row["occurred_at"] for row in rows]
    assert times == sorted(times, reverse=True)  # newest first
    assert f"{len(rows)} events; page 1 of 1" in response.json()["response"]["audit-count"]["children"]


def _words(action: str) -> str:
    return t(f"dash.audit.action.{action}", "en")


def test_filters_narrow_the_log(record: Record) -> None:
    only_eng = _rows(record.responses["admin_eng_only"])
    assert only_eng and {row["username"] for row in only_eng} == {"eng_kmg"}
    exports = _rows(record.responses["admin_exports"])
    assert exports and {row["action"] for row in exports} == {_words("export")}
    assert {row["target"] for row in exports} == {"audit_log"}


def test_the_csv_download_is_the_log_and_is_audited(record: Record) -> None:
    response = record.responses["rev_download"]
    assert response.status_code == 200
    payload = response.json()["response"]["audit-download"]["data"]
    raw = base64.b64decode(payload["content"]) if payload.get("base64") else payload["content"].encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {"sign_in", "upload", "estimate_run"} <= {row["action"] for row in rows}
    exports = [row for row in record.audit if row[1] == "export" and row[2] == "audit_log"]
    assert [row[0] for row in exports] == ["rev"]


@pytest.mark.parametrize("who", ["exec", "eng"])
@pytest.mark.parametrize("what", ["table", "download"])
def test_executive_and_engineer_are_refused_on_the_server(record: Record, who: str, what: str) -> None:
    response = record.responses[f"{who}_{what}"]
    assert response.status_code == 403
    body = response.text
    assert "sign_in" not in body and "estimate_run" not in body and "audit-table" not in body


@pytest.mark.parametrize("who", ["exec", "eng"])
def test_executive_and_engineer_get_a_page_that_says_it_is_not_theirs_and_holds_no_event(
    record: Record, who: str
) -> None:
    # as the admin page does for other roles: the page's own callback answers with its title and why it is empty
    # (before: a 403 left a blank page and a script error); the events stay behind the refused callbacks above
    response = record.responses[f"{who}_page"]
    assert response.status_code == 200
    body = response.text
    assert t("dash.audit.not_allowed", "en") in body
    assert "sign_in" not in body and "estimate_run" not in body and "audit-table" not in body
    assert "audit-filter-user" not in body and "audit-download" not in body


def test_refusals_are_audited_and_no_export_is_recorded_for_them(record: Record) -> None:
    refused = [(row[0], json.loads(row[3])) for row in record.audit if row[1] == "access_denied"]
    assert {user for user, details in refused if details.get("permission") == "audit"} == {"exec", "eng_kmg"}
    assert not [row for row in record.audit if row[1] == "export" and row[0] in ("exec", "eng_kmg")]


def test_the_reviewer_opens_the_page(record: Record) -> None:
    response = record.responses["rev_page"]
    assert response.status_code == 200
    assert "audit-filter-user" in response.text
