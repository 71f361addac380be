"""Per-request access to the warehouse and to the user's language, for pages and callbacks.

Connections: the server process is the warehouse's single writer. `create_app` registers one
`WarehouseAccess`; it opens ONE read-write DuckDB connection lazily (after gunicorn has started the worker,
never before a fork) and every request takes its own `cursor()` of it — a cursor is a separate DuckDB
connection to the same database instance, safe to use from its own thread — and closes it when done.
Reads see committed data only; uploads write through the same instance inside a transaction.
The cost: while the dashboard runs, other processes (e.g. `pilot-roi estimate`) cannot write the file.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import flask

from pilot_roi.settings import LANGS
from pilot_roi.warehouse import connect

log = logging.getLogger("pilot_roi.dashboard")
EXTENSION = "pilot_roi_warehouse"
LANG_COOKIE = "pilot_roi_lang"


class WarehouseAccess:
    """One shared connection per process, a cursor per request."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def _root(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = connect(self.path)
            return self._con

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the shared connection for this request, closed afterwards."""
        cur = self._root().cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        """Close the shared connection (tests, shutdown)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def access() -> WarehouseAccess:
    """The app's WarehouseAccess (inside a request)."""
    return flask.current_app.extensions[EXTENSION]


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A per-request cursor of the warehouse."""
    with access().cursor() as cur:
        yield cur


def lang_of(value: object = None) -> str:
    """`value` if it is a supported language, else the cookie's, the session's, the user's, else Russian."""
    if isinstance(value, str) and value in LANGS:
        return value
    if flask.has_request_context():
        cookie = flask.request.cookies.get(LANG_COOKIE)
        if cookie in LANGS:
            return str(cookie)
        session_lang = flask.session.get("lang")
        if isinstance(session_lang, str) and session_lang in LANGS:
            return session_lang
        from dashboards.security import current_user

        user = current_user()
        if user is not None and user.language in LANGS:
            return user.language
    return "ru"


def error_ref(exc: BaseException) -> str:
    """Log an unexpected error with a short reference the user can quote; never show the traceback."""
    ref = uuid.uuid4().hex[:8]
    log.error("dashboard error %s", ref, exc_info=exc)
    return ref
