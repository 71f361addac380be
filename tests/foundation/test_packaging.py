"""A non-editable install carries the SQL and the Dash app; the installed CLI finds its migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
         str(REPO_ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next(out.glob("pilot_roi-*.whl"))


def test_the_wheel_carries_sql_migrations_and_dashboards(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_migrations = {p.name for p in (REPO_ROOT / "warehouse" / "migrations").glob("*.sql")}
    assert {f"pilot_roi/_sql/migrations/{n}" for n in shipped_migrations} <= names
    assert "pilot_roi/_sql/pipelines/registry/upsert_site.sql" in names
    assert "dashboards/__init__.py" in names
    assert any(n.startswith("pilot_roi/i18n/messages/") for n in names)


def test_the_installed_package_runs_from_anywhere(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(target))
    code = "import pilot_roi, pilot_roi.resources as r; print(pilot_roi.__file__); print(r.migrations_dir())"
    shown = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert str(target) in shown.stdout.splitlines()[0]
    assert str(target) in shown.stdout.splitlines()[1]
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", "init", "--warehouse", str(tmp_path / "w.duckdb")],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
