"""Who may do what: accounts with argon2id password hashes, roles, permissions and sign-in with lockout.

Roles and what they may do (enforced on the server by `dashboards/security.py` and the CLI):

| role      | read | upload                    | export | audit | admin |
| --------- | ---- | ------------------------- | ------ | ----- | ----- |
| executive | yes  | no                        | no     | no    | no    |
| engineer  | yes  | own subsidiary's sites    | no     | no    | no    |
| reviewer  | yes  | no                        | yes    | yes   | no    |
| admin     | yes  | every subsidiary          | yes    | yes   | yes   |

Every change and every sign-in attempt is written to the audit log in the same transaction.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pilot_roi import audit
from pilot_roi.errors import InvalidInput, PermissionDenied, PilotRoiError, Problem
from pilot_roi.resources import read_sql
from pilot_roi.warehouse.connection import transaction

Role = Literal["executive", "engineer", "reviewer", "admin"]
Permission = Literal["read", "upload", "export", "audit", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
PERMISSIONS: tuple[Permission, ...] = get_args(Permission)
USER_LANGS = ("ru", "kk", "en")

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "executive": frozenset({"read"}),
    "engineer": frozenset({"read", "upload"}),
    "reviewer": frozenset({"read", "export", "audit"}),
    "admin": frozenset({"read", "upload", "export", "audit", "admin"}),
}

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte "password" is a denial of service
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

# RFC 9106 "second recommended" profile (argon2id, t=3, m=64 MiB, p=4): argon2-cffi's default.
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so an attacker cannot tell names apart by timing.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in (or stored) user: what the rest of the product needs to decide what they may do.

    `subsidiary_code` is set for engineers (the subsidiary whose sites they may upload for) and
    optional otherwise; `language` is ru, kk or en.
    """

    username: str
    role: Role
    subsidiary_code: str | None = None
    language: str = "ru"


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored account as `users list` shows it: no password hash."""

    username: str
    role: str
    subsidiary_code: str | None
    language: str
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `max_failures` failed sign-ins in a row the account is locked for `lock_minutes` minutes."""

    max_failures: int = 5
    lock_minutes: float = 15.0

    @classmethod
    def from_env(cls) -> LockoutPolicy:
        """PILOT_ROI_MAX_FAILED_SIGNINS and PILOT_ROI_LOCKOUT_MINUTES, else the defaults (5, 15)."""
        return cls(
            max_failures=max(1, int(os.environ.get("PILOT_ROI_MAX_FAILED_SIGNINS", "5"))),
            lock_minutes=max(0.0, float(os.environ.get("PILOT_ROI_LOCKOUT_MINUTES", "15"))),
        )


class AuthenticationFailed(PilotRoiError):
    """Wrong name or password, a disabled account, or a locked one; nothing says which name exists."""

    def __init__(self, key: str = "auth.invalid_credentials", **params: Any):
        super().__init__([Problem(key, params=params)])
        self.key = key


# ---------------------------------------------------------------------------------------------- permissions


def can(user: User | None, permission: str) -> bool:
    """True if `user` (None = anonymous: never) has `permission` (read, upload, export, audit, admin)."""
    if user is None:
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def upload_subsidiaries(user: User | None) -> frozenset[str] | None:
    """The subsidiaries whose sites `user` may upload for: None means all (admin); empty means none."""
    if user is None:
        return frozenset()
    if user.role == "admin":
        return None
    if user.role == "engineer" and user.subsidiary_code and can(user, "upload"):
        return frozenset({user.subsidiary_code})
    return frozenset()


def check(user: User | None, permission: str) -> User:
    """`user` if they have `permission`; else PermissionDenied (anonymous users included)."""
    if user is None:
        raise PermissionDenied([Problem("auth.not_signed_in")])
    if not can(user, permission):
        raise PermissionDenied([Problem("auth.forbidden", params={"role": user.role, "permission": permission})])
    return user


def check_upload_scope(user: User | None, subsidiary_codes: Iterable[str]) -> None:
    """PermissionDenied unless `user` may upload for every subsidiary in `subsidiary_codes`.

    Ingestion calls it with the subsidiaries of the sites a file names, before anything is stored.
    """
    check(user, "upload")
    allowed = upload_subsidiaries(user)
    if allowed is None:
        return
    outside = sorted(set(subsidiary_codes) - allowed)
    if outside:
        raise PermissionDenied([Problem("auth.upload_outside_subsidiary", params={"codes": ", ".join(outside)})])


# ---------------------------------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, with its own random salt and parameters encoded in it."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches `password_hash`; False for a mismatch or a malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for a new or reset account: 16 URL-safe characters (~96 bits)."""
    return secrets.token_urlsafe(12)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput([Problem("auth.password_too_short", params={"min": MIN_PASSWORD_LENGTH})])
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput([Problem("auth.password_too_long", params={"max": MAX_PASSWORD_LENGTH})])


def normalise_username(username: str) -> str:
    """Usernames are compared trimmed and in lower case."""
    return username.strip().lower()


# ---------------------------------------------------------------------------------------------- accounts


def _now() -> datetime:
    """UTC wall time without a zone: the warehouse's TIMESTAMP columns hold UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def _row(con: duckdb.DuckDBPyConnection, username: str) -> dict[str, Any] | None:
    cursor = con.execute(read_sql("auth/get_user.sql"), {"username": username})
    row = cursor.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cursor.description]
    return dict(zip(names, row, strict=True))


def _user(row: dict[str, Any]) -> User:
    return User(
        username=row["username"],
        role=cast(Role, row["role"]),
        subsidiary_code=row["subsidiary_code"],
        language=row["language"] or "ru",
    )


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    """The active (not disabled) account `username`, or None."""
    row = _row(con, normalise_username(username))
    if row is None or row["disabled"]:
        return None
    return _user(row)


def list_users(con: duckdb.DuckDBPyConnection) -> list[UserRecord]:
    """Every account, disabled ones included, ordered by name."""
    cursor = con.execute(read_sql("auth/list_users.sql"))
    return [UserRecord(*row) for row in cursor.fetchall()]


def add_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    role: str,
    subsidiary_code: str | None = None,
    *,
    language: str = "ru",
    actor: str = "cli",
    remote_addr: str | None = None,
) -> User:
    """Create an account; audit `user_added` by `actor`. InvalidInput if any field is not acceptable.

    Engineers need a subsidiary that is in the registry (it bounds what they may upload); the other roles see every
    subsidiary and take none.
    """
    name = normalise_username(username)
    problems: list[Problem] = []
    if not _USERNAME.match(name):
        problems.append(Problem("auth.bad_username", params={"name": username}))
    if role not in ROLES:
        problems.append(Problem("auth.bad_role", params={"role": role, "allowed": ", ".join(ROLES)}))
    if language not in USER_LANGS:
        problems.append(Problem("auth.bad_language", params={"lang": language, "allowed": ", ".join(USER_LANGS)}))
    code = subsidiary_code.strip() if subsidiary_code else None
    if role == "engineer" and not code:
        problems.append(Problem("auth.engineer_needs_subsidiary"))
    elif code and role in ROLES and role != "engineer":  # the others see every subsidiary: a code would mean nothing
        problems.append(Problem("auth.subsidiary_only_for_engineers", params={"role": role, "code": code}))
    if code:
        found = con.execute(read_sql("auth/subsidiary_exists.sql"), {"code": code}).fetchone()
        if not (found and found[0]):
            problems.append(Problem("auth.unknown_subsidiary", params={"code": code}))
    if problems:
        raise InvalidInput(problems)
    _check_password(password)
    if _row(con, name) is not None:
        raise InvalidInput([Problem("auth.user_exists", params={"name": name})])
    password_hash = hash_password(password)
    now = _now()
    with transaction(con):
        con.execute(
            read_sql("auth/insert_user.sql"),
            {
                "username": name,
                "password_hash": password_hash,
                "role": role,
                "subsidiary_code": code,
                "language": language,
                "now": now,
            },
        )
        audit.record(
            con, actor, "user_added", name, {"role": role, "subsidiary_code": code, "language": language}, remote_addr
        )
    return User(username=name, role=cast(Role, role), subsidiary_code=code, language=language)


def _existing(con: duckdb.DuckDBPyConnection, username: str) -> dict[str, Any]:
    row = _row(con, normalise_username(username))
    if row is None:
        raise InvalidInput([Problem("auth.unknown_user", params={"name": username})])
    return row


def disable_user(
    con: duckdb.DuckDBPyConnection, username: str, *, actor: str = "cli", remote_addr: str | None = None
) -> None:
    """Disable an account (kept, so the audit log still names it); audit `user_disabled`."""
    row = _existing(con, username)
    with transaction(con):
        con.execute(read_sql("auth/disable_user.sql"), {"username": row["username"], "now": _now()})
        audit.record(con, actor, "user_disabled", row["username"], {}, remote_addr)


def reset_password(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    actor: str = "cli",
    remote_addr: str | None = None,
) -> None:
    """Set a new password and clear any lockout; audit `password_reset`. Open sessions of the user end."""
    row = _existing(con, username)
    _check_password(password)
    password_hash = hash_password(password)
    with transaction(con):
        con.execute(
            read_sql("auth/set_password.sql"),
            {"username": row["username"], "password_hash": password_hash, "now": _now()},
        )
        audit.record(con, actor, "password_reset", row["username"], {}, remote_addr)


def session_fingerprint(con: duckdb.DuckDBPyConnection, username: str) -> str | None:
    """A short value that changes whenever the password changes: sessions carry it and die with it.

    None if the account does not exist or is disabled.
    """
    row = _row(con, normalise_username(username))
    if row is None or row["disabled"]:
        return None
    return str(row["password_hash"])[-16:]


def authenticate(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    remote_addr: str | None = None,
    *,
    policy: LockoutPolicy | None = None,
) -> User:
    """The user if `password` is right and the account is active and not locked; else AuthenticationFailed.

    Each attempt is audited (`sign_in` or `sign_in_failed` with the reason). After
    `policy.max_failures` failures in a row the account is locked for `policy.lock_minutes`; a locked
    account refuses even the right password until the lock expires. AuthenticationFailed.key is
    `auth.invalid_credentials` or `auth.locked` (the latter only for an existing account that is locked).
    """
    policy = policy or LockoutPolicy.from_env()
    name = normalise_username(username)[:128]
    now = _now()
    row = _row(con, name) if _USERNAME.match(name) else None
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
    if row is None:
        verify_password(_DUMMY_HASH, password)
        with transaction(con):
            audit.record(con, name or "?", "sign_in_failed", name, {"reason": "unknown_user"}, remote_addr)
        raise AuthenticationFailed()
    locked_until: datetime | None = row["locked_until"]
    if row["disabled"]:
        verify_password(_DUMMY_HASH, password)
        with transaction(con):
            audit.record(con, name, "sign_in_failed", name, {"reason": "disabled"}, remote_addr)
        raise AuthenticationFailed()
    if locked_until is not None and locked_until > now:
        with transaction(con):
            audit.record(
                con, name, "sign_in_failed", name, {"reason": "locked", "locked_until": locked_until}, remote_addr
            )
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise AuthenticationFailed("auth.locked", minutes=minutes)
    if not verify_password(row["password_hash"], password):
        failures = int(row["failed_attempts"] or 0) + 1
        new_lock: datetime | None = None
        if failures >= policy.max_failures:
            new_lock = now + timedelta(minutes=policy.lock_minutes)
        with transaction(con):
            con.execute(
                read_sql("auth/record_failed_attempt.sql"),
                {
                    "username": name,
                    "failed_attempts": 0 if new_lock else failures,
                    "locked_until": new_lock,
                    "now": now,
                },
            )
            details: dict[str, Any] = {"reason": "bad_password", "failures": failures}
            if new_lock:
                details["locked_until"] = new_lock
            audit.record(con, name, "sign_in_failed", name, details, remote_addr)
        if new_lock:
            raise AuthenticationFailed("auth.locked", minutes=max(1, round(policy.lock_minutes)))
        raise AuthenticationFailed()
    password_hash = row["password_hash"]
    if _HASHER.check_needs_rehash(password_hash):
        password_hash = hash_password(password)
    with transaction(con):
        con.execute(
            read_sql("auth/record_sign_in.sql"),
            {"username": name, "password_hash": password_hash, "now": now},
        )
        audit.record(con, name, "sign_in", name, {"role": row["role"]}, remote_addr)
    return _user(row)


def sign_in_external(
    con: duckdb.DuckDBPyConnection,
    username: str,
    remote_addr: str | None = None,
    *,
    method: str = "oidc",
    subject: str | None = None,
) -> User:
    """The local account `username` after an external identity provider vouched for it (single sign-on).

    The account must exist, be enabled and not locked: the provider says who someone is, the warehouse
    says what they may do. Audited as `sign_in` (or `sign_in_failed`) with the method and subject.
    """
    name = normalise_username(username)[:128]
    row = _row(con, name) if _USERNAME.match(name) else None
    now = _now()
    reason = None
    if row is None:
        reason = "unknown_user"
    elif row["disabled"]:
        reason = "disabled"
    elif row["locked_until"] is not None and row["locked_until"] > now:
        reason = "locked"
    details: dict[str, Any] = {"method": method, "subject": subject}
    if reason is not None or row is None:
        with transaction(con):
            audit.record(con, name or "?", "sign_in_failed", name, {**details, "reason": reason}, remote_addr)
        raise AuthenticationFailed("auth.sso_no_account", name=name)
    with transaction(con):
        audit.record(con, name, "sign_in", name, {**details, "role": row["role"]}, remote_addr)
    return _user(row)
