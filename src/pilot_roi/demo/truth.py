"""The true effects of the demo pilots: computed from the series actually generated, stored in `demo_truths`.

The truth of a treated site is the mean, over its observed periods from go-live on, of (value with the
pilot) - (value without it), both after shutdowns, clipping to the metric's bounds and rounding: exactly
the average effect on the treated an estimator should find, in metric units per site and period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl

from pilot_roi.resources import read_sql

KINDS = ("real", "null", "harmful")

TRUTH_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "pilot_code": pl.String,
    "metric_code": pl.String,
    "site_code": pl.String,
    "go_live": pl.Date,
    "kind": pl.String,
    "true_effect": pl.Float64,
    "true_effect_pct": pl.Float64,
    "n_post_periods": pl.Int32,
    "counterfactual_mean": pl.Float64,
    "design_pct": pl.Float64,
    "ramp_days": pl.Int32,
    "seed": pl.Int64,
}


@dataclass(frozen=True, slots=True)
class SeriesTruth:
    """The true effect on one treated series over its observed post-go-live periods.

    `effect` in metric units per period; `effect_pct` = 100 * effect / `counterfactual_mean` (the mean of
    the untreated values over the same periods); `n_post` the number of those periods.
    """

    effect: float
    effect_pct: float
    n_post: int
    counterfactual_mean: float


def series_truth(
    periods: np.ndarray, untreated: np.ndarray, treated: np.ndarray, observed: np.ndarray, go_live: date
) -> SeriesTruth:
    """The mean of treated - untreated over observed periods on or after `go_live` (arrays of equal length)."""
    post = observed & (periods >= np.datetime64(go_live, "D"))
    n_post = int(post.sum())
    if n_post == 0:
        return SeriesTruth(float("nan"), float("nan"), 0, float("nan"))
    effect = float(np.mean(treated[post] - untreated[post]))
    cf_mean = float(np.mean(untreated[post]))
    pct = 100.0 * effect / cf_mean if cf_mean != 0 else float("nan")
    return SeriesTruth(effect, pct, n_post, cf_mean)


def pilot_truths(truths: pl.DataFrame) -> pl.DataFrame:
    """The truth per (pilot, metric), pooled over treated site-periods (the simple ATT aggregation).

    Columns: pilot_code, metric_code, kind, true_effect (units per treated site-period), true_effect_pct,
    n_treated, n_post_periods.
    """
    return (
        truths.group_by("pilot_code", "metric_code", "kind")
        .agg(
            ((pl.col("true_effect") * pl.col("n_post_periods")).sum() / pl.col("n_post_periods").sum()).alias(
                "true_effect"
            ),
            (
                100.0
                * (pl.col("true_effect") * pl.col("n_post_periods")).sum()
                / (pl.col("counterfactual_mean") * pl.col("n_post_periods")).sum()
            ).alias("true_effect_pct"),
            pl.len().cast(pl.Int32).alias("n_treated"),
            pl.col("n_post_periods").sum().alias("n_post_periods"),
        )
        .sort("pilot_code", "metric_code")
    )


def write_truths(con: duckdb.DuckDBPyConnection, truths: pl.DataFrame) -> int:
    """Replace the contents of `demo_truths` with `truths` (call inside the build's transaction)."""
    con.execute(read_sql("demo/delete_truths.sql"))
    con.register("demo_truths_input", truths.to_arrow())
    try:
        con.execute(read_sql("demo/insert_truths.sql"))
    finally:
        con.unregister("demo_truths_input")
    return truths.height
