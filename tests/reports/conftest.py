"""Report test fixtures: one shared read-mostly warehouse per session, fresh ones for tests that change data."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_fixtures import Built, build_warehouse

from pilot_roi.reports import YearReport, assemble_report
from pilot_roi.warehouse import connect


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Five pilots (every grade, a daily metric, explicit and default controls), uploads, one finished run."""
    return build_warehouse(tmp_path_factory.mktemp("reports") / "wh.duckdb", 5, daily_every=4)


@pytest.fixture
def fresh(tmp_path: Path) -> Built:
    """The same warehouse, private to one test (for freezing, restating, re-estimating)."""
    return build_warehouse(tmp_path / "wh.duckdb", 5, daily_every=4)


@pytest.fixture
def ro(built: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the shared warehouse."""
    con = connect(built.path, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def report(built: Built) -> YearReport:
    """The 2025 report of the shared warehouse."""
    con = connect(built.path, read_only=True)
    try:
        return assemble_report(con, 2025)
    finally:
        con.close()
