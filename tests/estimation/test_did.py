from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from dgp import Scenario, simulate

from pilot_roi.estimation.did import demean, estimate_did, fit_twfe, treatment_dummy
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import from_arrays


def _unbalanced(seed: int = 3, n: int = 12, t: int = 15, drop: float = 0.15):
    rng = np.random.default_rng(seed)
    units, times = np.meshgrid(np.arange(n), np.arange(t), indexing="ij")
    keep = rng.random(n * t) > drop
    ft = np.where(np.arange(n) < 4, 8, -1)
    y = rng.normal(size=n * t) + units.ravel() * 0.3 + np.sin(times.ravel())
    y = y + 0.7 * ((ft[units.ravel()] >= 0) & (times.ravel() >= 8))
    return from_arrays(units.ravel()[keep], times.ravel()[keep], y[keep], ft)


def test_balanced_demeaning_is_the_textbook_formula() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 7))
    u, t = np.meshgrid(np.arange(5), np.arange(7), indexing="ij")
    out = demean(y.ravel(), u.ravel(), t.ravel(), 5, 7).reshape(5, 7)
    expected = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_unbalanced_twfe_equals_dummy_regression_in_statsmodels() -> None:
    # Reference: OLS with explicit site and period dummies, cluster-robust by site (statsmodels applies
    # G/(G-1) (N-1)/(N-K) with K = every column: our ssc="full" convention).
    p = _unbalanced()
    d = treatment_dummy(p)
    fit = fit_twfe(p.y, d, p.unit_idx, p.time_idx, p.n_units, p.n_times, ssc="full")
    frame = pd.DataFrame({"u": p.unit_idx, "t": p.time_idx})
    x = pd.get_dummies(frame.astype(str), drop_first=True).astype(float)
    x.insert(0, "d", d)
    ref = sm.OLS(p.y, sm.add_constant(x)).fit(cov_type="cluster", cov_kwds={"groups": p.unit_idx})
    assert fit.coef[0] == pytest.approx(ref.params["d"], abs=1e-9)
    assert fit.se[0] == pytest.approx(ref.bse["d"], rel=1e-8)


def test_twfe_matches_pyfixest_on_an_unbalanced_panel() -> None:
    # pyfixest: β to 1e-6; SE to 1e-6 under both named conventions: our default ssc="nested" is
    # pyfixest's default (period effects counted, site effects nested in the site clusters not), and
    # ssc="full" is pyfixest's ssc(k_fixef="full").
    pf = pytest.importorskip("pyfixest")
    p = _unbalanced(seed=11, n=30, t=40)
    d = treatment_dummy(p)
    nested = fit_twfe(p.y, d, p.unit_idx, p.time_idx, p.n_units, p.n_times)
    full = fit_twfe(p.y, d, p.unit_idx, p.time_idx, p.n_units, p.n_times, ssc="full")
    df = pd.DataFrame({"y": p.y, "d": d, "u": p.unit_idx, "t": p.time_idx})
    ref_full = pf.feols("y ~ d | u + t", data=df, vcov={"CRV1": "u"}, ssc=pf.ssc(k_fixef="full"))
    ref_default = pf.feols("y ~ d | u + t", data=df, vcov={"CRV1": "u"})
    assert nested.coef[0] == pytest.approx(float(ref_default.coef().iloc[0]), abs=1e-6)
    assert nested.se[0] == pytest.approx(float(ref_default.se().iloc[0]), rel=1e-6)
    assert full.se[0] == pytest.approx(float(ref_full.se().iloc[0]), rel=1e-6)


def test_did_result_on_a_simulated_pilot() -> None:
    panel, truth = simulate(Scenario("t", 2, 12, n_pre=90, n_post=45, effect=6.0), np.random.default_rng(5))
    res = estimate_did(panel, EstimationOptions())
    assert res.ok and res.method == "did"
    assert res.ci_low < res.att < res.ci_high
    assert abs(res.att - truth) < 4 * res.se
    assert "placebo variance" in res.inference
    assert res.event_study.height > 0 and res.pre_trend_p is not None and 0 <= res.pre_trend_p <= 1
    cf = res.counterfactual
    assert cf is not None and cf.columns == ["time", "observed", "counterfactual", "ci_low", "ci_high"]
    post = cf.filter(cf["time"] >= cf["time"][90])
    gap = (post["observed"] - post["counterfactual"]).mean()
    assert gap == pytest.approx(res.att, abs=1e-9)  # balanced, common timing: the path averages to β
    assert res.att_pct == pytest.approx(100 * res.att / res.diagnostics["counterfactual_mean_post"])
    assert 0 <= res.diagnostics["randomization_p_value"] <= 1


def test_staggered_go_lives_are_refused_by_plain_did() -> None:
    panel, _ = simulate(Scenario("s", 3, 10, n_pre=60, n_post=30, n_cohorts=3), np.random.default_rng(1))
    res = estimate_did(panel)
    assert res.status == "insufficient_data" and res.reason == "staggered_adoption"


def test_pre_trend_test_notices_a_diverging_treated_site() -> None:
    panel, _ = simulate(Scenario("b", 3, 15, n_pre=120, n_post=40, trend_break=4.0), np.random.default_rng(2))
    res = estimate_did(panel)
    assert res.pre_trend_p is not None and res.pre_trend_p < 0.01


def test_a_panel_with_scattered_gaps_still_estimates() -> None:
    panel, truth = simulate(Scenario("g", 3, 12, n_pre=90, n_post=45, effect=6.0), np.random.default_rng(6))
    keep = np.random.default_rng(0).random(panel.n_obs) > 0.1
    gappy = from_arrays(panel.unit_idx[keep], panel.time_idx[keep], panel.y[keep], panel.first_treated)
    assert not gappy.is_balanced
    res = estimate_did(gappy)
    assert res.ok and abs(res.att - truth) < 4 * res.se
    assert res.event_study.height > 0 and res.counterfactual is not None
