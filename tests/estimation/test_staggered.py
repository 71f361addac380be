from __future__ import annotations

import numpy as np
import pytest
from dgp import Scenario, simulate

from pilot_roi.estimation.did import fit_twfe, treatment_dummy
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.staggered import aggregate, aggregate_patterns, estimate_staggered_did, group_time_effects


@pytest.fixture(scope="module")
def staggered():
    return simulate(
        Scenario("s", 5, 12, n_pre=40, n_post=30, n_cohorts=3, cohort_gap=10, effect=4.0), np.random.default_rng(7)
    )


@pytest.mark.parametrize("base", ["pre_mean", "varying", "universal"])
@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("kind", ["simple", "dynamic", "group"])
def test_site_weight_patterns_reproduce_every_aggregate(staggered, base: str, control_group: str, kind: str) -> None:
    # The placebo variance relies on θ = Σ_u W_u · y_u holding exactly (balanced panel).
    panel, _ = staggered
    cohorts = np.unique(panel.first_treated[panel.first_treated > 0])
    gt = group_time_effects(panel.wide(), panel.first_treated, cohorts, base=base, control_group=control_group)
    agg = aggregate(gt, kind)
    weights = aggregate_patterns(gt, agg.cell_weights)
    np.testing.assert_allclose(weights.apply(panel.wide()), agg.estimate, atol=1e-9)


def test_common_timing_callaway_santanna_equals_twfe_did() -> None:
    # One go-live, never-treated controls, balanced: the simple aggregation with a pre-period-mean base is
    # exactly the DiD of means, which is the TWFE β.
    panel, _ = simulate(Scenario("c", 3, 8, n_pre=30, n_post=20, effect=2.0), np.random.default_rng(1))
    res = estimate_staggered_did(panel, EstimationOptions(detail=False))
    fit = fit_twfe(panel.y, treatment_dummy(panel), panel.unit_idx, panel.time_idx, panel.n_units, panel.n_times)
    assert res.att == pytest.approx(fit.coef[0], abs=1e-10)


def test_staggered_result(staggered) -> None:
    panel, truth = staggered
    res = estimate_staggered_did(panel)
    assert res.ok and res.n_treated == 5
    assert abs(res.att - truth) < 4 * res.se
    assert res.group_time.columns == ["group", "time", "att", "se", "ci_low", "ci_high"]
    assert res.group_time.height == 3 * panel.n_times
    assert res.event_study.height > 0 and res.pre_trend_p is not None
    assert "placebo variance" in res.inference


def test_many_treated_sites_use_the_influence_function() -> None:
    panel, _ = simulate(Scenario("m", 12, 12, n_pre=30, n_post=20, n_cohorts=2, cohort_gap=5), np.random.default_rng(2))
    res = estimate_staggered_did(panel)
    assert res.ok and "influence function" in res.inference
    assert res.diagnostics["uniform_critical_value"] > 1.96


def test_always_treated_sites_are_dropped_and_counted() -> None:
    panel, _ = simulate(Scenario("a", 4, 8, n_pre=30, n_post=20, n_cohorts=2, cohort_gap=5), np.random.default_rng(3))
    ft = panel.first_treated.copy()
    ft[0] = 0
    res = estimate_staggered_did(panel.with_first_treated(ft))
    assert res.ok and res.n_treated == 3 and res.diagnostics["excluded_sites"] == 1
