"""A treated site that reports on one side of its own go-live only is left out, as a control that does is: its own
level absorbs everything it reports, so it measures nothing. Before, its missing side counted as the pilot's gaps and
refused the whole pilot (`too_many_gaps`, whichever method `auto` chose), although the other sites could be estimated.

The panel: daily values for 150 days at eight sites; S01-S03 go live on day 100 (S04 on day 120 in the staggered
case); S05-S08 never do. S03's export starts at its go-live (or stops before it, in the second case).
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
N_DAYS = 150
SITES = ("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08")


def panel(go_live: dict[str, int], seed: int = 3) -> pl.DataFrame:
    """A shared random walk, a level per site, noise, and a fall of 20 at each treated site from its go-live."""
    rng = np.random.default_rng(seed)
    days = [START + timedelta(days=i) for i in range(N_DAYS)]
    common = np.cumsum(rng.normal(0, 1.0, N_DAYS))
    frames = []
    for k, site in enumerate(SITES):
        live = go_live.get(site)
        value = 300.0 + 15.0 * k + common + rng.normal(0, 3.0, N_DAYS)
        if live is not None:
            value = value - 20.0 * (np.arange(N_DAYS) >= live)
        day = None if live is None else START + timedelta(days=live)
        columns = {"site_code": site, "period": days, "value": value, "go_live": day}
        frames.append(pl.DataFrame(columns, schema_overrides={"go_live": pl.Date}))
    return pl.concat(frames)


def estimate(frame: pl.DataFrame, method: str) -> Any:
    return estimate_effect(frame, unit="site_code", time="period", outcome="value", first_treated="go_live",
                           method=method, frequency="daily", seed=5)  # fmt: skip


def _day(i: int) -> date:
    return START + timedelta(days=i)


COMMON = {"S01": 100, "S02": 100, "S03": 100}
STAGGERED = {"S01": 100, "S02": 100, "S03": 100, "S04": 120}
CASES = {
    # S03 reports from its go-live on only / until ten days before it only
    "after_only": (COMMON, "did", pl.col("period") >= _day(100)),
    "before_only": (COMMON, "did", pl.col("period") < _day(90)),
    "staggered_after_only": (STAGGERED, "staggered_did", pl.col("period") >= _day(100)),
}


def _with_s03(full: pl.DataFrame, rows: pl.Expr) -> pl.DataFrame:
    return full.filter((pl.col("site_code") != "S03") | rows)


@pytest.mark.parametrize("case", list(CASES))
def test_a_treated_site_reporting_on_one_side_of_its_go_live_is_left_out_and_named(case: str) -> None:
    go_live, method, rows = CASES[case]
    full = panel(go_live)
    res = estimate(_with_s03(full, rows), method)
    assert res.status == "ok" and res.method == method
    assert res.diagnostics["design"]["excluded_idle_treated"] == ["S03"]
    assert "S03" not in res.diagnostics["treated_sites"]
    assert res.n_treated == len(go_live) - 1
    # its rows change nothing: the same numbers as without S03 at all
    without = estimate(full.filter(pl.col("site_code") != "S03"), method)
    assert (res.att, res.ci_low, res.ci_high) == (without.att, without.ci_low, without.ci_high)
    assert res.p_value == without.p_value
    for lang in ("ru", "kk", "en"):
        assert t("dash.diag.left_out_treated", lang, sites="S03") in left_out(res.diagnostics, lang)


def test_a_pilot_whose_only_treated_site_reports_after_go_live_only_has_no_pre_period() -> None:
    full = panel({"S03": 100})
    res = estimate(_with_s03(full, pl.col("period") >= _day(100)), "did")
    assert res.status == "insufficient_data" and res.reason == "insufficient_pre_periods"
    res = estimate(_with_s03(full, pl.col("period") < _day(90)), "did")
    assert res.status == "insufficient_data" and res.reason == "insufficient_post_periods"
