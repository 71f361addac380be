"""Shared fixtures: a real, migrated DuckDB warehouse in a temporary folder, and the reference data folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from other_user import LockedWarehouses, lock_warehouses, other_user_prefix, remove_locked
from pilot_roi.warehouse import connect, migrate

REPO_ROOT = Path(__file__).resolve().parents[1]
REFDATA = REPO_ROOT.parent / "shared" / "refdata"


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    """A freshly migrated warehouse file."""
    path = tmp_path / "wh.duckdb"
    con = connect(path, create=True)
    migrate(con)
    con.close()
    return path


@pytest.fixture
def con(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the fresh warehouse, closed after the test."""
    connection = connect(warehouse_path)
    yield connection
    connection.close()


@pytest.fixture
def refdata() -> Path:
    """The public reference panels; tests using them skip when the folder is absent."""
    if not REFDATA.is_dir():
        pytest.skip("../shared/refdata is not present")
    return REFDATA


@pytest.fixture(scope="session")
def as_other_user() -> list[str]:
    """The prefix that runs a command as a user without write access (see `other_user.other_user_prefix`)."""
    return other_user_prefix()


@pytest.fixture
def locked_warehouses() -> Iterator[Callable[[Path], LockedWarehouses]]:
    """Make `LockedWarehouses` from a warehouse file; the folders are removed after the test."""
    roots: list[Path] = []

    def make(source: Path) -> LockedWarehouses:
        made = lock_warehouses(source)
        roots.append(made.locked.parent)
        return made

    yield make
    for root in roots:
        remove_locked(root)
