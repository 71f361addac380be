"""Ordered, recorded, append-only schema migrations (warehouse/migrations/NNNN_name.sql)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pilot_roi.errors import PilotRoiError, Problem
from pilot_roi.resources import migrations_dir
from pilot_roi.warehouse.connection import transaction

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its number, name, SQL text and the SHA-256 of that text."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL text; an applied migration must never change."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def available_migrations(folder: Path | None = None) -> list[Migration]:
    """Every migration in `folder` (default: the shipped ones), in version order."""
    folder = folder or migrations_dir()
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name {path.name!r} is not NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migrations share a number in {folder}")
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration, 0 for an empty warehouse."""
    # fetchall: a result left unfinished would block the connection's next query (DuckDB 2)
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()
    if not exists or not exists[0][0]:
        return 0
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection, *, folder: Path | None = None, path_label: str = "") -> int:
    """Apply every migration not yet recorded, each in its own transaction. Returns how many were applied.

    Refuses a warehouse made by a newer version, and an applied migration whose file has since changed.
    """
    migrations = available_migrations(folder)
    con.execute(_LEDGER)
    applied = {
        int(v): checksum for v, checksum in con.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    }
    known = {m.version for m in migrations}
    newer = [v for v in applied if v not in known and v > max(known, default=0)]
    if newer:
        raise PilotRoiError([Problem("warehouse.too_new", params={"path": path_label, "version": max(newer)})])
    for migration in migrations:
        if migration.version in applied and applied[migration.version] != migration.checksum:
            raise ValueError(
                f"migration {migration.version:04d}_{migration.name} was edited after it was applied; "
                "migrations are append-only: add a new one instead"
            )
    count = 0
    for migration in migrations:
        if migration.version in applied:
            continue
        with transaction(con):
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                [migration.version, migration.name, migration.checksum],
            )
        count += 1
    return count


def require_current_schema(con: duckdb.DuckDBPyConnection, path_label: str = "") -> None:
    """Refuse a warehouse opened read-only whose schema lacks a shipped migration: it cannot be upgraded
    here, and the SQL of this version would read tables it does not have (and one made by a newer version)."""
    shipped = max((m.version for m in available_migrations()), default=0)
    version = schema_version(con)
    if version > shipped:
        raise PilotRoiError([Problem("warehouse.too_new", params={"path": path_label, "version": version})])
    if version < shipped:
        raise PilotRoiError([Problem("warehouse.needs_upgrade", params={"path": path_label})])
