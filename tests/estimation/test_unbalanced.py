"""Unbalanced daily panels (a few % of site-days missing at random, export gaps): the estimators use every
observed cell, stay exact as linear maps, and their intervals keep their coverage.

Coverage tolerances: with n replications and true coverage 95%, misses are Binomial(n, 0.05); the bounds
below are beyond its 99.5% quantile, so a correct method fails them with < 0.5% probability. Seeds are
fixed, so the tests are deterministic. (bench/validation/run.py has the large version of these designs.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest
from dgp import Scenario, simulate

from pilot_roi.estimation.api import estimate_effect, estimate_panel
from pilot_roi.estimation.inference import LinearWeights, control_residuals, nan_mean, nan_var, placebo_variance
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.staggered import aggregate, aggregate_patterns, estimate_staggered_did, group_time_effects

OPTS = EstimationOptions(diagnostics=False, robustness=False, detail=False)
STAGGERED = Scenario("s", 3, 6, n_pre=90, n_post=60, n_cohorts=3, cohort_gap=10, effect=-4.0, missing=0.05)


@pytest.fixture(scope="module")
def staggered_gaps():
    return simulate(STAGGERED, np.random.default_rng(11))


def test_staggered_did_with_missing_days_is_estimated_not_no_controls(staggered_gaps) -> None:
    # Regression: a pre-period-mean base used to need every pre-period observed, so with a few % of days
    # missing at random no site had a base and the result was insufficient_data / no_controls.
    panel, truth = staggered_gaps
    assert panel.n_obs < panel.n_units * panel.n_times  # unbalanced indeed
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = estimate_staggered_did(panel)
    assert res.ok, (res.status, res.reason)
    assert math.isfinite(res.att) and math.isfinite(res.se) and res.se > 0
    assert res.n_treated == 3
    assert abs(res.att - truth) < 4 * res.se
    assert res.group_time.height > 0 and res.event_study.height > 0


def test_staggered_did_with_missing_days_through_estimate_effect(staggered_gaps) -> None:
    # The same through the public API on a long frame (as the runner passes it), "auto" method.
    panel, _ = staggered_gaps
    frame = pl.DataFrame(
        {
            "site": panel.unit_idx,
            "day": panel.time_labels[panel.time_idx].astype("datetime64[D]"),
            "y": panel.y,
        }
    )
    go = panel.time_labels[np.maximum(panel.first_treated, 0)].astype("datetime64[D]")
    lookup = pl.DataFrame({"site": np.arange(panel.n_units), "go": go, "is_treated": panel.first_treated >= 0})
    frame = frame.join(lookup, on="site").with_columns(
        pl.when(pl.col("is_treated")).then(pl.col("go")).otherwise(None).cast(pl.Date).alias("go_live")
    )
    res = estimate_effect(frame, unit="site", time="day", outcome="y", first_treated="go_live", method="auto")
    assert res.ok and res.method == "staggered_did"
    assert res.ci_low < res.att < res.ci_high


@pytest.mark.parametrize("base", ["pre_mean", "varying", "universal"])
@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("kind", ["simple", "dynamic", "group"])
def test_site_weights_reproduce_every_aggregate_on_unbalanced_panels(
    staggered_gaps, base: str, control_group: str, kind: str
) -> None:
    # The placebo variance needs θ = Σ_u W_u · y_u exactly; with missing days each site has its own W_u.
    panel, _ = staggered_gaps
    cohorts = np.unique(panel.first_treated[panel.first_treated > 0])
    gt = group_time_effects(panel.wide(), panel.first_treated, cohorts, base=base, control_group=control_group)
    agg = aggregate(gt, kind, width=7)
    weights = aggregate_patterns(gt, agg.cell_weights)
    np.testing.assert_allclose(weights.apply(panel.wide()), agg.estimate, atol=1e-9)


def test_pre_mean_base_puts_back_the_period_effects_of_missed_days() -> None:
    # y = site level + a large common period effect (amplitude 50) + nothing else, 20% of cells missing:
    # every ATT(g, t) should be ~0. A plain mean over each site's observed pre-period days leaks the period
    # effects of the days it happens to miss (rms ≈ 4 here); the pool-adjusted base removes them up to a
    # second-order remainder (the pool sites' own means over different days).
    rng = np.random.default_rng(5)
    n_units, n_times = 8, 60
    y = rng.normal(0, 10, n_units)[:, None] + 50 * np.sin(np.arange(n_times) / 3.0)[None, :]
    y[rng.random(y.shape) < 0.2] = np.nan
    unit_group = np.array([20, 20, 35, -1, -1, -1, -1, -1])
    plain = []
    for g in (20, 35):
        d = y - nan_mean(y[:, :g], axis=1)[:, None]
        for t in range(n_times):
            tr, co = (unit_group == g) & np.isfinite(d[:, t]), (unit_group < 0) & np.isfinite(d[:, t])
            if tr.any() and co.any():
                plain.append(d[tr, t].mean() - d[co, t].mean())
    plain_rms = float(np.sqrt(np.mean(np.square(plain))))
    for control_group in ("never_treated", "not_yet_treated"):
        gt = group_time_effects(y, unit_group, np.array([20, 35]), base="pre_mean", control_group=control_group)
        assert gt.att.size > 0
        assert float(np.sqrt(np.mean(gt.att**2))) < 0.1 * plain_rms
        assert float(np.max(np.abs(gt.att))) < 0.03 * 50
    # balanced: exactly 0
    full = rng.normal(0, 10, n_units)[:, None] + 50 * np.sin(np.arange(n_times) / 3.0)[None, :]
    gt = group_time_effects(full, unit_group, np.array([20, 35]), base="pre_mean")
    np.testing.assert_allclose(gt.att, 0.0, atol=1e-9)


def test_unbalanced_influence_function_matches_the_sampling_spread() -> None:
    # Many treated sites, analytic influence-function SE vs the spread of the estimate over replications.
    s = Scenario("if", 16, 24, n_pre=40, n_post=30, n_cohorts=2, cohort_gap=10, effect=2.0, missing=0.05)
    atts, ses = [], []
    for r in range(60):
        panel, truth = simulate(s, np.random.default_rng([77, r]))
        res = estimate_panel(panel, "staggered_did", OPTS)
        assert "influence function" in res.inference
        atts.append(res.att - truth)
        ses.append(res.se)
    ratio = float(np.mean(ses) / np.std(atts, ddof=1))
    assert 0.75 < ratio < 1.3  # the sd of the sd estimate over 60 replications is ~9%


@pytest.mark.parametrize(
    ("scenario", "method"),
    [
        (
            Scenario("stag", 3, 12, n_pre=90, n_post=45, n_cohorts=3, cohort_gap=10, effect=5.0, missing=0.05),
            "staggered_did",
        ),
        (
            Scenario("gap", 3, 12, n_pre=90, n_post=45, n_cohorts=3, cohort_gap=10, missing=0.04, gap_days=8),
            "staggered_did",
        ),
        (Scenario("did", 2, 12, n_pre=90, n_post=45, effect=5.0, missing=0.05), "did"),
    ],
    ids=["staggered-5pct", "staggered-gaps", "did-5pct"],
)
def test_coverage_with_missing_days(scenario: Scenario, method: str) -> None:
    # 80 replications: misses ~ Binomial(80, 0.05), 99.5% quantile 10; a placebo variance that ignored the
    # missing cells under-covers only mildly at 5% (≈ 0.93 in the 1000-replication bench), so this guards
    # against gross failures (no estimate, wrong weights), not that one.
    covered, errors = [], []
    for r in range(80):
        panel, truth = simulate(scenario, np.random.default_rng([2024, r]))
        res = estimate_panel(panel, method, OPTS)
        assert res.ok, (res.status, res.reason)
        covered.append(res.ci_low <= truth <= res.ci_high)
        errors.append(res.att - truth)
    assert np.sum(~np.array(covered)) <= 10
    err = np.array(errors)
    assert abs(err.mean()) < 3.5 * err.std(ddof=1) / math.sqrt(err.size)


def test_placebo_variance_rescales_for_missing_control_cells() -> None:
    # White noise, 30 controls with 20% of cells missing: Σ̂ from the residuals must stay unbiased for the
    # variance of a site's after-minus-before contrast over 2 × 20 days (σ² (1/20 + 1/20) = 0.1), which
    # zero-filled residuals understate.
    rng = np.random.default_rng(9)
    n0, n_times = 30, 40
    weights_dense = np.concatenate([np.full(20, -1 / 20), np.full(20, 1 / 20)]).reshape(1, 1, n_times)
    w = LinearWeights(patterns=weights_dense, unit_pattern=np.zeros(1, np.int64))
    fixed, zero_filled = [], []
    for _ in range(200):
        y = rng.normal(0, 1, (n0, n_times))
        y[rng.random(y.shape) < 0.2] = np.nan
        controls = np.ones(n0, bool)
        e = control_residuals(y, controls)
        fixed.append(placebo_variance(w, e, np.isfinite(y))[0, 0])
        zero_filled.append(placebo_variance(w, e)[0, 0])
    assert np.mean(fixed) == pytest.approx(0.1, rel=0.05)
    assert np.mean(zero_filled) < 0.09


def test_nan_helpers_handle_empty_slices_without_warnings() -> None:
    a = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(nan_mean(a, axis=0), [1.0, np.nan, 4.0])
        np.testing.assert_allclose(nan_var(a, axis=0), [np.nan, np.nan, 2.0])
        assert math.isnan(float(nan_mean(np.full(3, np.nan))))
