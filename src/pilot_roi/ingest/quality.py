"""The data quality report per site and metric: coverage and missing periods, robust outliers, last upload."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pilot_roi.resources import read_sql


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Quality of the current observations.

    coverage: one row per site x metric: site_code, metric_code, frequency, first_period, last_period,
        n_observed, n_expected (periods at the metric's frequency from first to last), n_missing,
        last_upload_id, last_uploaded_at, last_file_name, last_uploaded_by (the latest upload whose values are
        current for the pair).
    monthly: one row per site x metric x calendar month with an expected period: site_code, metric_code, month,
        n_expected, n_observed (coverage over time).
    missing: one row per missing period: site_code, metric_code, period.
    outliers: flagged values (|robust z| > threshold, series of at least `min_points`): site_code, metric_code,
        period, value, median_value, mad (metric units), robust_z (unitless), upload_id. Flagged, never rejected.
    """

    coverage: pl.DataFrame
    monthly: pl.DataFrame
    missing: pl.DataFrame
    outliers: pl.DataFrame


def quality_report(
    con: duckdb.DuckDBPyConnection,
    *,
    site_code: str | None = None,
    metric_code: str | None = None,
    subsidiary_code: str | None = None,
    z_threshold: float = 3.5,
    min_points: int = 8,
) -> QualityReport:
    """The quality report for the current observations, optionally for one site, metric or subsidiary.

    Works on a read-only connection (it creates only a temporary view).
    """
    filters = {"site_code": site_code, "metric_code": metric_code, "subsidiary_code": subsidiary_code}
    con.execute(read_sql("marts/quality_expected_periods.sql"), filters)
    coverage = con.sql(read_sql("marts/quality_coverage.sql")).pl()
    monthly = con.sql(read_sql("marts/quality_coverage_monthly.sql")).pl()
    missing = con.sql(read_sql("marts/quality_missing_periods.sql")).pl()
    outliers = con.sql(
        read_sql("marts/quality_outliers.sql"), params={**filters, "z_threshold": z_threshold, "min_points": min_points}
    ).pl()
    return QualityReport(coverage=coverage, monthly=monthly, missing=missing, outliers=outliers)
