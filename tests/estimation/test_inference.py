from __future__ import annotations

import math

import numpy as np
import pytest
from dgp import Scenario, simulate

from pilot_roi.estimation.did import did_weights, estimate_did, fit_twfe, treatment_dummy
from pilot_roi.estimation.har import hac_contrast
from pilot_roi.estimation.inference import (
    LinearWeights,
    control_residuals,
    placebo_variance,
    site_noise_scales,
    wald_test,
    wild_cluster_bootstrap,
)
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import from_arrays


@pytest.fixture(scope="module")
def pilot():
    panel, _ = simulate(Scenario("p", 2, 9, n_pre=60, n_post=30, effect=3.0), np.random.default_rng(4))
    return panel


def test_weights_reproduce_the_estimate(pilot) -> None:
    fit = fit_twfe(pilot.y, treatment_dummy(pilot), pilot.unit_idx, pilot.time_idx, pilot.n_units, pilot.n_times)
    w = did_weights(pilot, fit)
    assert w.patterns.shape[1] == 2  # balanced common timing: one pattern for treated, one for controls
    assert w.apply(pilot.wide())[0] == pytest.approx(fit.coef[0], abs=1e-10)


def test_placebo_variance_is_the_closed_form_for_a_balanced_did(pilot) -> None:
    # Var = (1/N1 + 1/N0) · s²_C(post mean - pre mean), the Donald-Lang / Conley-Taber form.
    fit = fit_twfe(pilot.y, treatment_dummy(pilot), pilot.unit_idx, pilot.time_idx, pilot.n_units, pilot.n_times)
    controls = pilot.never_treated
    v = placebo_variance(did_weights(pilot, fit), control_residuals(pilot.wide(), controls))[0, 0]
    y = pilot.wide()
    d = y[:, 60:].mean(axis=1) - y[:, :60].mean(axis=1)
    expected = (1 / 2 + 1 / 9) * np.var(d[controls], ddof=1)
    assert v == pytest.approx(expected, rel=1e-10)


def test_dense_weights_merge_identical_sites() -> None:
    w = np.zeros((1, 4, 3))
    w[0, :2] = [1.0, 0.0, -1.0]
    lw = LinearWeights.from_dense(w)
    assert lw.patterns.shape == (1, 2, 3) and lw.unit_pattern.tolist() == [0, 0, 1, 1]


def test_wald_test() -> None:
    assert wald_test(np.zeros(3), np.eye(3), math.inf) == pytest.approx(1.0)
    assert wald_test(np.array([3.0, 3.0]), np.eye(2), math.inf) < 0.001
    # Hotelling F with few degrees of freedom is more conservative than χ²
    assert wald_test(np.array([2.0, 2.0]), np.eye(2), 10.0) > wald_test(np.array([2.0, 2.0]), np.eye(2), math.inf)
    # too many coefficients for the degrees of freedom: averaged into groups, still a valid p-value
    p = wald_test(np.ones(20) * 0.1, np.eye(20), 6.0)
    assert p is not None and 0 <= p <= 1


def test_wild_cluster_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    panel, _ = simulate(Scenario("w", 15, 25, n_pre=40, n_post=20, effect=2.0), np.random.default_rng(8))
    fit = fit_twfe(panel.y, treatment_dummy(panel), panel.unit_idx, panel.time_idx, panel.n_units, panel.n_times)
    args = (fit.x_dm[:, 0], fit.y_dm, panel.unit_idx, panel.n_units, 1.0)
    a = wild_cluster_bootstrap(*args, alpha=0.05, n_boot=399, rng=np.random.default_rng(1))
    b = wild_cluster_bootstrap(*args, alpha=0.05, n_boot=399, rng=np.random.default_rng(1))
    assert a == b
    p, lo, hi = a
    assert lo < fit.coef[0] < hi and 0 < p <= 1
    # the bootstrap interval is close to the cluster-robust one with 40 clusters
    assert (hi - lo) == pytest.approx(2 * 2.02 * fit.se[0], rel=0.35)


def test_har_contrast_for_one_treated_and_one_control() -> None:
    panel, _ = simulate(Scenario("h", 1, 1, n_pre=200, n_post=100), np.random.default_rng(3))
    inf = hac_contrast(panel, panel.treated, panel.never_treated, 0.05)
    # ν = floor(0.15 · 300^(2/3)) = 6 cosines, less what the step and seasonal regressors absorb
    assert 2 < inf.dof <= 6 and inf.se[0] > 0
    assert inf.ci_low[0] < inf.estimate[0] < inf.ci_high[0]
    assert "newey_west_p_value" in inf.extra


def test_did_with_har_inference_reports_the_estimate_its_interval_is_built_around() -> None:
    # 1 treated site and 2 controls: the HAR contrast is seasonally adjusted, so it differs from the TWFE β;
    # the reported effect must be the centre of the reported interval
    panel, _ = simulate(Scenario("h2", 1, 2, n_pre=365, n_post=120), np.random.default_rng(5))
    res = estimate_did(panel, EstimationOptions(detail=False))
    assert res.inference.startswith("HAR")
    assert res.att == pytest.approx((res.ci_low + res.ci_high) / 2, abs=1e-9)
    inf = hac_contrast(panel, panel.treated, panel.never_treated, 0.05)
    assert res.att == pytest.approx(float(inf.estimate[0]), abs=1e-12)


def test_site_noise_scales_follow_each_sites_own_noise() -> None:
    rng = np.random.default_rng(4)
    scale = np.r_[3.0, np.ones(20)]  # the treated site (row 0) is three times as noisy as the controls
    y = 100 + rng.normal(0, 1, (21, 400)) * scale[:, None] + rng.normal(0, 2, 400)[None, :]
    controls = np.r_[False, np.ones(20, bool)]
    s2 = site_noise_scales(y, controls, pre_end=300)
    assert s2[0] == pytest.approx(9.0, rel=0.2)
    assert np.mean(s2[controls]) == pytest.approx(1.0) and np.all(np.abs(s2[controls] - 1) < 0.35)


def test_placebo_interval_widens_for_a_noisier_treated_site() -> None:
    # same panel, the treated site's noise tripled: the placebo se follows (it used to stay put)
    base, _ = simulate(Scenario("q", 1, 20, n_pre=200, n_post=100), np.random.default_rng(12))
    y = base.y.copy()
    treated_rows = base.treated[base.unit_idx]
    y_noisy = np.where(treated_rows, 3 * y - 2 * 100.0, y)
    noisy = from_arrays(base.unit_idx, base.time_idx, y_noisy, base.first_treated, time_ordinal=base.time_ordinal)
    quiet = estimate_did(base, EstimationOptions(detail=False))
    loud = estimate_did(noisy, EstimationOptions(detail=False))
    assert "placebo" in loud.inference
    assert loud.se / quiet.se > 2.0
