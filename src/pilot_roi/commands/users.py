"""`pilot-roi users add|disable|reset|list`: accounts for the dashboard.

Passwords are never taken as arguments (they would sit in the shell history and the process list):
`--password-stdin` reads one line from standard input; otherwise an interactive terminal is asked
twice, and without one a random password is generated and printed once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime

import duckdb

from pilot_roi import auth
from pilot_roi.commands import with_next_steps
from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.i18n import t
from pilot_roi.settings import Settings
from pilot_roi.warehouse import connect, require_writable


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `users` subcommand and its actions."""
    parser = subparsers.add_parser("users", parents=[common], help="add, disable, reset or list accounts")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", parents=[common], help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    add.add_argument("--subsidiary", default=None, help="subsidiary code (required for engineers)")
    add.add_argument("--language", default="ru", choices=auth.USER_LANGS, help="the user's language")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    disable = actions.add_parser("disable", parents=[common], help="disable an account")
    disable.add_argument("name")

    reset = actions.add_parser("reset", parents=[common], help="set a new password and clear a lockout")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    listing = actions.add_parser("list", parents=[common], help="list accounts")
    listing.add_argument("--format", choices=("text", "json"), default="text")

    parser.set_defaults(handler=run)


def _password(args: argparse.Namespace, settings: Settings) -> tuple[str, bool]:
    """The new password and whether it was generated (and must be shown)."""
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InvalidInput([Problem("users.empty_stdin")])
        return line, False
    if sys.stdin.isatty():
        first = getpass.getpass(t("users.prompt_password", settings.lang))
        second = getpass.getpass(t("users.prompt_repeat", settings.lang))
        if first != second:
            raise InvalidInput([Problem("auth.passwords_differ")])
        return first, False
    return auth.generate_password(), True


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Do the chosen action on the warehouse's accounts; each change is audited with `settings.user`."""
    con = connect(settings.warehouse, read_only=args.action == "list")
    try:
        with with_next_steps(con):
            _act(con, args, settings)
    finally:
        con.close()
    return 0


def _act(con: duckdb.DuckDBPyConnection, args: argparse.Namespace, settings: Settings) -> None:
    lang = settings.lang
    if args.action != "list":
        require_writable(settings.warehouse)
    if args.action == "add":
        password, generated = _password(args, settings)
        user = auth.add_user(
            con,
            args.name,
            password,
            args.role,
            args.subsidiary,
            language=args.language,
            actor=settings.user,
        )
        print(t("users.added", lang, name=user.username, role=user.role))
        if generated:
            print(t("users.generated_password", lang, password=password))
    elif args.action == "disable":
        auth.disable_user(con, args.name, actor=settings.user)
        print(t("users.disabled", lang, name=auth.normalise_username(args.name)))
    elif args.action == "reset":
        password, generated = _password(args, settings)
        auth.reset_password(con, args.name, password, actor=settings.user)
        print(t("users.reset_done", lang, name=auth.normalise_username(args.name)))
        if generated:
            print(t("users.generated_password", lang, password=password))
    else:
        _list(con, args, lang)


def _list(con: duckdb.DuckDBPyConnection, args: argparse.Namespace, lang: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    records = auth.list_users(con)
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "username": r.username,
                        "role": r.role,
                        "subsidiary_code": r.subsidiary_code,
                        "language": r.language,
                        "disabled": r.disabled,
                        "failed_attempts": r.failed_attempts,
                        "locked_until": r.locked_until.isoformat() if r.locked_until else None,
                        "created_at": r.created_at.isoformat() if r.created_at else None,
                    }
                    for r in records
                ],
                ensure_ascii=False,
            )
        )
        return
    if not records:
        print(t("users.none", lang))
        return
    for r in records:
        if r.disabled:
            state = t("users.state_disabled", lang)
        elif r.locked_until is not None and r.locked_until > now:
            state = t("users.state_locked", lang, until=r.locked_until.strftime("%Y-%m-%d %H:%M"))
        else:
            state = t("users.state_active", lang)
        print(f"{r.username}\t{r.role}\t{r.subsidiary_code or '-'}\t{r.language}\t{state}")
