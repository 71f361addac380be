"""Opening the warehouse file, with DuckDB's single-writer lock turned into a clear refusal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pilot_roi.errors import PilotRoiError, Problem, WarehouseBusy, WarehouseNotInitialised


def connect(path: str | Path, *, read_only: bool = False, create: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse at `path`.

    Raises WarehouseBusy when another process holds the write lock, WarehouseNotInitialised when the
    file does not exist and `create` is false.
    """
    path = Path(path)
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
        if "not a valid duckdb" in text or "invalid" in text or "magic" in text:
            raise PilotRoiError([Problem("warehouse.not_duckdb", params={"path": str(path)})]) from exc
        raise
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(str(path)) from exc
        raise
    return con


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
