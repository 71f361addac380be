"""`pilot-roi users ...` end to end through the real CLI, and install_security's start-up refusals."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import duckdb
import flask
import pytest
from dashboards.security import install_security

from pilot_roi import auth
from pilot_roi.cli import main
from pilot_roi.errors import PilotRoiError
from pilot_roi.warehouse import connect


def _run(
    argv: list[str], warehouse: Path, capsys: pytest.CaptureFixture[str], stdin: str | None = None
) -> tuple[int, str, str]:
    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(["--warehouse", str(warehouse), *argv])
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return code, out, err


def _audit(warehouse: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT username, action, target FROM audit_log ORDER BY event_id").fetchall()
    finally:
        con.close()


def test_users_add_with_password_on_stdin(sec_warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        ["--lang", "en", "users", "add", "Aigerim", "--role", "engineer", "--subsidiary", "KTZ", "--password-stdin"],
        sec_warehouse,
        capsys,
        stdin="my-long-password\n",
    )
    assert code == 0
    assert "aigerim" in out and "my-long-password" not in out
    con = connect(sec_warehouse)
    try:
        user = auth.authenticate(con, "aigerim", "my-long-password")
    finally:
        con.close()
    assert (user.role, user.subsidiary_code) == ("engineer", "KTZ")
    assert ("cli", "user_added", "aigerim") in _audit(sec_warehouse)


def test_users_add_without_terminal_generates_and_prints_once(
    sec_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["--lang", "en", "users", "add", "boss", "--role", "executive"], sec_warehouse, capsys, "")
    assert code == 0
    password = out.strip().splitlines()[-1].rsplit(": ", 1)[1]
    assert len(password) >= 16
    con = connect(sec_warehouse)
    try:
        assert auth.authenticate(con, "boss", password).role == "executive"
    finally:
        con.close()


@pytest.mark.parametrize(
    ("argv", "stdin", "words"),
    [
        (["users", "add", "x", "--role", "engineer", "--password-stdin"], "long-password-1\n", "subsidiary"),
        (["users", "add", "x", "--role", "reviewer", "--password-stdin"], "short\n", "too short"),
        (["users", "add", "exec", "--role", "reviewer", "--password-stdin"], "long-password-1\n", "already exists"),
        (["users", "disable", "nobody"], None, "not found"),
        (["users", "reset", "nobody", "--password-stdin"], "long-password-1\n", "not found"),
    ],
)
def test_users_refusals_exit_1_with_a_message(
    sec_warehouse: Path, capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str | None, words: str
) -> None:
    before = _audit(sec_warehouse)
    code, _out, err = _run(["--lang", "en", *argv], sec_warehouse, capsys, stdin)
    assert code == 1
    assert words in err
    assert "Traceback" not in err
    assert _audit(sec_warehouse) == before


def test_users_bad_role_is_a_usage_error(sec_warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["users", "add", "x", "--role", "superuser"], sec_warehouse, capsys)
    assert code == 2 and "superuser" in err


def test_users_disable_reset_list(sec_warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--lang", "ru", "users", "disable", "rev"], sec_warehouse, capsys)[1].startswith("Пользователь rev")
    code, out, _ = _run(
        ["--lang", "kk", "users", "reset", "exec", "--password-stdin"], sec_warehouse, capsys, "new-pass-123\n"
    )
    assert code == 0 and "exec" in out
    code, out, _ = _run(["users", "list", "--format", "json"], sec_warehouse, capsys)
    listed = {row["username"]: row for row in json.loads(out)}
    assert listed["rev"]["disabled"] is True
    assert listed["eng_kmg"]["subsidiary_code"] == "KMG"
    assert all("password" not in key for row in listed.values() for key in row)
    code, out, _ = _run(["--lang", "en", "users", "list"], sec_warehouse, capsys)
    assert "rev\treviewer\t-\ten\tdisabled" in out
    actions = [(a, t) for _u, a, t in _audit(sec_warehouse)]
    assert ("user_disabled", "rev") in actions and ("password_reset", "exec") in actions


# ---------------------------------------------------------------------------------------------- start-up


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILOT_ROI_SECRET_KEY", raising=False)
    with pytest.raises(PilotRoiError) as info:
        install_security(flask.Flask("t"), warehouse=tmp_path / "w.duckdb", secret_key=None, production=True)
    assert "PILOT_ROI_SECRET_KEY" in str(info.value)
    with pytest.raises(PilotRoiError):
        install_security(flask.Flask("t"), warehouse=tmp_path / "w.duckdb", secret_key="short", production=True)


def test_production_takes_the_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOT_ROI_SECRET_KEY", "k" * 40)
    server = flask.Flask("t")
    install_security(server, warehouse=tmp_path / "w.duckdb", secret_key=None, production=True)
    assert server.config["SECRET_KEY"] == "k" * 40
    assert server.config["SESSION_COOKIE_SECURE"] is True
    assert server.config["SESSION_COOKIE_HTTPONLY"] is True
    assert server.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert server.config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_development_generates_a_key_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PILOT_ROI_SECRET_KEY", raising=False)
    servers = [flask.Flask("a"), flask.Flask("b")]
    with caplog.at_level(logging.WARNING, logger="pilot_roi.security"):
        for server in servers:
            install_security(server, warehouse=tmp_path / "w.duckdb", secret_key=None, production=False)
    keys = [s.config["SECRET_KEY"] for s in servers]
    assert keys[0] != keys[1] and all(len(k) >= 32 for k in keys)
    assert "PILOT_ROI_SECRET_KEY" in caplog.text
    assert servers[0].config["SESSION_COOKIE_SECURE"] is False
