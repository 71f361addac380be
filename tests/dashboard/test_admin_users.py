"""User management on the Admin page, over HTTP with Flask's test client against the real app and the demo
warehouse: an admin adds, disables and resets users through `pilot_roi.auth` (one-time passwords shown once,
each change audited with the admin's name); executives and reviewers posting the callback by hand get 403
and nothing changes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import ADMIN, ENGINEER, EXECUTIVE, REVIEWER, sign_in
from dashboard_helpers import dash_app as _app
from dashboard_helpers import dependency as _dependency
from dashboard_helpers import post_callback as _call

from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

pytestmark = pytest.mark.slow

USERS_OUTPUT = "admin-user-result.children"


def _add(client: Any, dep: dict, name: str, role: str, subsidiary: str | None, language: str = "en") -> Any:
    values = {
        "admin-user-add.n_clicks": 1,
        "admin-user-name.value": name,
        "admin-user-role.value": role,
        "admin-user-subsidiary.value": subsidiary or "",
        "admin-user-language.value": language,
        "admin-lang.data": "en",
    }
    return _call(client, dep, values, "admin-user-add.n_clicks")


def _on(client: Any, dep: dict, button: str, target: str) -> Any:
    values = {f"admin-user-{button}.n_clicks": 1, "admin-user-target.value": target, "admin-lang.data": "en"}
    return _call(client, dep, values, f"admin-user-{button}.n_clicks")


def _one_time_password(response: Any) -> str:
    """The password in the component of class `one-time-password` of the callback's answer."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and "one-time-password" in str(props.get("className", "")):
                found.append(str(props["children"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json())
    assert len(found) == 1, found
    return found[0]


def _signs_in(app: Any, username: str, password: str) -> bool:
    """True if the real sign-in form accepts `username` and `password` (a fresh client each time)."""
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"}
    )
    return response.status_code in (302, 303) and "/login" not in response.headers.get("Location", "")


def _users(path: Path) -> list[tuple]:
    con = connect(path)
    try:
        return con.execute(
            "SELECT username, role, subsidiary_code, language, disabled, password_hash FROM users ORDER BY username"
        ).fetchall()
    finally:
        con.close()


def _user_audit(path: Path) -> list[tuple]:
    con = connect(path)
    try:
        return con.execute(
            "SELECT username, action, target FROM audit_log "
            "WHERE action IN ('user_added', 'user_disabled', 'password_reset') ORDER BY event_id"
        ).fetchall()
    finally:
        con.close()


def test_admin_adds_disables_and_resets_a_user(demo_warehouse: Path) -> None:
    app = _app(demo_warehouse)
    admin = sign_in(app.server.test_client(), *ADMIN)
    dep = _dependency(admin, USERS_OUTPUT)
    before = _user_audit(demo_warehouse)

    added = _add(admin, dep, "New.Engineer", "engineer", "KMG", language="kk")
    first = _one_time_password(added)
    assert len(first) >= 16
    payload = json.dumps(added.get_json(), ensure_ascii=False)
    assert "new.engineer" in payload  # the refreshed users table and the user choice list name them
    row = next(r for r in _users(demo_warehouse) if r[0] == "new.engineer")
    assert row[1:5] == ("engineer", "KMG", "kk", False)
    assert first not in row[5]  # stored hashed only
    assert _signs_in(app, "new.engineer", first)

    disabled = _on(admin, dep, "disable", "new.engineer")
    assert disabled.status_code == 200
    assert t("dash.admin.users.disabled", "en", name="new.engineer") in disabled.get_data(as_text=True)
    assert not _signs_in(app, "new.engineer", first)

    reset = _on(admin, dep, "reset", ENGINEER[0])
    second = _one_time_password(reset)
    assert not _signs_in(app, *ENGINEER)
    assert _signs_in(app, ENGINEER[0], second)

    assert _user_audit(demo_warehouse)[len(before) :] == [
        (ADMIN[0], "user_added", "new.engineer"),
        (ADMIN[0], "user_disabled", "new.engineer"),
        (ADMIN[0], "password_reset", ENGINEER[0]),
    ]

    # Refusals are translated messages, never tracebacks, and change nothing.
    snapshot = _users(demo_warehouse)
    for response, message in (
        (_on(admin, dep, "disable", ADMIN[0]), t("dash.admin.users.cannot_disable_self", "en")),
        (_add(admin, dep, "lone.engineer", "engineer", None), t("auth.engineer_needs_subsidiary", "en")),
        (_add(admin, dep, "odd.one", "engineer", "NOPE"), t("auth.unknown_subsidiary", "en", code="NOPE")),
        (_add(admin, dep, "demo.executive", "executive", None), t("auth.user_exists", "en", name="demo.executive")),
        (_on(admin, dep, "reset", "ghost"), t("auth.unknown_user", "en", name="ghost")),
    ):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        shown = json.dumps(json.loads(text)["response"]["admin-user-result"]["children"], ensure_ascii=False)
        assert message in shown
        assert "Traceback" not in text
    assert _users(demo_warehouse) == snapshot
    assert _signs_in(app, *ADMIN)


@pytest.mark.parametrize("who", [EXECUTIVE, REVIEWER], ids=["executive", "reviewer"])
def test_non_admins_posting_user_changes_by_hand_get_403(demo_warehouse: Path, who: tuple[str, str]) -> None:
    app = _app(demo_warehouse)
    client = sign_in(app.server.test_client(), *who)
    dep = _dependency(client, USERS_OUTPUT)
    users_before = _users(demo_warehouse)
    audit_before = _user_audit(demo_warehouse)
    assert _add(client, dep, "intruder", "admin", None).status_code == 403
    assert _on(client, dep, "disable", ADMIN[0]).status_code == 403
    assert _on(client, dep, "reset", ADMIN[0]).status_code == 403
    assert _users(demo_warehouse) == users_before
    assert _user_audit(demo_warehouse) == audit_before
    assert _signs_in(app, *ADMIN)


def _find(node: Any, component_id: str) -> dict | None:
    """The component with `component_id` in a Dash layout as JSON."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        children = node.get("props", {}).get("children") if "props" in node else None
        for child in [children] if children is not None else [v for v in node.values() if isinstance(v, dict | list)]:
            found = _find(child, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _find(item, component_id)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_new_users_subsidiary_choice_reads_none_not_blank(demo_warehouse: Path, lang: str) -> None:
    # dbc.Select shows its placeholder for the value "": without one the "no subsidiary" choice rendered blank
    client = sign_in(_app(demo_warehouse).server.test_client(), *ADMIN)
    route = _dependency(client, "_pages_content.children")
    values = {"_pages_location.pathname": "/admin", "_pages_location.search": "", "shell-lang-store.data": lang}
    page = json.loads(_call(client, route, values).get_data(as_text=True))
    select = _find(page, "admin-user-subsidiary")
    assert select is not None
    assert select["props"]["value"] == ""
    assert select["props"]["placeholder"] == t("dash.admin.users.no_subsidiary", lang)
