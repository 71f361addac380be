"""The real dashboard (`dashboards.app.create_app`) under gunicorn: roles enforced on the server, by hand-made requests.

The dashboard keeps the warehouse open for as long as it runs (one writer per file), so one module-scoped
scenario drives every request first, then stops the server and reads what was stored and audited;
each test below asserts one claim on that record.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
import yaml
from security_fixtures import PASSWORD, Server, copy_template, running_server

pytest.importorskip("dashboards.app")

CSV_KTZ = "site_code,metric_code,period,value\nKTZ-AST,energy_gj,2025-01-01,100\nKTZ-AST,energy_gj,2025-01-02,101\n"
CSV_MIXED = "site_code,metric_code,period,value\nKMG-ANPZ,energy_gj,2025-01-01,200\nKTZ-AST,energy_gj,2025-01-03,102\n"
CSV_OWN = "site_code,metric_code,period,value\nKMG-PNHZ,energy_gj,2025-01-01,300\n"


@dataclass
class Record:
    """What the scenario saw over HTTP (responses by step) and, after the server stopped, in the warehouse."""

    responses: dict[str, requests.Response] = field(default_factory=dict)
    observations: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    subsidiaries: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    uploads: list[tuple[Any, ...]] = field(default_factory=list)
    browser_errors: list[str] | None = None  # None: no browser on this machine


class Client:
    """A signed-in browser, reduced to what Dash's renderer sends."""

    def __init__(self, server: Server, username: str | None):
        self.server = server
        self.session = requests.Session()
        self.callbacks: dict[str, dict[str, Any]] = {}
        if username is not None:
            page = self.session.get(f"{server.url}/login", timeout=10)
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            response = self.session.post(
                f"{server.url}/login",
                data={"csrf_token": token, "username": username, "password": PASSWORD},
                allow_redirects=False,
                timeout=10,
            )
            assert response.status_code == 303, response.text

    def load_callbacks(self, from_session: requests.Session | None = None) -> None:
        deps = (from_session or self.session).get(f"{self.server.url}/_dash-dependencies", timeout=10).json()
        for dep in deps:
            for i in dep["inputs"]:
                self.callbacks.setdefault(f"{i['id']}.{i['property']}", dep)

    def fire(self, trigger: str, value: Any, state: dict[str, Any] | None = None) -> requests.Response:
        """POST /_dash-update-component as the renderer does when `trigger` (id.property) changes."""
        dep = self.callbacks[trigger]
        output = dep["output"]
        specs = output.strip(".").split("...") if output.startswith("..") else [output]
        outputs = [{"id": s.rsplit(".", 1)[0], "property": s.rsplit(".", 1)[1]} for s in specs]
        state = state or {}
        inputs = [
            {
                "id": i["id"],
                "property": i["property"],
                "value": value if f"{i['id']}.{i['property']}" == trigger else None,
            }
            for i in dep["inputs"]
        ]
        states = [
            {"id": s["id"], "property": s["property"], "value": state.get(f"{s['id']}.{s['property']}")}
            for s in dep["state"]
        ]
        body = {
            "output": output,
            "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": inputs,
            "state": states,
            "changedPropIds": [trigger],
        }
        return self.session.post(f"{self.server.url}/_dash-update-component", json=body, timeout=60)


def _data_url(text: str, mime: str = "text/csv") -> str:
    return f"data:{mime};base64,{base64.b64encode(text.encode('utf-8')).decode('ascii')}"


def _preview(client: Client, csv_text: str, mode: str = "all_or_nothing", name: str = "m.csv") -> requests.Response:
    return client.fire(
        "upload-files.contents",
        [_data_url(csv_text)],
        {"upload-files.filename": [name], "upload-mode.value": mode, "upload-lang.data": "en"},
    )


def _token(response: requests.Response) -> Any:
    return response.json()["response"].get("upload-token", {}).get("data")


def _confirm(client: Client, token: Any, timeout: float = 60.0) -> requests.Response:
    """Confirm as the page does: the load runs as a job, polled until it ends; the answer showing its result
    (or the confirm's own answer when no job started: a refusal or an unknown token)."""
    response = client.fire("upload-confirm.n_clicks", 1, {"upload-token.data": token, "upload-lang.data": "en"})
    job = response.json()["response"].get("upload-job", {}).get("data") if response.status_code == 200 else None
    if not job:
        return response
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        n += 1
        poll = client.fire("upload-job-poll.n_intervals", n, {"upload-job.data": job, "upload-lang.data": "en"})
        done = poll.json()["response"].get("upload-job-done", {}).get("data") if poll.status_code == 200 else None
        if done:
            return client.fire("upload-job-done.data", done, {"upload-lang.data": "en"})
        time.sleep(0.1)
    raise AssertionError(f"the upload job did not end within {timeout:.0f} s")


def _registry_upload(client: Client, doc: dict[str, Any]) -> requests.Response:
    text = yaml.safe_dump(doc, allow_unicode=True)
    return client.fire(
        "admin-registry-upload.contents",
        _data_url(text, "application/x-yaml"),
        {"admin-registry-upload.filename": "registry.yaml", "admin-lang.data": "en"},
    )


def _xlsx_bomb(megabytes: int) -> bytes:
    """A valid workbook whose sheet XML is padded with `megabytes` MiB of spaces (deflates ~1000:1)."""
    import io
    import zipfile

    import polars as pl

    plain = io.BytesIO()
    pl.DataFrame(
        {"site_code": ["KMG-ANPZ"], "metric_code": ["energy_gj"], "period": ["2025-01-05"], "value": [1.0]}
    ).write_excel(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, sep, tail = data.partition(b"</sheetData>")
                with bomb.open(info.filename, "w", force_zip64=True) as member:
                    member.write(head)
                    for _ in range(megabytes):
                        member.write(b" " * (1 << 20))
                    member.write(sep + tail)
            else:
                bomb.writestr(info, data)
    return out.getvalue()


INJECTION = ('=HYPERLINK("http://evil.example","x")', "@SUM(A1)", "+1-1")


def _browser_errors(server: Server) -> list[str] | None:
    """Sign in with real Chromium and open every page: the console's errors (CSP violations among them)."""
    if not Path("/usr/bin/chromium").exists():
        return None
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        from headless_chromium import chromium_options
    except ImportError:
        return None
    driver = webdriver.Chrome(options=chromium_options(console_log=True))
    try:
        driver.get(server.url + "/upload")
        driver.find_element(By.ID, "username").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_elements(By.ID, "upload-files"))  # back on the page asked for, rendered
        for path, element in (("/admin", "admin-registry-upload"), ("/", "shell-sign-out")):
            driver.get(server.url + path)
            wait.until(lambda d, element=element: d.find_elements(By.ID, element))
        return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()


HACK = {"subsidiaries": [{"code": "HACK", "name": {"ru": "x", "kk": "x", "en": "x"}, "sector": "x"}]}
NEW_SITE = {
    "sites": [{"code": "KMG-NEW", "subsidiary": "KMG", "name": {"ru": "Н", "kk": "Ж", "en": "New"}, "region": "Atyrau"}]
}


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory, _template_warehouse: Path) -> Iterator[Record]:
    folder = tmp_path_factory.mktemp("dashboard")
    warehouse = copy_template(_template_warehouse, folder / "wh.duckdb")
    rec = Record()
    r = rec.responses
    with running_server("tests.security.real_app:make()", warehouse, folder, {}) as server:
        admin = Client(server, "admin")
        admin.load_callbacks()
        clients = {name: Client(server, name) for name in ("eng_kmg", "rev", "exec")}
        for client in clients.values():
            client.callbacks = admin.callbacks
        anonymous = Client(server, None)
        anonymous.callbacks = admin.callbacks

        r["anon_page"] = anonymous.session.get(
            f"{server.url}/upload", headers={"Accept": "text/html"}, allow_redirects=False, timeout=10
        )
        r["anon_layout"] = anonymous.session.get(f"{server.url}/_dash-layout", timeout=10)
        r["anon_preview"] = _preview(anonymous, CSV_OWN)
        r["anon_registry"] = _registry_upload(anonymous, HACK)

        eng = clients["eng_kmg"]
        r["eng_other_preview"] = _preview(eng, CSV_KTZ)
        r["eng_forged_confirm"] = _confirm(eng, "forged-token")
        r["eng_mixed_preview"] = _preview(eng, CSV_MIXED, mode="skip_invalid")
        r["eng_mixed_confirm"] = _confirm(eng, _token(r["eng_mixed_preview"]))
        r["eng_own_preview"] = _preview(eng, CSV_OWN)
        r["eng_own_confirm"] = _confirm(eng, _token(r["eng_own_preview"]))
        r["eng_registry"] = _registry_upload(eng, HACK)

        r["rev_preview"] = _preview(clients["rev"], CSV_OWN)
        r["rev_confirm"] = _confirm(clients["rev"], _token(r["eng_own_preview"]))
        r["exec_preview"] = _preview(clients["exec"], CSV_OWN)
        r["exec_registry"] = _registry_upload(clients["exec"], HACK)
        r["exec_report"] = clients["exec"].fire(
            "reports-button.n_clicks",
            1,
            {"reports-year.value": "2025", "reports-language.value": "en", "reports-format.value": "csv"},
        )
        r["admin_registry"] = _registry_upload(admin, NEW_SITE)
        r["eng_errors_csv"] = eng.fire(
            "upload-errors-download-button.n_clicks",
            1,
            {"upload-errors-store.data": [{"file_name": INJECTION[0], "message": INJECTION[1], "value": INJECTION[2]}]},
        )
        r["eng_bomb_preview"] = eng.fire(
            "upload-files.contents",
            [f"data:application/octet-stream;base64,{base64.b64encode(_xlsx_bomb(64)).decode('ascii')}"],
            {"upload-files.filename": ["bomb.xlsx"], "upload-mode.value": "all_or_nothing", "upload-lang.data": "en"},
        )
        rec.browser_errors = _browser_errors(server)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rec.observations = con.execute("SELECT site_code, value FROM observations ORDER BY site_code").fetchall()
        rec.audit = con.execute(
            "SELECT username, action, target, details, remote_addr FROM audit_log ORDER BY event_id"
        ).fetchall()
        rec.subsidiaries = [row[0] for row in con.execute("SELECT code FROM subsidiaries").fetchall()]
        rec.sites = [row[0] for row in con.execute("SELECT code FROM sites").fetchall()]
        rec.uploads = con.execute("SELECT * FROM uploads").fetchall()
    finally:
        con.close()
    yield rec


def _events(rec: Record, action: str, username: str | None = None) -> list[tuple[Any, ...]]:
    return [row for row in rec.audit if row[1] == action and (username is None or row[0] == username)]


def test_anonymous_is_refused_everywhere(record: Record) -> None:
    r = record.responses
    assert r["anon_page"].status_code == 302 and r["anon_page"].headers["Location"].startswith("/login")
    assert r["anon_layout"].status_code == 401
    assert r["anon_preview"].status_code == 401
    assert r["anon_registry"].status_code == 401


def test_engineer_cannot_upload_for_another_subsidiary_by_hand(record: Record) -> None:
    r = record.responses
    assert r["eng_other_preview"].status_code == 200
    assert _token(r["eng_other_preview"]) is None  # nothing loadable: no confirm token is issued
    assert "KTZ-AST" in r["eng_other_preview"].text  # the row is named in the problems
    assert r["eng_forged_confirm"].status_code == 200
    assert "KTZ-AST" not in [site for site, _v in record.observations]


def test_skip_invalid_stores_own_sites_only(record: Record) -> None:
    assert record.responses["eng_mixed_confirm"].status_code == 200
    stored = dict(record.observations)
    assert "KMG-ANPZ" in stored
    assert "KTZ-AST" not in stored


def test_engineer_uploads_own_sites_and_it_is_audited_with_the_user(record: Record) -> None:
    assert record.responses["eng_own_confirm"].status_code == 200
    assert ("KMG-PNHZ", 300.0) in record.observations
    uploads = _events(record, "upload", "eng_kmg")
    assert uploads, record.audit
    assert all(row[0] == "eng_kmg" for row in _events(record, "upload"))


@pytest.mark.parametrize("step", ["rev_preview", "rev_confirm", "exec_preview"])
def test_reviewer_and_executive_cannot_upload(record: Record, step: str) -> None:
    assert record.responses[step].status_code == 403


def test_denials_are_audited_with_the_user(record: Record) -> None:
    denied_users = {row[0] for row in _events(record, "access_denied")}
    assert {"rev", "exec", "eng_kmg"} <= denied_users
    assert all(row[4] == "127.0.0.1" for row in _events(record, "access_denied"))


def test_only_admin_changes_the_registry(record: Record) -> None:
    r = record.responses
    assert r["exec_registry"].status_code == 403
    assert r["eng_registry"].status_code == 403
    assert "HACK" not in record.subsidiaries
    assert r["admin_registry"].status_code == 200
    assert "KMG-NEW" in record.sites
    loads = _events(record, "registry_load")
    assert loads and loads[-1][0] == "admin"


def test_executive_cannot_export(record: Record) -> None:
    assert record.responses["exec_report"].status_code == 403


def test_every_sign_in_is_audited(record: Record) -> None:
    signed_in = {row[0] for row in _events(record, "sign_in")}
    assert signed_in == {"admin", "eng_kmg", "rev", "exec"}
    details = [json.loads(row[3]) for row in _events(record, "sign_in")]
    assert {d["role"] for d in details} == {"admin", "engineer", "reviewer", "executive"}


def test_error_report_download_is_formula_safe(record: Record) -> None:
    response = record.responses["eng_errors_csv"]
    assert response.status_code == 200
    payload = response.json()["response"]["upload-errors-download"]["data"]
    text = base64.b64decode(payload["content"]).decode("utf-8-sig") if payload.get("base64") else payload["content"]
    for value in INJECTION:
        assert f"'{value}" in text.replace('""', '"')


def test_real_dashboard_runs_under_the_csp_in_a_browser(record: Record) -> None:
    if record.browser_errors is None:
        pytest.skip("no Chromium/selenium on this machine")
    assert record.browser_errors == []


def test_xlsx_bomb_upload_is_refused_before_parsing(record: Record) -> None:
    response = record.responses["eng_bomb_preview"]
    assert response.status_code == 200
    assert "unpacks to too much data" in response.text
