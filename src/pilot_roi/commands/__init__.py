"""One module per `pilot-roi` subcommand; each registers its parser and a handler returning an exit code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.resources import read_sql

KNOWN_SHOWN = 30
# the message that refuses an unknown code -> the query that lists the codes there are
_KNOWN_CODES = {
    "estimate.unknown_pilot": "cli/known_pilots.sql",
    "template.unknown_subsidiary": "cli/known_subsidiaries.sql",
    "auth.unknown_subsidiary": "cli/known_subsidiaries.sql",
}
# the message that refuses an account name -> what to run instead
_USER_HINTS = {"auth.user_exists": "cli.hint_user_exists", "auth.unknown_user": "cli.hint_unknown_user"}


def require_input_file(name: str) -> Path:
    """The file a command is to read, refused before any work when it is missing, a folder or closed to this user
    (reading it later would fail as an internal error)."""
    path = Path(name)
    if path.is_dir():
        raise InvalidInput([Problem("cli.file_is_folder", params={"path": str(path)})])
    if not path.is_file():
        raise InvalidInput([Problem("cli.file_not_found", params={"path": str(path)})])
    if not os.access(path, os.R_OK):
        raise InvalidInput([Problem("cli.file_not_readable", params={"path": str(path)})])
    return path


@contextmanager
def with_next_steps(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Add to a refusal of an unknown pilot, subsidiary or account what the user can type instead: the codes the
    registry has, or the command that fits (`users reset NAME` for an account that exists)."""
    try:
        yield
    except InvalidInput as exc:
        extra = [hint for problem in exc.problems if (hint := _next_step(con, problem)) is not None]
        if not extra:
            raise
        raise InvalidInput([*exc.problems, *extra]) from exc


def _next_step(con: duckdb.DuckDBPyConnection, problem: Problem) -> Problem | None:
    if problem.key in _USER_HINTS:
        return Problem(_USER_HINTS[problem.key], params=problem.params)
    if problem.key not in _KNOWN_CODES:
        return None
    try:
        codes = [str(row[0]) for row in con.execute(read_sql(_KNOWN_CODES[problem.key])).fetchall()]
    except duckdb.Error:  # the refusal itself stands; the hint is a courtesy
        return None
    if not codes:
        return Problem("cli.no_codes")
    more = f" (+{len(codes) - KNOWN_SHOWN})" if len(codes) > KNOWN_SHOWN else ""
    return Problem("cli.known_codes", params={"codes": ", ".join(codes[:KNOWN_SHOWN]) + more})
