"""Quality report: missing periods, robust outliers (flagged, not rejected), last upload per site x metric."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from pilot_roi.ingest import load_observations
from pilot_roi.ingest.quality import quality_report


def test_quality_report(reg_con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(11)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(60)]
    gaps = {days[10], days[11], days[40]}
    values = rng.normal(100.0, 5.0, len(days))
    values[25] = 400.0  # 60 standard deviations out: must be flagged
    daily = [("KMG-ANPZ", "energy_gj", d, float(v)) for d, v in zip(days, values, strict=True) if d not in gaps]
    months = [date(2025, m, 1) for m in (1, 2, 4, 5)]  # March is missing
    monthly = [("KMG-PNHZ", "output_t", d, 10.0 + i) for i, d in enumerate(months)]
    frame = pl.DataFrame(daily + monthly, schema=["site_code", "metric_code", "period", "value"], orient="row")
    first = load_observations(reg_con, frame, file_name="first.csv", uploaded_by="eng")
    restated = frame.filter(pl.col("metric_code") == "output_t").with_columns(pl.col("value") + 1)
    second = load_observations(reg_con, restated, file_name="second.csv", uploaded_by="eng2")

    report = quality_report(reg_con)
    coverage = {(r["site_code"], r["metric_code"]): r for r in report.coverage.iter_rows(named=True)}
    energy, output = coverage[("KMG-ANPZ", "energy_gj")], coverage[("KMG-PNHZ", "output_t")]
    assert (energy["n_expected"], energy["n_observed"], energy["n_missing"]) == (60, 57, 3)
    assert (output["n_expected"], output["n_missing"]) == (5, 1)
    assert energy["last_upload_id"] == first.upload_id and energy["last_file_name"] == "first.csv"
    assert output["last_upload_id"] == second.upload_id and output["last_uploaded_by"] == "eng2"
    assert sorted(report.missing.filter(pl.col("metric_code") == "energy_gj")["period"].to_list()) == sorted(gaps)
    assert report.missing.filter(pl.col("metric_code") == "output_t")["period"].to_list() == [date(2025, 3, 1)]
    monthly = {
        (r["metric_code"], r["month"]): (r["n_expected"], r["n_observed"]) for r in report.monthly.iter_rows(named=True)
    }
    # 60 days from 1 January: January 31 (2 gaps), February 28 (1 gap), 1 March; output_t has no March value.
    assert monthly[("energy_gj", date(2025, 1, 1))] == (31, 29)
    assert monthly[("energy_gj", date(2025, 2, 1))] == (28, 27)
    assert monthly[("energy_gj", date(2025, 3, 1))] == (1, 1)
    assert monthly[("output_t", date(2025, 3, 1))] == (1, 0)
    assert report.monthly["n_observed"].sum() == energy["n_observed"] + output["n_observed"]
    flagged = report.outliers.filter(pl.col("metric_code") == "energy_gj")
    assert flagged["period"].to_list() == [days[25]]
    assert flagged["robust_z"][0] > 10
    # Normal noise: with 57 N(100, 5) draws, P(|z| > 3.5) per point is ~5e-4, so no other point is flagged.
    assert report.outliers.height == 1

    one_site = quality_report(reg_con, site_code="KMG-PNHZ")
    assert one_site.coverage["site_code"].to_list() == ["KMG-PNHZ"] and one_site.outliers.is_empty()
