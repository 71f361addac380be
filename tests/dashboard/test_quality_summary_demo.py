"""On the demo warehouse, the quality page's frames from the precomputed summary equal the former scanning ones,
before and after a restatement that changes values and adds an outlier."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from pilot_roi.ingest import load_observations
from pilot_roi.warehouse import connect
from quality_summary_check import assert_page_views_unchanged, assert_summary_matches_scan


def test_summary_equals_scan_on_demo_and_after_restatement(demo_warehouse: Path) -> None:
    con = connect(demo_warehouse)
    try:
        subsidiaries = [row[0] for row in con.execute("SELECT code FROM subsidiaries ORDER BY code").fetchall()]
        assert con.execute("SELECT count(*) FROM quality_pair_summary").fetchall() != [(0,)]
        assert_summary_matches_scan(con)
        for subsidiary in (None, *subsidiaries):
            assert_page_views_unchanged(con, subsidiary)

        site, metric = con.execute(
            "SELECT site_code, metric_code FROM quality_pair_summary ORDER BY n_observed DESC, site_code LIMIT 1"
        ).fetchall()[0]
        series = con.sql(
            "SELECT site_code, metric_code, period, value FROM observation_current "
            "WHERE site_code = $site AND metric_code = $metric ORDER BY period",
            params={"site": site, "metric": metric},
        ).pl()
        spike = series["period"][series.height // 2]
        restated = series.with_columns(
            pl.when(pl.col("period") == spike)
            .then(pl.col("value").median() * 50 + 1000)
            .when(pl.col("period") < date(2025, 1, 1))
            .then(pl.col("value") * 1.02)
            .otherwise(pl.col("value"))
            .alias("value")
        )
        report = load_observations(con, restated, file_name="restate.csv", uploaded_by="admin")
        assert report.status == "loaded" and report.rows_updated > 0
        flagged = con.execute(
            "SELECT count(*) FROM quality_outlier_flags WHERE site_code = ? AND metric_code = ? AND period = ?",
            [site, metric, spike],
        ).fetchall()
        assert flagged == [(1,)]
        assert_summary_matches_scan(con)
        for subsidiary in (None, *subsidiaries):
            assert_page_views_unchanged(con, subsidiary)
    finally:
        con.close()
