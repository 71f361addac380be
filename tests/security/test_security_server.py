"""Against a real server: gunicorn in a subprocess serving a Dash app with `install_security`, driven by `requests`.

The app is tests/security/app_under_test.py (its callbacks follow the dashboard's contract: `require`
first, `check_upload_scope` before storing). Every claim is checked over HTTP, and what was stored
or audited is read back from the warehouse file after the request.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests
from security_fixtures import PASSWORD, Server, copy_template, running_server

from pilot_roi import auth
from pilot_roi.warehouse import connect

MAX_UPLOAD_MB = 1
IP_LIMIT = 14  # failures from 127.0.0.1 over the whole module: the earlier tests use 6, the per-user test 5
USER_LIMIT = 5  # above MAX_FAILURES + 1, so the lockout test meets the account lock first
MAX_FAILURES = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, _template_warehouse: Path) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    warehouse = copy_template(_template_warehouse, folder / "wh.duckdb")
    env = {
        "PILOT_ROI_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "PILOT_ROI_MAX_FAILED_SIGNINS": str(MAX_FAILURES),
        "PILOT_ROI_LOCKOUT_MINUTES": "10",
        "PILOT_ROI_SIGNIN_LIMIT_IP": str(IP_LIMIT),
        "PILOT_ROI_SIGNIN_LIMIT_USER": str(USER_LIMIT),
        "PILOT_ROI_SESSION_CHECK_SECONDS": "0",
    }
    with running_server("tests.security.app_under_test:make()", warehouse, folder, env) as running:
        yield running


def _query(server: Server, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
    """Read the warehouse between requests (the server opens it per request and closes it after)."""
    for _ in range(50):
        try:
            con = duckdb.connect(str(server.warehouse), read_only=True)
        except duckdb.IOException:
            time.sleep(0.1)
            continue
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()
    raise AssertionError("warehouse stayed locked")


def _audit(server: Server, action: str, username: str | None = None) -> list[tuple[object, ...]]:
    sql = "SELECT username, action, target, details, remote_addr FROM audit_log WHERE action = $action"
    params: dict[str, object] = {"action": action}
    if username is not None:
        sql += " AND username = $username"
        params["username"] = username
    return _query(server, sql + " ORDER BY event_id", params)


def _csrf(session: requests.Session, server: Server, lang: str = "en") -> str:
    page = session.get(f"{server.url}/login", params={"lang": lang}, timeout=5)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def _sign_in(server: Server, username: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    token = _csrf(session, server)
    response = session.post(
        f"{server.url}/login",
        data={"csrf_token": token, "username": username, "password": password, "next": "/"},
        allow_redirects=False,
        timeout=10,
    )
    return session, response


def _signed_in(server: Server, username: str) -> requests.Session:
    session, response = _sign_in(server, username)
    assert response.status_code == 303, response.text
    return session


def _callback_body(output: str, inputs: list[dict[str, object]], state: list[dict[str, object]] | None = None) -> dict:
    component, prop = output.split(".")
    return {
        "output": output,
        "outputs": {"id": component, "property": prop},
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": state or [],
    }


def _who_body() -> dict:
    return _callback_body("who-out.children", [{"id": "who-in", "property": "value", "value": "hello"}])


def _upload_body(csv_text: str, filename: str = "metrics.csv") -> dict:
    encoded = base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
    return _callback_body(
        "upload-out.children",
        [{"id": "upload", "property": "contents", "value": f"data:text/csv;base64,{encoded}"}],
        [{"id": "upload", "property": "filename", "value": filename}],
    )


def _stored(server: Server) -> list[tuple[object, ...]]:
    tables = _query(server, "SELECT table_name FROM information_schema.tables WHERE table_name = 'test_uploads'")
    return _query(server, "SELECT site, who FROM test_uploads ORDER BY site") if tables else []


# ---------------------------------------------------------------------------------------------- anonymous


@pytest.mark.parametrize("path", ["/", "/pilots", "/audit?x=1"])
def test_anonymous_page_requests_go_to_sign_in(server: Server, path: str) -> None:
    response = requests.get(server.url + path, headers={"Accept": "text/html"}, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "_dash-config" not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("GET", "/download/report.csv"),
        ("GET", "/_dash-component-suites/dash/dcc/dash_core_components.js"),
        ("GET", "/"),  # a script asking for JSON gets 401, not a redirect
    ],
)
def test_anonymous_data_requests_get_401(server: Server, method: str, path: str) -> None:
    response = requests.request(method, server.url + path, allow_redirects=False, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_anonymous_callback_is_refused_and_not_run(server: Server) -> None:
    response = requests.post(f"{server.url}/_dash-update-component", json=_who_body(), timeout=5)
    assert response.status_code == 401
    assert "hello" not in response.text
    upload = requests.post(
        f"{server.url}/_dash-update-component", json=_upload_body("site,value\nKMG-ANPZ,1\n"), timeout=5
    )
    assert upload.status_code == 401
    assert _stored(server) == []


# ---------------------------------------------------------------------------------------------- sign-in


@pytest.mark.parametrize(("lang", "word"), [("ru", "Войти"), ("kk", "Кіру"), ("en", "Sign in")])
def test_sign_in_page_in_three_languages(server: Server, lang: str, word: str) -> None:
    page = requests.get(f"{server.url}/login", params={"lang": lang}, timeout=5)
    assert page.status_code == 200
    assert word in page.text
    assert f'lang="{lang}"' in page.text
    assert 'name="csrf_token"' in page.text


def test_sign_in_without_csrf_token_is_refused(server: Server) -> None:
    session = requests.Session()
    response = session.post(
        f"{server.url}/login", data={"username": "exec", "password": PASSWORD}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 400
    assert session.get(f"{server.url}/_dash-layout", timeout=5).status_code == 401


def test_sign_in_runs_callbacks_as_that_user_and_is_audited(server: Server) -> None:
    session = _signed_in(server, "exec")
    assert session.get(server.url + "/", headers={"Accept": "text/html"}, timeout=5).status_code == 200
    assert session.get(f"{server.url}/_dash-layout", timeout=5).status_code == 200
    response = session.post(f"{server.url}/_dash-update-component", json=_who_body(), timeout=5)
    assert response.status_code == 200
    assert "exec:executive:hello" in response.text
    rows = _audit(server, "sign_in", "exec")
    assert rows and rows[-1][4] == "127.0.0.1"


def test_session_cookie_flags(server: Server) -> None:
    _session, response = _sign_in(server, "exec")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development server over http; production sets it (test_security_config)


def test_security_headers(server: Server) -> None:
    session = _signed_in(server, "exec")
    for response in (
        session.get(server.url + "/", headers={"Accept": "text/html"}, timeout=5),
        requests.get(f"{server.url}/login", timeout=5),
    ):
        csp = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["frame-ancestors"] == "'none'"
        assert "'unsafe-inline'" not in directives["script-src"]
        assert "'unsafe-eval'" not in directives["script-src"]
        assert directives["object-src"] == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    dash_page = session.get(server.url + "/", headers={"Accept": "text/html"}, timeout=5)
    # Dash's inline renderer script is allowed by its hash, and only by it
    assert "'sha256-" in dash_page.headers["Content-Security-Policy"]


def test_open_redirect_after_sign_in_is_refused(server: Server) -> None:
    session = requests.Session()
    token = _csrf(session, server)
    response = session.post(
        f"{server.url}/login",
        data={"csrf_token": token, "username": "exec", "password": PASSWORD, "next": "//evil.example/x"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_cross_origin_post_is_refused(server: Server) -> None:
    session = _signed_in(server, "exec")
    response = session.post(
        f"{server.url}/_dash-update-component",
        json=_who_body(),
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert response.status_code == 403
    form_post = session.post(f"{server.url}/_dash-update-component", data={"x": "1"}, timeout=5)
    assert form_post.status_code == 415


def test_sign_out_ends_the_session(server: Server) -> None:
    session = _signed_in(server, "rev")
    assert session.post(f"{server.url}/_dash-update-component", json=_who_body(), timeout=5).status_code == 200
    out = session.get(f"{server.url}/logout", allow_redirects=False, timeout=5)
    assert out.status_code == 303
    assert session.post(f"{server.url}/_dash-update-component", json=_who_body(), timeout=5).status_code == 401
    assert _audit(server, "sign_out", "rev")


def test_a_stolen_cookie_dies_with_a_password_reset_and_a_disabled_account(server: Server) -> None:
    con = connect(server.warehouse)
    try:
        auth.add_user(con, "temp", PASSWORD, "executive", actor="admin")
    finally:
        con.close()
    session = _signed_in(server, "temp")
    stolen = dict(session.cookies)
    assert requests.get(f"{server.url}/_dash-layout", cookies=stolen, timeout=5).status_code == 200
    con = connect(server.warehouse)
    try:
        auth.reset_password(con, "temp", "Another-Pass-77", actor="admin")
    finally:
        con.close()
    assert requests.get(f"{server.url}/_dash-layout", cookies=stolen, timeout=5).status_code == 401
    _s, response = _sign_in(server, "temp")  # the old password no longer works
    assert response.status_code == 401
    fresh, response = _sign_in(server, "temp", "Another-Pass-77")
    assert response.status_code == 303
    con = connect(server.warehouse)
    try:
        auth.disable_user(con, "temp", actor="admin")
    finally:
        con.close()
    assert fresh.get(f"{server.url}/_dash-layout", timeout=5).status_code == 401
    _s, response = _sign_in(server, "temp", "Another-Pass-77")
    assert response.status_code == 401
    assert [r[0] for r in _audit(server, "password_reset")] == ["admin"]
    assert [r[2] for r in _audit(server, "user_disabled")] == ["temp"]


def test_lockout_after_repeated_failures(server: Server) -> None:
    con = connect(server.warehouse)
    try:
        auth.add_user(con, "locky", PASSWORD, "executive", actor="admin")
    finally:
        con.close()
    statuses = [_sign_in(server, "locky", "wrong-password")[1].status_code for _ in range(MAX_FAILURES)]
    assert statuses == [401] * (MAX_FAILURES - 1) + [423]
    _s, right = _sign_in(server, "locky")  # the right password is refused while locked
    assert right.status_code == 423
    assert "locked" in right.text
    rows = _audit(server, "sign_in_failed", "locky")
    reasons = [json.loads(str(r[3]))["reason"] for r in rows]
    assert reasons == ["bad_password"] * MAX_FAILURES + ["locked"]
    assert all(r[4] == "127.0.0.1" for r in rows)
    (locked_until,) = _query(server, "SELECT locked_until FROM users WHERE username = 'locky'")[0]
    assert locked_until is not None


# ---------------------------------------------------------------------------------------------- limits


def _raw_request(server: Server, head: str, body: bytes = b"") -> str:
    """Send a request by hand (headers may promise more body than is sent); the status line.

    The socket times out (an exception) if the server waits for a body that never comes: that is the proof
    the refusal happens before the body is read, without a wall-clock assertion.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def test_oversized_upload_is_refused_before_its_body_is_read(server: Server) -> None:
    session = _signed_in(server, "eng_kmg")
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    promised = 500 * 1_048_576  # 500 MB promised, nothing sent: refused at once
    head = (
        "POST /_dash-update-component HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {promised}\r\n\r\n"
    )
    assert " 413 " in _raw_request(server, head)
    # a real body over the limit, sent whole by an ordinary client
    big = _upload_body("site,value\n" + "KMG-ANPZ,1\n" * (MAX_UPLOAD_MB * 200_000))
    response = session.post(f"{server.url}/_dash-update-component", json=big, timeout=30)
    assert response.status_code == 413
    assert _stored(server) == []


# ---------------------------------------------------------------------------------------------- roles


def test_engineer_cannot_upload_for_another_subsidiary_even_by_hand(server: Server) -> None:
    session = _signed_in(server, "eng_kmg")
    response = session.post(
        f"{server.url}/_dash-update-component",
        json=_upload_body("site_code,value\nKMG-ANPZ,1\nKTZ-AST,2\n", "../../etc/passwd.csv"),
        timeout=10,
    )
    assert response.status_code == 403
    assert "KTZ" in response.text
    assert _stored(server) == []
    denied = _audit(server, "access_denied", "eng_kmg")
    assert denied and denied[-1][2] == "/_dash-update-component"


def test_engineer_uploads_for_own_subsidiary_and_it_is_audited(server: Server) -> None:
    session = _signed_in(server, "eng_ktz")
    response = session.post(
        f"{server.url}/_dash-update-component",
        json=_upload_body("site_code,value\nKTZ-AST,5\n", "C:\\Users\\x\\ktz.csv"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert ("KTZ-AST", "eng_ktz") in _stored(server)
    uploads = _audit(server, "upload", "eng_ktz")
    assert uploads and uploads[-1][2] == "ktz.csv" and uploads[-1][4] == "127.0.0.1"


@pytest.mark.parametrize("username", ["rev", "exec"])
def test_reviewer_and_executive_cannot_upload(server: Server, username: str) -> None:
    before = _stored(server)
    session = _signed_in(server, username)
    response = session.post(
        f"{server.url}/_dash-update-component", json=_upload_body("site_code,value\nKMG-ANPZ,1\n"), timeout=10
    )
    assert response.status_code == 403
    assert _stored(server) == before
    assert _audit(server, "access_denied", username)


def test_executive_cannot_read_the_audit_log_or_export(server: Server) -> None:
    session = _signed_in(server, "exec")
    body = _callback_body("audit-out.children", [{"id": "audit-btn", "property": "n_clicks", "value": 1}])
    response = session.post(f"{server.url}/_dash-update-component", json=body, timeout=5)
    assert response.status_code == 403
    assert "audit rows" not in response.text
    download = session.get(f"{server.url}/download/report.csv", timeout=5)
    assert download.status_code == 403
    reviewer = _signed_in(server, "rev")
    assert "audit rows" in reviewer.post(f"{server.url}/_dash-update-component", json=body, timeout=5).text


def test_reviewer_export_is_inert_and_audited(server: Server) -> None:
    session = _signed_in(server, "rev")
    response = session.get(f"{server.url}/download/report.csv", timeout=5)
    assert response.status_code == 200
    assert response.text.splitlines()[1] == "'=1+1"
    assert _audit(server, "export", "rev")


# ---------------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_browser_signs_in_and_dash_runs_under_the_csp(server: Server) -> None:
    """Real Chromium: redirected to sign-in, signs in, Dash and Plotly render; the console shows no CSP violation."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("chromium is not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from headless_chromium import chromium_options

    driver = webdriver.Chrome(options=chromium_options(console_log=True))
    try:
        driver.get(server.url + "/")
        assert "/login" in driver.current_url
        driver.find_element(By.ID, "username").send_keys("exec")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg"))
        wait.until(lambda d: "exec:executive" in d.find_element(By.ID, "who-out").text)
        problems = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert problems == []
    finally:
        driver.quit()


# ---------------------------------------------------------------------------------------------- rate limits (last)


def test_per_user_then_per_address_rate_limits(server: Server) -> None:
    statuses = [_sign_in(server, "ghost", "nope-nope-1")[1].status_code for _ in range(USER_LIMIT + 1)]
    assert statuses[:USER_LIMIT] == [401] * USER_LIMIT
    assert statuses[USER_LIMIT] == 429
    seen = []
    for i in range(IP_LIMIT):
        status = _sign_in(server, f"sprayed{i}", "nope-nope-1")[1].status_code
        seen.append(status)
        if status == 429:
            break
    assert seen[-1] == 429
    # once the address is limited even a right password waits
    _s, response = _sign_in(server, "admin")
    assert response.status_code == 429
