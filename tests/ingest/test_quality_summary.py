"""The precomputed quality summary follows every load, restatement and registry frequency change exactly."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from pilot_roi.errors import InvalidInput
from pilot_roi.ingest import load_observations
from pilot_roi.registry import load_registry_file
from pilot_roi.warehouse.quality_summary import refresh_quality_summary
from quality_summary_check import assert_page_views_unchanged, assert_summary_matches_scan

SUMMARY_TABLES = ("quality_pair_summary", "quality_monthly_summary", "quality_outlier_flags")


def _observations(seed: int = 5) -> pl.DataFrame:
    """Every frequency of the test registry, with gaps and noise (one clear outlier in the daily series)."""
    rng = np.random.default_rng(seed)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(90) if i not in (10, 11, 40, 41, 42)]
    daily = [("KMG-ANPZ", "energy_gj", d, float(100 + rng.normal(0, 5))) for d in days]
    daily += [("KTZ-DEPOT1", "energy_gj", d, float(50 + rng.normal(0, 2))) for d in days[5:70]]
    daily[30] = ("KMG-ANPZ", "energy_gj", daily[30][2], 400.0)
    mondays = [date(2024, 12, 30) + timedelta(weeks=w) for w in range(20) if w != 7]
    weekly = [("KMG-PNHZ", "power_kwh", d, float(1000 + rng.normal(0, 30))) for d in mondays]
    monthly = [("KMG-PNHZ", "output_t", date(2024, m, 1), 10.0 + m) for m in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11)]
    quarterly = [("KTZ-DEPOT1", "uptime_pct", date(2023 + i // 4, 1 + 3 * (i % 4), 1), 90.0 + i) for i in range(9)]
    rows = daily + weekly + monthly + quarterly
    return pl.DataFrame(rows, schema=["site_code", "metric_code", "period", "value"], orient="row")


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """The summary tables' rows, floats to 9 decimals (a mean absolute deviation is summed in parallel)."""
    return {
        name: sorted(
            tuple(round(v, 9) if isinstance(v, float) else v for v in row)
            for row in con.execute(f"SELECT * FROM {name}").fetchall()
        )
        for name in SUMMARY_TABLES
    }


def test_summary_follows_upload_and_restatement(reg_con: duckdb.DuckDBPyConnection) -> None:
    frame = _observations()
    first = load_observations(reg_con, frame, file_name="first.csv", uploaded_by="eng")
    assert first.status == "loaded"
    assert_summary_matches_scan(reg_con)
    flagged = reg_con.execute("SELECT site_code, period FROM quality_outlier_flags").fetchall()
    assert ("KMG-ANPZ", date(2025, 2, 2)) in flagged

    # Restate: change values, add a new outlier, fill a gap and extend a series; one pair is left alone.
    restated = frame.filter(pl.col("metric_code").is_in(["energy_gj", "output_t"])).with_columns(
        pl.when(pl.col("period") == date(2025, 2, 20)).then(900.0).otherwise(pl.col("value") * 1.01).alias("value")
    )
    extra = pl.DataFrame(
        [("KMG-ANPZ", "energy_gj", date(2025, 1, 11), 101.0), ("KMG-PNHZ", "output_t", date(2024, 12, 1), 30.0)],
        schema=frame.schema,
        orient="row",
    )
    before_weekly = reg_con.execute("SELECT * FROM quality_pair_summary WHERE metric_code = 'power_kwh'").fetchall()
    second = load_observations(reg_con, pl.concat([restated, extra]), file_name="second.csv", uploaded_by="eng2")
    assert second.status == "loaded" and second.rows_updated > 0 and second.rows_inserted == 2
    assert_summary_matches_scan(reg_con)
    assert ("KMG-ANPZ", date(2025, 2, 20)) in reg_con.execute(
        "SELECT site_code, period FROM quality_outlier_flags"
    ).fetchall()
    last = reg_con.execute(
        "SELECT DISTINCT last_upload_id FROM quality_pair_summary WHERE metric_code IN ('energy_gj', 'output_t')"
    ).fetchall()
    assert last == [(second.upload_id,)]
    untouched = reg_con.execute("SELECT * FROM quality_pair_summary WHERE metric_code = 'power_kwh'").fetchall()
    assert untouched == before_weekly
    for subsidiary in (None, "KMG", "KTZ"):
        assert_page_views_unchanged(reg_con, subsidiary)


def test_rejected_upload_leaves_summary_unchanged(reg_con: duckdb.DuckDBPyConnection) -> None:
    load_observations(reg_con, _observations(), file_name="first.csv", uploaded_by="eng")
    before = _snapshot(reg_con)
    bad = pl.DataFrame(
        [("KMG-ANPZ", "energy_gj", date(2025, 1, 2), 5000.0), ("NOPE", "energy_gj", date(2025, 1, 2), 1.0)],
        schema=["site_code", "metric_code", "period", "value"],
        orient="row",
    )
    report = load_observations(reg_con, bad, file_name="bad.csv", uploaded_by="eng")
    assert report.status == "rejected"
    unchanged = load_observations(reg_con, _observations(), file_name="again.csv", uploaded_by="eng")
    assert unchanged.status == "unchanged"
    assert _snapshot(reg_con) == before


def test_frequency_change_recounts_the_metric(
    reg_con: duckdb.DuckDBPyConnection, registry_warehouse: Path, tmp_path: Path
) -> None:
    load_observations(reg_con, _observations(), file_name="first.csv", uploaded_by="eng")
    registry = tmp_path / "registry.yaml"
    # output_t becomes quarterly: its monthly values stay, its expected periods change.
    original = (registry_warehouse.parent / "registry.yaml").read_text(encoding="utf-8")
    text = original.replace("unit: t, frequency: monthly", "unit: t, frequency: quarterly")
    assert text != original
    registry.write_text(text, encoding="utf-8")
    # a registry load refuses it now (the stored monthly values would be read as quarters) and changes nothing
    with pytest.raises(InvalidInput):
        load_registry_file(reg_con, registry)
    row = reg_con.execute("SELECT frequency FROM quality_pair_summary WHERE metric_code = 'output_t'").fetchone()
    assert row == ("monthly",)
    # a warehouse changed before that rule (or by hand) is recounted by the stale-frequency refresh
    reg_con.execute("UPDATE metrics SET frequency = 'quarterly' WHERE code = 'output_t'")
    assert refresh_quality_summary(reg_con, "stale_frequency") >= 1
    row = reg_con.execute("SELECT frequency FROM quality_pair_summary WHERE metric_code = 'output_t'").fetchone()
    assert row == ("quarterly",)
    assert_summary_matches_scan(reg_con)


def test_full_rebuild_is_idempotent(reg_con: duckdb.DuckDBPyConnection) -> None:
    load_observations(reg_con, _observations(), file_name="first.csv", uploaded_by="eng")
    before = _snapshot(reg_con)
    assert refresh_quality_summary(reg_con, "all") == 5
    assert _snapshot(reg_con) == before


def test_restatement_that_cannot_move_median_or_mad_rescores_only_its_values(
    reg_con: duckdb.DuckDBPyConnection, caplog: pytest.LogCaptureFixture
) -> None:
    frame = _observations()
    load_observations(reg_con, frame, file_name="first.csv", uploaded_by="eng")
    anpz = frame.filter(pl.col("site_code") == "KMG-ANPZ").sort("value")
    depot = frame.filter((pl.col("site_code") == "KTZ-DEPOT1") & (pl.col("metric_code") == "energy_gj")).sort("value")
    # The second largest ANPZ value grows into an outlier and the smallest DEPOT1 value shrinks a little: each stays
    # on its side of the median and of the MAD, so neither pair's median or MAD moves.
    restated = pl.concat([anpz[-2].with_columns(pl.col("value") * 10), depot[0].with_columns(pl.col("value") - 0.5)])
    with caplog.at_level(logging.DEBUG, logger="pilot_roi.warehouse.quality_summary"):
        report = load_observations(reg_con, restated, file_name="stable.csv", uploaded_by="eng2")
    assert report.status == "loaded" and report.rows_updated == 2
    assert "0 pairs recounted, 2 only re-scored" in caplog.text
    assert_summary_matches_scan(reg_con)
    flagged = reg_con.execute("SELECT period, upload_id FROM quality_outlier_flags WHERE site_code = 'KMG-ANPZ'")
    assert (anpz["period"][-2], report.upload_id) in flagged.fetchall()
