"""Opening the warehouse file, with DuckDB's single-writer lock turned into a clear refusal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pilot_roi.errors import PilotRoiError, Problem, WarehouseBusy, WarehouseNotInitialised


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
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc).lower()
        if "lock" in text:
            raise WarehouseBusy(str(path)) from exc
        if "permission denied" in text:
            key = "warehouse.cannot_read" if read_only or not os.access(path, os.R_OK) else "warehouse.cannot_write"
            raise PilotRoiError([Problem(key, params={"path": str(path)})]) from exc
        if "not a valid duckdb" in text or "invalid" in text or "magic" in text:
            raise PilotRoiError([Problem("warehouse.not_duckdb", params={"path": str(path)})]) from exc
        raise
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(str(path)) from exc
        raise
    return con


def require_writable(path: str | Path) -> None:
    """Refuse at once a warehouse this user may open but not change, before any work is spent on it.

    DuckDB opens such a file, and fails only at the first COMMIT: for the file itself, or for the folder,
    where it creates its write-ahead journal (`<file>.wal`).
    """
    path = Path(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise PilotRoiError([Problem("warehouse.cannot_write", params={"path": str(path)})])
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
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
