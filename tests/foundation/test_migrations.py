from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pilot_roi.errors import PilotRoiError
from pilot_roi.resources import migrations_dir
from pilot_roi.warehouse import connect, migrate, schema_version
from pilot_roi.warehouse.migrate import available_migrations

PUBLIC_VIEWS = {
    "observations": ["site_code", "metric_code", "period", "value", "upload_id"],
    "observation_history": ["site_code", "metric_code", "period", "value", "upload_id", "valid_from", "valid_to"],
    "uploads": None,
    "pilots": None,
    "pilot_sites": None,
    "estimates": [
        "pilot_code", "metric_code", "method", "effect", "effect_pct", "ci_low", "ci_high", "p_value", "q_value",
        "grade", "annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high", "npv_kzt", "roi",
        "payback_months", "run_id",
    ],
}  # fmt: skip


def _columns(con, name: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]


def test_fresh_warehouse_has_every_migration_and_the_public_views(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb", create=True)
    applied = migrate(con)
    shipped = available_migrations()
    assert applied == len(shipped)
    assert schema_version(con) == shipped[-1].version
    for view, columns in PUBLIC_VIEWS.items():
        found = _columns(con, view)
        if columns is not None:
            assert found[: len(columns)] == columns, view


def test_migrating_twice_is_a_no_op(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb", create=True)
    migrate(con)
    before = con.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version").fetchall()
    assert migrate(con) == 0
    after = con.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version").fetchall()
    assert before == after


def test_old_warehouse_upgrades_without_losing_rows(tmp_path: Path) -> None:
    old_set = tmp_path / "old_migrations"
    old_set.mkdir()
    for path in sorted(migrations_dir().glob("*.sql"))[:2]:
        shutil.copy(path, old_set / path.name)
    con = connect(tmp_path / "w.duckdb", create=True)
    assert migrate(con, folder=old_set) == 2
    con.execute("INSERT INTO subsidiaries (code, name_ru, name_kk, name_en) VALUES ('KMG', 'КМГ', 'ҚМГ', 'KMG')")
    con.execute("INSERT INTO observation_current VALUES ('S1', 'm', DATE '2025-01-01', 1.5, 1, TIMESTAMP '2025-01-02')")
    applied = migrate(con)
    assert applied == len(available_migrations()) - 2
    assert con.execute("SELECT name_kk FROM subsidiaries").fetchall() == [("ҚМГ",)]
    assert con.execute("SELECT site_code, value FROM observations").fetchall() == [("S1", 1.5)]


def test_an_edited_migration_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    con = connect(tmp_path / "w.duckdb", create=True)
    migrate(con, folder=folder)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(ValueError, match="append-only"):
        migrate(con, folder=folder)


def test_a_warehouse_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb", create=True)
    migrate(con)
    con.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')")
    with pytest.raises(PilotRoiError) as info:
        migrate(con, path_label="w.duckdb")
    assert "newer" in info.value.render("en")[0]


def test_a_second_writer_is_told_the_warehouse_is_busy(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "w.duckdb"
    connect(path, create=True).close()
    hold_lock = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", hold_lock], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        from pilot_roi.errors import WarehouseBusy

        with pytest.raises(WarehouseBusy) as info:
            connect(path)
        assert "busy" in info.value.render("en")[0]
        assert "занято" in info.value.render("ru")[0]
    finally:
        holder.kill()
        holder.wait()


def test_quality_summary_migration_fills_an_existing_warehouse(tmp_path: Path) -> None:
    from datetime import date, timedelta

    import numpy as np
    import polars as pl

    from quality_summary_check import assert_summary_matches_scan

    old_set = tmp_path / "old_migrations"
    old_set.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if not path.name.startswith("0008_"):
            shutil.copy(path, old_set / path.name)
    con = connect(tmp_path / "w.duckdb", create=True)
    migrate(con, folder=old_set)
    con.execute("INSERT INTO subsidiaries (code, name_ru, name_kk, name_en) VALUES ('KMG', 'КМГ', 'ҚМГ', 'KMG')")
    for site in ("S1", "S2"):
        con.execute("INSERT INTO sites (code, subsidiary_code, name_ru, name_kk, name_en) VALUES (?, 'KMG', ?, ?, ?)",
                    [site, site, site, site])  # fmt: skip
    for code, frequency in (("d", "daily"), ("w", "weekly"), ("m", "monthly")):
        con.execute(
            "INSERT INTO metrics (code, name_ru, name_kk, name_en, unit, frequency, aggregation, higher_is_better, "
            "value_kzt_per_unit) VALUES (?, ?, ?, ?, 'u', ?, 'sum', true, 1)",
            [code, code, code, code, frequency],
        )
    rng = np.random.default_rng(8)
    rows = [("S1", "d", date(2025, 1, 1) + timedelta(days=i), float(rng.normal(10, 1))) for i in range(70) if i % 9]
    rows.append(("S1", "d", date(2025, 3, 20), 90.0))  # an outlier
    rows += [("S2", "w", date(2024, 12, 30) + timedelta(weeks=i), float(rng.normal(5, 1))) for i in range(12) if i != 3]
    rows += [("S2", "m", date(2024, m, 1), float(m)) for m in (1, 2, 4, 7)]
    frame = pl.DataFrame(rows, schema=["site_code", "metric_code", "period", "value"], orient="row")
    con.register("old_rows", frame)
    con.execute(
        "INSERT INTO observation_current SELECT site_code, metric_code, period, value, 1, TIMESTAMP '2025-04-01' "
        "FROM old_rows"
    )
    assert migrate(con) == 1
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in ("quality_pair_summary",
              "quality_monthly_summary", "quality_outlier_flags")]  # fmt: skip
    assert counts == [(3,), (3 + 4 + 7,), (1,)]
    assert_summary_matches_scan(con)


def test_serving_upgrades_a_warehouse_made_by_an_earlier_version(tmp_path: Path) -> None:
    from pilot_roi.commands.serve import upgrade_warehouse

    old_set = tmp_path / "old_migrations"
    old_set.mkdir()
    newest = max(m.version for m in available_migrations())
    for path in sorted(migrations_dir().glob("*.sql")):
        if not path.name.startswith(f"{newest:04d}_"):
            shutil.copy(path, old_set / path.name)
    path = tmp_path / "w.duckdb"
    con = connect(path, create=True)
    migrate(con, folder=old_set)
    assert schema_version(con) < newest
    con.close()
    assert upgrade_warehouse(path) == 1
    con = connect(path, read_only=True)
    assert schema_version(con) == newest
    con.close()
    assert upgrade_warehouse(path) == 0
    with pytest.raises(PilotRoiError):
        upgrade_warehouse(tmp_path / "absent.duckdb")


def test_run_economic_inputs_migration_keeps_earlier_results_with_no_inputs(tmp_path: Path) -> None:
    old_set = tmp_path / "old_migrations"
    old_set.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if not path.name.startswith("0009_"):
            shutil.copy(path, old_set / path.name)
    con = connect(tmp_path / "w.duckdb", create=True)
    migrate(con, folder=old_set)
    con.execute("INSERT INTO estimate_runs (status, data_version, code_version, parameters, started_by) "
                "VALUES ('finished', 'd', 'c', '{}', 'test')")  # fmt: skip
    con.execute(
        "INSERT INTO estimate_results (run_id, pilot_code, metric_code, inputs_hash, status, grade, annual_gain_kzt, "
        "payback_months) VALUES (1, 'P', 'm', 'h', 'ok', 'promising', 1.5, 'inf')"
    )
    assert migrate(con) == 1
    inputs = "value_kzt_per_unit, higher_is_better, frequency, capex_kzt, opex_kzt_per_year"
    assert con.execute(f"SELECT annual_gain_kzt, payback_months, {inputs} FROM estimate_results").fetchall() == [
        (1.5, float("inf"), None, None, None, None, None)
    ]
    assert _columns(con, "estimates") == PUBLIC_VIEWS["estimates"]
    assert con.execute("SELECT pilot_code, annual_gain_kzt FROM estimates").fetchall() == [("P", 1.5)]
