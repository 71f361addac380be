"""Accounts, password hashes, lockout and the permission matrix, on a real warehouse file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from security_fixtures import PASSWORD

from pilot_roi import auth
from pilot_roi.auth import User
from pilot_roi.errors import InvalidInput, PermissionDenied
from pilot_roi.warehouse import connect


@pytest.fixture
def wh(sec_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(sec_warehouse)
    yield con
    con.close()


def _audit(con: duckdb.DuckDBPyConnection, action: str) -> list[tuple]:
    return con.execute(
        "SELECT username, target, details, remote_addr FROM audit_log WHERE action = ? ORDER BY event_id", [action]
    ).fetchall()


# ---------------------------------------------------------------------------------------------- hashing


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = auth.hash_password("s3cret-pass"), auth.hash_password("s3cret-pass")
    assert first.startswith("$argon2id$")
    assert first != second  # a random salt each time
    assert auth.verify_password(first, "s3cret-pass")
    assert not auth.verify_password(first, "s3cret-pasS")
    assert not auth.verify_password("not a hash", "s3cret-pass")


def test_stored_hash_is_not_the_password(wh: duckdb.DuckDBPyConnection) -> None:
    (stored,) = wh.execute("SELECT password_hash FROM users WHERE username = 'exec'").fetchone()
    assert PASSWORD not in stored
    assert stored.startswith("$argon2id$")


# ---------------------------------------------------------------------------------------------- permissions

MATRIX = {
    #            read  upload export audit  admin
    "executive": (True, False, False, False, False),
    "engineer": (True, True, False, False, False),
    "reviewer": (True, False, True, True, False),
    "admin": (True, True, True, True, True),
}


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("permission", auth.PERMISSIONS)
def test_permission_matrix(role: str, permission: str) -> None:
    user = User("u", role, "KMG" if role == "engineer" else None)  # type: ignore[arg-type]
    expected = MATRIX[role][auth.PERMISSIONS.index(permission)]
    assert auth.can(user, permission) is expected
    if expected:
        assert auth.check(user, permission) is user
    else:
        with pytest.raises(PermissionDenied):
            auth.check(user, permission)


def test_anonymous_and_unknown_permissions_are_refused() -> None:
    assert not auth.can(None, "read")
    assert not auth.can(User("a", "admin"), "launch_missiles")
    with pytest.raises(PermissionDenied):
        auth.check(None, "read")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (User("a", "admin"), None),
        (User("e", "engineer", "KMG"), frozenset({"KMG"})),
        (User("e", "engineer", None), frozenset()),
        (User("x", "executive", "KMG"), frozenset()),
        (User("r", "reviewer"), frozenset()),
        (None, frozenset()),
    ],
)
def test_upload_subsidiaries(user: User | None, expected: frozenset[str] | None) -> None:
    assert auth.upload_subsidiaries(user) == expected


def test_upload_scope() -> None:
    engineer = User("e", "engineer", "KMG")
    auth.check_upload_scope(engineer, {"KMG"})
    with pytest.raises(PermissionDenied) as info:
        auth.check_upload_scope(engineer, {"KMG", "KTZ"})
    assert "KTZ" in str(info.value)
    auth.check_upload_scope(User("a", "admin"), {"KMG", "KTZ"})
    with pytest.raises(PermissionDenied):
        auth.check_upload_scope(User("r", "reviewer"), set())


# ---------------------------------------------------------------------------------------------- accounts


def test_add_user_is_audited_and_normalised(wh: duckdb.DuckDBPyConnection) -> None:
    user = auth.add_user(wh, "  New.Engineer ", "long-enough-1", "engineer", "KTZ", language="kk", actor="admin")
    assert user == User("new.engineer", "engineer", "KTZ", "kk")
    assert auth.get_user(wh, "NEW.ENGINEER") == user
    rows = _audit(wh, "user_added")
    assert rows[-1][0] == "admin" and rows[-1][1] == "new.engineer"
    assert json.loads(rows[-1][2])["subsidiary_code"] == "KTZ"


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("bad name", "long-enough-1", "executive", None), "auth.bad_username"),
        (("x", "long-enough-1", "superuser", None), "auth.bad_role"),
        (("x", "long-enough-1", "engineer", None), "auth.engineer_needs_subsidiary"),
        (("x", "long-enough-1", "engineer", "NOPE"), "auth.unknown_subsidiary"),
        # only engineers are bounded by a subsidiary: an executive's would be stored and mean nothing (before: stored)
        (("x", "long-enough-1", "executive", "KTZ"), "auth.subsidiary_only_for_engineers"),
        (("x", "long-enough-1", "reviewer", "KTZ"), "auth.subsidiary_only_for_engineers"),
        (("x", "long-enough-1", "admin", "KTZ"), "auth.subsidiary_only_for_engineers"),
        (("x", "short", "executive", None), "auth.password_too_short"),
        (("exec", "long-enough-1", "executive", None), "auth.user_exists"),
    ],
)
def test_add_user_refusals_change_nothing(wh: duckdb.DuckDBPyConnection, args: tuple, key: str) -> None:
    before = wh.execute("SELECT count(*) FROM users").fetchone()
    with pytest.raises(InvalidInput) as info:
        auth.add_user(wh, *args)
    assert key in [p.key for p in info.value.problems]
    assert wh.execute("SELECT count(*) FROM users").fetchone() == before


def test_authenticate_success_is_audited_with_address(wh: duckdb.DuckDBPyConnection) -> None:
    user = auth.authenticate(wh, "Exec", PASSWORD, "10.1.2.3")
    assert user == User("exec", "executive", None, "en")
    assert _audit(wh, "sign_in")[-1][0::3] == ("exec", "10.1.2.3")


@pytest.mark.parametrize("username", ["nobody", "exec", "bad name!"])
def test_wrong_credentials_say_the_same_thing(wh: duckdb.DuckDBPyConnection, username: str) -> None:
    with pytest.raises(auth.AuthenticationFailed) as info:
        auth.authenticate(wh, username, "wrong-password", "10.0.0.1")
    assert info.value.key == "auth.invalid_credentials"
    assert _audit(wh, "sign_in_failed")[-1][3] == "10.0.0.1"


def test_lockout_and_its_expiry(wh: duckdb.DuckDBPyConnection) -> None:
    policy = auth.LockoutPolicy(max_failures=3, lock_minutes=10)
    keys = []
    for _ in range(3):
        with pytest.raises(auth.AuthenticationFailed) as info:
            auth.authenticate(wh, "rev", "wrong-password", "10.0.0.9", policy=policy)
        keys.append(info.value.key)
    assert keys == ["auth.invalid_credentials", "auth.invalid_credentials", "auth.locked"]
    with pytest.raises(auth.AuthenticationFailed) as info:
        auth.authenticate(wh, "rev", PASSWORD, "10.0.0.9", policy=policy)
    assert info.value.key == "auth.locked"
    (locked_until,) = wh.execute("SELECT locked_until FROM users WHERE username = 'rev'").fetchone()
    now = datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(minutes=9) < locked_until - now <= timedelta(minutes=10)
    # the lock expires: move it into the past as time would
    wh.execute("UPDATE users SET locked_until = ? WHERE username = 'rev'", [now - timedelta(seconds=1)])
    assert auth.authenticate(wh, "rev", PASSWORD, policy=policy).role == "reviewer"
    assert wh.execute("SELECT failed_attempts, locked_until FROM users WHERE username = 'rev'").fetchone() == (0, None)
    reasons = [json.loads(r[2])["reason"] for r in _audit(wh, "sign_in_failed") if r[0] == "rev"]
    assert reasons == ["bad_password", "bad_password", "bad_password", "locked"]


def test_a_success_resets_the_failure_count(wh: duckdb.DuckDBPyConnection) -> None:
    policy = auth.LockoutPolicy(max_failures=3, lock_minutes=10)
    for _ in range(2):  # 4 failures in all, never 3 in a row
        with pytest.raises(auth.AuthenticationFailed):
            auth.authenticate(wh, "exec", "wrong-password", policy=policy)
        with pytest.raises(auth.AuthenticationFailed):
            auth.authenticate(wh, "exec", "wrong-password", policy=policy)
        auth.authenticate(wh, "exec", PASSWORD, policy=policy)


def test_disable_and_reset(wh: duckdb.DuckDBPyConnection) -> None:
    fingerprint = auth.session_fingerprint(wh, "eng_kmg")
    auth.reset_password(wh, "eng_kmg", "brand-new-pass", actor="admin", remote_addr="10.0.0.2")
    assert auth.session_fingerprint(wh, "eng_kmg") != fingerprint
    with pytest.raises(auth.AuthenticationFailed):
        auth.authenticate(wh, "eng_kmg", PASSWORD)
    assert auth.authenticate(wh, "eng_kmg", "brand-new-pass").subsidiary_code == "KMG"
    auth.disable_user(wh, "eng_kmg", actor="admin")
    assert auth.get_user(wh, "eng_kmg") is None
    assert auth.session_fingerprint(wh, "eng_kmg") is None
    with pytest.raises(auth.AuthenticationFailed) as info:
        auth.authenticate(wh, "eng_kmg", "brand-new-pass")
    assert info.value.key == "auth.invalid_credentials"
    assert _audit(wh, "password_reset")[-1] == ("admin", "eng_kmg", "{}", "10.0.0.2")
    assert _audit(wh, "user_disabled")[-1][:2] == ("admin", "eng_kmg")
    with pytest.raises(InvalidInput):
        auth.disable_user(wh, "nobody")


def test_reset_clears_a_lockout(wh: duckdb.DuckDBPyConnection) -> None:
    policy = auth.LockoutPolicy(max_failures=1, lock_minutes=60)
    with pytest.raises(auth.AuthenticationFailed):
        auth.authenticate(wh, "exec", "wrong-password", policy=policy)
    auth.reset_password(wh, "exec", "fresh-password-9")
    assert auth.authenticate(wh, "exec", "fresh-password-9", policy=policy).username == "exec"


def test_audit_log_is_append_only_in_use(wh: duckdb.DuckDBPyConnection) -> None:
    """Each action adds rows; nothing the module does rewrites or removes earlier ones."""
    before = wh.execute("SELECT * FROM audit_log ORDER BY event_id").fetchall()
    with pytest.raises(auth.AuthenticationFailed):
        auth.authenticate(wh, "exec", "wrong-password")
    auth.authenticate(wh, "exec", PASSWORD)
    auth.disable_user(wh, "rev")
    after = wh.execute("SELECT * FROM audit_log ORDER BY event_id").fetchall()
    assert after[: len(before)] == before
    assert [r[3] for r in after[len(before) :]] == ["sign_in_failed", "sign_in", "user_disabled"]
