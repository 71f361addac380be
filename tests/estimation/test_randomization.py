"""Randomization inference over go-live dates, for staggered pilots in which every site goes live."""

from __future__ import annotations

import dataclasses
import math
from itertools import permutations

import numpy as np
import pytest
from dgp import Scenario, simulate
from scipy import stats

from pilot_roi.estimation.api import estimate_panel
from pilot_roi.estimation.design import choose_method, describe_design
from pilot_roi.estimation.method_words import describe_method_choice
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData
from pilot_roi.estimation.randomization import (
    count_assignments,
    fill_missing,
    gather,
    invert_test,
    joint_pvalue,
    p_value,
    reassignments,
)
from pilot_roi.estimation.staggered import aggregate, estimate_staggered_did, group_time_effects, site_cohort_weights

ALL_TREATED = Scenario("all", 6, 0, n_pre=60, n_post=40, n_cohorts=3, cohort_gap=15)
FAST = EstimationOptions(control_group="not_yet_treated", detail=False, diagnostics=False, robustness=False)


@pytest.mark.parametrize("base", ["pre_mean", "varying", "universal"])
@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_one_table_of_site_weights_gives_the_estimator_under_every_assignment(base: str, control_group: str) -> None:
    # The speed of the test rests on this: on a balanced panel the estimate under any reassignment of the
    # go-live values is Σ_i V[i, value of i]. Checked against the estimator itself on every assignment.
    rng = np.random.default_rng(5)
    y = rng.normal(size=(6, 24)) + np.arange(24)[None, :] * 0.1
    unit_group = np.array([4, 4, 9, 9, 15, -1])  # two cohorts of two, one of one, one never-treated site
    cohorts = np.array([4, 9, 15])
    gt = group_time_effects(y, unit_group, cohorts, base=base, control_group=control_group)
    r = reassignments(unit_group, np.random.default_rng(0))
    assert r.exhaustive and r.n == count_assignments([1, 2, 2, 1]) == 180
    for kind in ("simple", "dynamic"):
        agg = aggregate(gt, kind)
        fast = gather(site_cohort_weights(y, gt, agg.cell_weights, r.values), r)
        for j in range(0, r.n, 7):
            moved = r.values[r.cohort_index[j]]
            slow = aggregate(group_time_effects(y, moved, cohorts, base=base, control_group=control_group), kind)
            np.testing.assert_allclose(fast[:, j], slow.estimate, atol=1e-10)
    cells = gather(site_cohort_weights(y, gt, None, r.values), r)
    np.testing.assert_allclose(cells[:, 0], gt.att, atol=1e-10)


def test_assignments_are_every_distinct_one_with_the_actual_first_or_a_seeded_draw() -> None:
    unit_group = np.array([3, 3, 5, 5, 8, 8])
    r = reassignments(unit_group, np.random.default_rng(0))
    distinct = {tuple(p) for p in permutations(unit_group.tolist())}
    assert r.exhaustive and r.total == len(distinct) == 90
    assert {tuple(r.values[row]) for row in r.cohort_index} == distinct and r.n == 90
    np.testing.assert_array_equal(r.values[r.cohort_index[0]], unit_group)
    drawn = reassignments(unit_group, np.random.default_rng(0), max_assignments=50)
    again = reassignments(unit_group, np.random.default_rng(0), max_assignments=50)
    assert not drawn.exhaustive and drawn.n == 50 and drawn.total == 90
    np.testing.assert_array_equal(drawn.cohort_index, again.cohort_index)
    np.testing.assert_array_equal(drawn.values[drawn.cohort_index[0]], unit_group)
    assert all(sorted(drawn.values[row]) == sorted(unit_group) for row in drawn.cohort_index)


def test_the_interval_is_exactly_the_set_the_test_does_not_reject() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=90)
    c = np.concatenate([[1.0], rng.uniform(-0.6, 0.6, size=89)])
    a[0] = 2.5
    low, high = invert_test(a, c, 0.05)
    assert low < a[0] < high
    assert p_value(a, c, low) > 0.05 and p_value(a, c, high) > 0.05
    eps = 1e-7 * max(1.0, abs(low), abs(high))
    assert p_value(a, c, low - eps) <= 0.05 and p_value(a, c, high + eps) <= 0.05
    grid = np.linspace(low - 5, high + 5, 4001)
    kept = np.array([p_value(a, c, t) > 0.05 for t in grid])
    assert not kept[(grid < low) | (grid > high)].any()


def test_an_assignment_as_informative_as_the_actual_one_leaves_the_interval_open() -> None:
    # A placebo assignment with the same exposure as the actual one (c = 1) can never be told apart from it.
    a = np.array([1.0, 0.2, -0.3, 0.5] * 5)
    c = np.array([1.0, 1.0, 0.1, -0.2] * 5)
    low, high = invert_test(a, c, 0.05)
    assert math.isinf(low) and math.isinf(high)


def test_missing_cells_are_filled_linearly() -> None:
    rng = np.random.default_rng(2)
    y, d = rng.normal(size=(5, 12)), rng.normal(size=(5, 12))
    holes = rng.random((5, 12)) < 0.2
    y[holes] = np.nan
    d[holes] = np.nan
    np.testing.assert_allclose(fill_missing(y - 2.5 * d), fill_missing(y) - 2.5 * fill_missing(d), atol=1e-12)
    assert np.isfinite(fill_missing(y)).all()
    np.testing.assert_array_equal(fill_missing(y)[~holes], y[~holes])


@pytest.mark.parametrize(("seed", "hole_seed", "base"), [(1, 3, "pre_mean"), (0, 1, "varying")])
def test_on_a_gappy_panel_the_interval_holds_the_estimate_it_is_reported_with(
    seed: int, hole_seed: int, base: str
) -> None:
    # The test runs on the panel with its holes filled, whose estimate differs from the reported one. A wild
    # value beside holes made them differ by hundreds and the interval missed the estimate (here -2.7 against
    # 50.8 to 461.0, and 9.5 against -4452 to -54); it is now moved by the difference, and the test of no
    # effect with it.
    panel, _ = simulate(ALL_TREATED, np.random.default_rng(seed))
    drop = np.random.default_rng([seed, hole_seed]).random(panel.n_obs) < 0.1
    y = panel.y.copy()
    y[np.flatnonzero(~drop)[np.random.default_rng(hole_seed).integers(0, int((~drop).sum()))]] = 1e6
    gappy = PanelData(
        panel.unit_idx[~drop], panel.time_idx[~drop], y[~drop], panel.first_treated,
        panel.unit_labels, panel.time_labels, panel.time_ordinal, panel.time_kind,
    )  # fmt: skip
    res = estimate_staggered_did(gappy, dataclasses.replace(FAST, base_period=base))
    assert res.ok and "randomization" in res.inference
    assert res.ci_low <= res.att <= res.ci_high
    # the interval is the inverted test, so holding 0 and not rejecting no effect go together
    assert (res.ci_low <= 0.0 <= res.ci_high) == (res.p_value > 0.05)


def test_null_pilots_where_every_site_goes_live_are_rejected_at_most_at_the_nominal_rate() -> None:
    # 200 null panels, 6 sites in 3 cohorts (90 assignments). The test is exact under random go-live dates,
    # so rejections stay within Binomial(200, 5%)'s 99th percentile; the influence-function interval it
    # replaces rejected ~10% in this design (bench/validation), which would fail here most of the time.
    p_values, covered = [], 0
    for rep in range(200):
        panel, _ = simulate(ALL_TREATED, np.random.default_rng([41, rep]))
        res = estimate_staggered_did(panel, FAST)
        assert res.ok and "randomization" in res.inference
        p_values.append(res.p_value)
        covered += res.ci_low <= 0.0 <= res.ci_high
    rejections = int(np.sum(np.array(p_values) <= 0.05))
    assert rejections <= stats.binom.ppf(0.99, 200, 0.05)
    assert covered == 200 - rejections  # the interval is the inverted test
    assert len(set(np.round(p_values, 6))) > 10  # p-values spread over the assignments, not a constant


def test_a_large_effect_is_found_and_its_interval_covers_it() -> None:
    hits = 0
    for rep in range(20):
        panel, _ = simulate(
            Scenario("all", 6, 0, n_pre=60, n_post=40, n_cohorts=3, cohort_gap=15, effect=12.0, ramp=1),
            np.random.default_rng([43, rep]),
        )
        res = estimate_staggered_did(panel, FAST)
        hits += res.p_value <= 0.05 and res.ci_low <= 12.0 <= res.ci_high
    assert hits >= 16


def _drift_first_cohort(panel: PanelData, per_day: float) -> PanelData:
    """The panel with the first cohort's sites drifting by `per_day` from the middle of their pre-period."""
    ft = panel.first_treated
    first = ft == ft.min()
    start = int(ft.min()) // 2
    drift = np.where(first[panel.unit_idx], per_day * np.clip(panel.time_idx - start, 0, None), 0.0)
    return dataclasses.replace(panel, y=panel.y + drift)


def test_the_pretrend_test_over_assignments_flags_a_differential_trend() -> None:
    # Leads compared with their spread over the assignments: a cohort drifting before its go-live shows. With
    # 12 sites; with 6 the drifting pair shares a cohort in 18 of the 90 assignments, so the test is weak there
    # (README, known limits).
    scenario = Scenario("all", 12, 0, n_pre=120, n_post=40, n_cohorts=3, cohort_gap=15)
    broke, flat = 0, 0
    for rep in range(12):
        panel, _ = simulate(scenario, np.random.default_rng([47, rep]))
        drifting = estimate_staggered_did(_drift_first_cohort(panel, 0.5), FAST.with_(detail=True))
        broke += drifting.pre_trend_p is not None and drifting.pre_trend_p < 0.05
        clean = estimate_staggered_did(panel, FAST.with_(detail=True))
        flat += clean.pre_trend_p is not None and clean.pre_trend_p < 0.05
    assert broke >= 10
    assert flat <= 3


def test_joint_pvalue_is_not_constant_over_panels() -> None:
    rng = np.random.default_rng(9)
    pvals = {joint_pvalue(rng.normal(size=(15, 90))) for _ in range(20)}
    assert len(pvals) > 5


def test_auto_picks_randomization_when_every_site_goes_live_and_says_so() -> None:
    panel, _ = simulate(ALL_TREATED, np.random.default_rng(1))
    opts = EstimationOptions()
    choice = choose_method(describe_design(panel, opts), opts)
    assert choice.primary == "staggered_did" and choice.robustness == ("its",)
    assert choice.options == {"control_group": "not_yet_treated"}  # the estimator's auto inference does the rest
    assert choice.facts["n_assignments"] == 90
    assert "90" in describe_method_choice(choice.facts, "ru") and "рандомизацион" in describe_method_choice(
        choice.facts, "ru"
    )
    assert "рандомизациялық" in describe_method_choice(choice.facts, "kk")
    res = estimate_panel(panel, opts=opts.with_(robustness=False))
    assert res.ok and res.method == "staggered_did" and "randomization" in res.inference
    assert res.n_treated == 6 and res.n_controls == 0  # the later adopters are the comparison, not controls
    placebo = res.diagnostics["placebo_in_time"]
    assert placebo["status"] == "ok" and 0.0 <= placebo["p_value"] <= 1.0  # the staggered design kept


def test_too_few_assignments_fall_back_to_its_or_say_why() -> None:
    # 4 sites in 2 cohorts of 2: 6 assignments, so a 5% test could never reject.
    panel, _ = simulate(
        Scenario("few", 4, 0, n_pre=60, n_post=40, n_cohorts=2, cohort_gap=15), np.random.default_rng(2)
    )
    opts = EstimationOptions()
    assert choose_method(describe_design(panel, opts), opts).primary == "its"
    res = estimate_staggered_did(panel, FAST.with_(inference="randomization"))
    assert res.status == "insufficient_data" and res.reason == "too_few_assignments"


def test_without_control_sites_the_counterfactual_is_the_constant_effect_the_interval_tests() -> None:
    # The realized gain sums (observed - counterfactual) × sites: it must be the effect times live site-days.
    panel, _ = simulate(ALL_TREATED, np.random.default_rng(3))
    res = estimate_staggered_did(panel, FAST.with_(detail=True))
    cf = res.counterfactual
    assert cf is not None and cf.columns[1:] == ["observed", "counterfactual", "ci_low", "ci_high"]
    live_site_days = int(np.sum(panel.time_idx >= panel.first_treated[panel.unit_idx]))
    gap = (cf["observed"] - cf["counterfactual"]).to_numpy()
    assert float(np.sum(gap)) * panel.n_units == pytest.approx(res.att * live_site_days, rel=1e-9)
    before = cf.head(int(panel.first_treated.min()))
    assert (before["observed"] == before["counterfactual"]).all()
    last = cf.tail(1)
    assert last["ci_low"][0] == pytest.approx(last["observed"][0] - res.ci_high)


def test_staggered_pilots_with_two_controls_reassign_the_dates_instead_of_a_one_df_placebo_variance() -> None:
    # 3 treated sites in 3 cohorts and 2 never-treated sites: 5!/2! = 60 assignments. The placebo variance
    # would be t with 1 degree of freedom (a 95% interval of 12.7 standard errors on each side).
    panel, _ = simulate(
        Scenario("few", 3, 2, n_pre=60, n_post=40, n_cohorts=3, cohort_gap=15, effect=8.0, ramp=1),
        np.random.default_rng(4),
    )
    opts = EstimationOptions()
    choice = choose_method(describe_design(panel, opts), opts)
    assert choice.primary == "staggered_did" and choice.facts["inference"] == "randomization"
    assert choice.facts["n_assignments"] == 60 and choice.options == {}
    assert "60" in describe_method_choice(choice.facts, "en")
    res = estimate_panel(panel, opts=opts.with_(robustness=False, diagnostics=False))
    placebo = estimate_panel(panel, "staggered_did", opts.with_(inference="placebo_variance", diagnostics=False))
    assert "randomization" in res.inference and "1 df" in placebo.inference
    assert res.n_controls == 2 and res.att == pytest.approx(placebo.att)
    assert res.ci_high - res.ci_low < placebo.ci_high - placebo.ci_low


@pytest.mark.parametrize(("n_treated", "n_never", "expected"), [(8, 3, "randomization"), (12, 12, "influence")])
def test_many_treated_sites_need_ten_never_treated_controls_for_the_influence_function(
    n_treated: int, n_never: int, expected: str
) -> None:
    # With 8 treated sites and 3 controls the influence-function interval rejected 10.3% of null panels.
    panel, _ = simulate(
        Scenario("many", n_treated, n_never, n_pre=40, n_post=30, n_cohorts=3, cohort_gap=10), np.random.default_rng(6)
    )
    opts = EstimationOptions()
    choice = choose_method(describe_design(panel, opts), opts)
    res = estimate_staggered_did(panel, FAST.with_(control_group="never_treated"))
    assert res.ok and expected in res.inference
    assert choice.facts["inference"] == ("randomization" if expected == "randomization" else "influence_function")
