"""Opening the warehouse file, with DuckDB's single-writer lock turned into a clear refusal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pilot_roi.errors import PilotRoiError, Problem, WarehouseBusy, WarehouseNotInitialised
from pilot_roi.writable import closed_folder, nearest_existing_folder


def connect(path: str | Path, *, read_only: bool = False, create: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse at `path`.

    Raises WarehouseBusy when another process holds the write lock, WarehouseNotInitialised when the
    file does not exist and `create` is false, PilotRoiError when the path is a folder, is not DuckDB or
    may not be opened by this user.
    """
    path = Path(path)
    if path.is_dir():
        raise PilotRoiError([Problem("warehouse.not_a_file", params={"path": str(path)})])
    if not path.exists():
        if not create:
            raise WarehouseNotInitialised(str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except PermissionError as exc:
            folder = str(nearest_existing_folder(path))
            raise PilotRoiError(
                [Problem("warehouse.cannot_write_folder", params={"path": str(path), "folder": folder})]
            ) from exc
        except OSError as exc:  # a read-only file system, a file where a folder should be, ...
            raise _cannot_open(path, exc) from exc
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = _without_path(exc, path)
        if is_lock_error(exc, path):
            raise WarehouseBusy(str(path)) from exc
        if "permission denied" in text:
            if not path.exists():  # DuckDB could not create the file: the folder is closed to this user
                params = {"path": str(path), "folder": str(path.parent)}
                raise PilotRoiError([Problem("warehouse.cannot_write_folder", params=params)]) from exc
            key = "warehouse.cannot_read" if read_only or not os.access(path, os.R_OK) else "warehouse.cannot_write"
            raise PilotRoiError([Problem(key, params={"path": str(path)})]) from exc
        if "not a valid duckdb" in text or "invalid" in text or "magic" in text:
            raise PilotRoiError([Problem("warehouse.not_duckdb", params={"path": str(path)})]) from exc
        raise _cannot_open(path, exc) from exc
    except duckdb.Error as exc:
        if is_lock_error(exc, path):
            raise WarehouseBusy(str(path)) from exc
        if "in-memory" in _without_path(exc, path):  # a CSV/Parquet/JSON file opened read-only: see below
            raise PilotRoiError([Problem("warehouse.not_duckdb", params={"path": str(path)})]) from exc
        raise
    if not _is_database_file(con):
        con.close()
        raise PilotRoiError([Problem("warehouse.not_duckdb", params={"path": str(path)})])
    return con


def _is_database_file(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether DuckDB opened a database file. Given an existing CSV, TSV, JSON or Parquet file, DuckDB 2 opens
    an in-memory database with the file as a view instead: every command would then "succeed" and store
    nothing."""
    # fetchall: a result left unfinished would block the connection's next query (DuckDB 2)
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return bool(rows) and rows[0][0] is not None


def _cannot_open(path: Path, exc: Exception) -> PilotRoiError:
    """A refusal naming what the system said, for a failure none of the cases above explains."""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
    return PilotRoiError([Problem("warehouse.cannot_open", params={"path": str(path), "detail": detail})])


def is_lock_error(exc: Exception, path: str | Path) -> bool:
    """Whether DuckDB refused `path` because another process holds its lock (the path's own words aside)."""
    return "lock" in _without_path(exc, Path(path))


def _without_path(exc: Exception, path: Path) -> str:
    """DuckDB's message in lower case without the file's path, whose own words (a folder named `locked`,
    `invalid`) must not be taken for the error's."""
    return str(exc).replace(str(path), "<path>").lower()


def require_writable(path: str | Path) -> None:
    """Refuse at once a warehouse this user may open but not change, before any work is spent on it.

    DuckDB opens such a file, and fails only at the first COMMIT: for the file itself, or for the folder,
    where it creates its write-ahead journal (`<file>.wal`). A warehouse still to be created needs the first
    folder on its path that exists to be writable (the rest is created in it).
    """
    path = Path(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise PilotRoiError([Problem("warehouse.cannot_write", params={"path": str(path)})])
    folder = closed_folder(path)
    if folder is not None:
        raise PilotRoiError(
            [Problem("warehouse.cannot_write_folder", params={"path": str(path), "folder": str(folder)})]
        )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception: the warehouse changes whole or not at all."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
