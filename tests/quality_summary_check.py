"""Shared check: the precomputed quality summary equals what scanning the observations gives.

The reference is the ingestion quality report (`quality_report`, which scans observation_current) and the
dashboard's former way of building its frames from it.
"""

from __future__ import annotations

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from pilot_roi import dashboard_queries as q
from pilot_roi.ingest.quality import quality_report
from pilot_roi.warehouse.quality_summary import STORED_Z

PAIR_COLUMNS = ["site_code", "metric_code", "frequency", "first_period", "last_period", "n_observed", "n_expected",
                "n_missing", "last_upload_id"]  # fmt: skip
# Floats: medians are exact; robust z divides by a MAD (or a mean absolute deviation, summed in parallel), so
# allow a few ulps.
RTOL = 1e-9


def _table(con: duckdb.DuckDBPyConnection, sql: str, order: list[str]) -> pl.DataFrame:
    return con.sql(sql).pl().sort(order)


def assert_summary_matches_scan(con: duckdb.DuckDBPyConnection) -> None:
    """Every summary table equals the scan over the current observations (registered sites only, as the scan)."""
    report = quality_report(con, z_threshold=STORED_Z)
    keys = ["site_code", "metric_code"]
    pairs = _table(
        con,
        "SELECT q.* FROM quality_pair_summary AS q SEMI JOIN sites AS s ON s.code = q.site_code",
        keys,
    ).select(PAIR_COLUMNS)
    assert_frame_equal(pairs, report.coverage.select(PAIR_COLUMNS).sort(keys), check_dtypes=False)
    monthly = _table(
        con,
        "SELECT q.* FROM quality_monthly_summary AS q SEMI JOIN sites AS s ON s.code = q.site_code",
        [*keys, "month"],
    )
    assert_frame_equal(monthly, report.monthly.select(monthly.columns).sort([*keys, "month"]), check_dtypes=False)
    flags = _table(
        con,
        "SELECT q.* FROM quality_outlier_flags AS q SEMI JOIN sites AS s ON s.code = q.site_code",
        [*keys, "period"],
    )
    expected = report.outliers.select(flags.columns).sort([*keys, "period"])
    assert_frame_equal(flags, expected, check_dtypes=False, rel_tol=RTOL)


def former_page_views(con: duckdb.DuckDBPyConnection, subsidiary: str | None, limit: int = 200) -> q.QualityViews:
    """The quality page's frames as the dashboard built them before the summary: from a scanning quality report."""
    report = quality_report(con, subsidiary_code=subsidiary, z_threshold=q.QUALITY_PAGE_Z)
    coverage = (
        report.monthly.group_by("site_code", "month")
        .agg((pl.col("n_observed") / pl.col("n_expected")).mean().alias("coverage"))
        .sort("site_code", "month")
    )
    missing = (
        report.coverage.filter(pl.col("n_missing") > 0)
        .select("site_code", "metric_code", "first_period", "last_period",
                pl.col("n_observed").alias("n_present"), "n_missing")
        .sort(["n_missing", "site_code", "metric_code"], descending=[True, False, False])
        .head(limit)
    )  # fmt: skip
    outliers = report.outliers.head(limit).select(
        "site_code", "metric_code", "period", "value", pl.col("median_value").alias("median"), "robust_z",
        pl.lit("robust_z").alias("reason"),
    )  # fmt: skip
    return q.QualityViews(coverage=coverage, missing=missing, outliers=outliers)


def assert_page_views_unchanged(con: duckdb.DuckDBPyConnection, subsidiary: str | None, limit: int = 200) -> None:
    """The page's frames from the summary equal the former scanning ones."""
    new, old = q.quality(con, subsidiary, limit), former_page_views(con, subsidiary, limit)
    for name in ("coverage", "missing", "outliers"):
        assert_frame_equal(getattr(new, name), getattr(old, name), check_dtypes=False, rel_tol=RTOL)
