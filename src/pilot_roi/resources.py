"""Where the SQL lives: inside the wheel (pilot_roi/_sql) or, in a source checkout, at the repository root."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parents[1]


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of {[str(c) for c in candidates]} exists; is the package installed whole?")


@cache
def pipelines_dir() -> Path:
    """The `pipelines/` folder of DuckDB SQL models."""
    return _first_existing(_PACKAGE_DIR / "_sql" / "pipelines", _REPO_ROOT / "pipelines")


@cache
def migrations_dir() -> Path:
    """The `warehouse/migrations/` folder of ordered schema migrations."""
    return _first_existing(_PACKAGE_DIR / "_sql" / "migrations", _REPO_ROOT / "warehouse" / "migrations")


@cache
def read_sql(relative: str) -> str:
    """The text of `pipelines/<relative>`, e.g. `read_sql("registry/upsert_sites.sql")`."""
    return (pipelines_dir() / relative).read_text(encoding="utf-8")
