"""Each estimator says which treated sites its estimate used (`diagnostics["treated_sites"]`), and the runner records
only those beside the result, each with its go-live, instead of every treated site of the pilot-metric: not one the
estimate left out for too little history (tests/reports/test_treated_used.py follows this through a real run into the
report). The panel is tests/runner/test_controls_reported.py's, with a third treated site T3 whose values start three
days before its go-live (an interrupted time series and a synthetic control leave it out: too few periods before).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_controls_reported import GO_LIVE, TREATED, panel

from pilot_roi.estimation.api import estimate_effect
from pilot_roi.runner.model import RunSites
from pilot_roi.runner.run import used_sites

SHORT = "T3"  # three days of history before its go-live


def with_short_site() -> pl.DataFrame:
    """The panel and T3: T1's values shifted by 7, from three days before go-live."""
    t1 = panel().filter(pl.col("site_code") == "T1")
    short = t1.with_columns(site_code=pl.lit(SHORT), value=pl.col("value") + 7.0)
    return pl.concat([panel(), short.filter(pl.col("period") >= GO_LIVE - timedelta(days=3))])


def estimate(frame: pl.DataFrame, method: str) -> Any:
    return estimate_effect(frame, unit="site_code", time="period", outcome="value", first_treated="go_live",
                           method=method, frequency="daily", seed=5)  # fmt: skip


@pytest.mark.parametrize("method", ["did", "staggered_did", "synthetic_control", "its"])
def test_every_estimator_says_which_treated_sites_it_used(method: str):
    result = estimate(panel(), method)
    assert result.status == "ok", result.reason
    assert result.diagnostics["treated_sites"] == list(TREATED)
    assert result.n_treated == len(TREATED)


@pytest.mark.parametrize("method", ["its", "synthetic_control"])
def test_a_treated_site_without_enough_history_is_not_among_the_treated_sites_used(method: str):
    result = estimate(with_short_site(), method)
    assert result.status == "ok", result.reason
    assert result.diagnostics["excluded_treated"] == {SHORT: "insufficient_pre_periods"}
    assert result.diagnostics["treated_sites"] == list(TREATED)
    assert result.n_treated == len(TREATED)


def test_the_numbers_do_not_depend_on_the_site_left_out():
    """The site left out changes no number: the estimate with it listed equals the estimate without it."""
    with_it = estimate(with_short_site(), "its")
    without = estimate(panel(), "its")
    assert (with_it.att, with_it.se, with_it.ci_low, with_it.ci_high) == (
        without.att,
        without.se,
        without.ci_low,
        without.ci_high,
    )


def test_no_estimate_says_no_treated_sites():
    short = panel().filter(pl.col("period") >= GO_LIVE - timedelta(days=3))  # three days of history: too few
    result = estimate(short, "its")
    assert result.status == "insufficient_data"
    assert "treated_sites" not in result.diagnostics  # nothing estimated: the runner keeps the sites offered


OFFERED = RunSites(
    (("T1", GO_LIVE), ("T2", GO_LIVE), (SHORT, GO_LIVE + timedelta(days=1))), ("C1", "C2"), "subsidiary_never_treated"
)


@pytest.mark.parametrize(
    ("diagnostics", "treated"),
    [
        # what the estimate reports, by code, each site keeping its go-live and its place
        ({"treated_sites": ["T2", "T1"]}, OFFERED.treated[:2]),
        ({"treated_sites": [SHORT]}, OFFERED.treated[2:]),
        # no estimate to say (the design stopped it first, or it failed): the treated sites it was offered
        ({"excluded_treated": {SHORT: "insufficient_pre_periods"}}, OFFERED.treated),
        ({}, OFFERED.treated),
    ],
)
def test_the_runner_records_the_treated_sites_the_estimate_reports(
    diagnostics: dict[str, Any], treated: tuple[tuple[str, Any], ...]
):
    assert used_sites(OFFERED, diagnostics) == RunSites(treated, OFFERED.controls, OFFERED.control_rule)
    both = used_sites(OFFERED, {**diagnostics, "control_sites": ["C2"]})
    assert both == RunSites(treated, ("C2",), OFFERED.control_rule)  # each side narrowed by its own report
    assert used_sites(None, diagnostics) is None  # a result carried forward from before runs recorded sites
