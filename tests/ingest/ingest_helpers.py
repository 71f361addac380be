"""Helpers shared by the ingestion tests (a uniquely named module: `conftest` is ambiguous across folders)."""

from __future__ import annotations

import duckdb


def current(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The current observations, sorted: (site_code, metric_code, period, value)."""
    return con.execute("SELECT site_code, metric_code, period, value FROM observations ORDER BY ALL").fetchall()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every table ingestion writes, for before/after comparisons."""
    tables = ("observation_current", "observation_superseded", "upload_log", "upload_errors", "audit_log")
    return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in tables}
