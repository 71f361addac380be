"""Helpers shared by the ingestion tests (a uniquely named module: `conftest` is ambiguous across folders)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from pilot_roi.ingest import IngestReport, ingest_file
from pilot_roi.registry import load_registry_file
from pilot_roi.warehouse import connect, migrate


def warehouse_with_registry(folder: Path, registry_yaml: str) -> Path:
    """A migrated warehouse file in `folder` with `registry_yaml` loaded and checkpointed (tests copy it)."""
    path = folder / "wh.duckdb"
    con = connect(path, create=True)
    try:
        migrate(con)
        (folder / "registry.yaml").write_text(registry_yaml, encoding="utf-8")
        load_registry_file(con, folder / "registry.yaml")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def current(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The current observations, sorted: (site_code, metric_code, period, value)."""
    return con.execute("SELECT site_code, metric_code, period, value FROM observations ORDER BY ALL").fetchall()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every table ingestion writes, for before/after comparisons."""
    tables = ("observation_current", "observation_superseded", "upload_log", "upload_errors", "audit_log")
    return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in tables}


class WarehouseCopies:
    """Fresh copies of a registry warehouse, one per ingestion sequence: `load` ingests files into a new copy and
    returns the reports and what the copy then holds, as `read` (a subclass's) reads it."""

    def __init__(self, template: Path, folder: Path) -> None:
        self.template, self.folder, self.count = template, folder, 0

    def read(self, con: duckdb.DuckDBPyConnection) -> Any:
        """What a load stored, in the form the tests compare."""
        raise NotImplementedError

    def load(self, files: list[tuple[bytes, str]], **kwargs: Any) -> tuple[list[IngestReport], Any]:
        self.count += 1
        path = self.folder / f"w{self.count}.duckdb"
        shutil.copy(self.template, path)
        con = connect(path)
        try:
            reports = [ingest_file(con, data, file_name=name, uploaded_by="eng", **kwargs) for data, name in files]
            return reports, self.read(con)
        finally:
            con.close()
            path.unlink()
