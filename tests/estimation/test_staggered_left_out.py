"""A staggered DiD names the treated sites whose cohort it leaves out, and why (`diagnostics["excluded_treated"]`,
site -> reason, as the interrupted time series and the synthetic control do), instead of only counting them.

The panel: daily values from January to May 2024 at seven sites; S01 goes live on 1 March and S02 on 1 April (enough
history on both sides), S03 on 15 January (14 days before: fewer than the 28 a daily metric needs) and S04 on 28 May
(4 days after: fewer than 7); S05-S07 never go live.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from pilot_roi.estimation.api import estimate_effect
from pilot_roi.estimation.diagnostic_words import left_out
from pilot_roi.i18n import t

START = date(2024, 1, 1)
N_DAYS = 152  # January to May 2024
GO_LIVE = {"S01": date(2024, 3, 1), "S02": date(2024, 4, 1), "S03": date(2024, 1, 15), "S04": date(2024, 5, 28)}
USED = ("S01", "S02")
LEFT_OUT = {"S03": "insufficient_pre_periods", "S04": "insufficient_post_periods"}
SITES = (*GO_LIVE, "S05", "S06", "S07")


def panel(seed: int = 11) -> pl.DataFrame:
    """Daily values: a shared random walk, a level per site, noise, and a fall of 30 at each site from its go-live."""
    rng = np.random.default_rng(seed)
    days = [START + timedelta(days=i) for i in range(N_DAYS)]
    common = np.cumsum(rng.normal(0, 1.0, N_DAYS))
    frames = []
    for k, site in enumerate(SITES):
        live = GO_LIVE.get(site)
        value = 500.0 + 10.0 * k + common + rng.normal(0, 4.0, N_DAYS)
        if live is not None:
            value = value - 30.0 * np.array([d >= live for d in days])
        frames.append(
            pl.DataFrame(
                {"site_code": site, "period": days, "value": value, "go_live": live},
                schema_overrides={"go_live": pl.Date},
            )
        )
    return pl.concat(frames)


def estimate(frame: pl.DataFrame, method: str = "auto", **extra: Any) -> Any:
    return estimate_effect(frame, unit="site_code", time="period", outcome="value", first_treated="go_live",
                           method=method, frequency="daily", seed=5, **extra)  # fmt: skip


@pytest.fixture(scope="module")
def result() -> Any:
    return estimate(panel())


def test_the_staggered_estimate_names_the_treated_sites_it_left_out_and_why(result: Any) -> None:
    assert result.status == "ok", result.reason
    assert result.method == "staggered_did"  # the design chose it: four go-live dates
    assert result.diagnostics["excluded_treated"] == LEFT_OUT
    assert result.diagnostics["treated_sites"] == list(USED)
    assert result.diagnostics["excluded_sites"] == len(LEFT_OUT)  # the count it already gave, now with the names
    assert result.n_treated == len(USED)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_checks_in_words_name_the_sites_left_out(result: Any, lang: str) -> None:
    assert left_out(result.diagnostics, lang) == [t("dash.diag.left_out_treated", lang, sites="S03, S04")]


def test_the_sites_left_out_change_no_number(result: Any) -> None:
    """Without the two sites' rows at all the estimate is the same: naming them moved nothing."""
    without = estimate(panel().filter(pl.col("site_code").is_in(list(LEFT_OUT)).not_()), method="staggered_did")
    assert without.diagnostics["excluded_treated"] == {}
    numbers = ("att", "se", "ci_low", "ci_high", "p_value", "pre_trend_p")
    assert [getattr(result, n) for n in numbers] == [getattr(without, n) for n in numbers]


def test_an_estimate_left_with_no_cohort_names_every_site_it_left_out() -> None:
    """S01 has too little history and S02 too little after: no cohort is left, and the result says which and why."""
    frame = panel().with_columns(
        go_live=pl.when(pl.col("site_code") == "S01")
        .then(pl.lit(date(2024, 1, 10)))
        .when(pl.col("site_code") == "S02")
        .then(pl.lit(date(2024, 5, 27)))
        .otherwise(pl.col("go_live"))
    )
    # S03 keeps 14 days before its go-live: the design accepts the panel (one cohort has the history, another the
    # days after), the estimator finds no cohort with both
    frame = frame.filter(pl.col("site_code") != "S04")
    res = estimate(frame, method="staggered_did")
    assert res.status == "insufficient_data" and res.reason == "insufficient_pre_periods"
    assert res.diagnostics["excluded_treated"] == {
        "S01": "insufficient_pre_periods",
        "S02": "insufficient_post_periods",
        "S03": "insufficient_pre_periods",
    }
