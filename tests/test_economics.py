"""Economics: hand-checked cases, invariants (hypothesis) and intervals from the effect's draws."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot_roi.economics import (
    EconomicsParams,
    EffectEstimate,
    MetricValue,
    PilotCosts,
    annual_gain_kzt,
    annuity_factor,
    effect_draws,
    evaluate,
    npv_kzt,
    payback_months,
    periods_per_year,
    pilot_npv_kzt,
    realized_gain_kzt,
    roi,
    total_cost_kzt,
)

ENERGY = MetricValue(value_kzt_per_unit=4200.0, higher_is_better=False, frequency="daily")
OUTPUT = MetricValue(value_kzt_per_unit=1000.0, higher_is_better=True, frequency="monthly")
MONTHLY_ENERGY = MetricValue(value_kzt_per_unit=4200.0, higher_is_better=False, frequency="monthly")
COSTS = PilotCosts(capex_kzt=50_000_000.0, opex_kzt_per_year=5_000_000.0)

# Hand-computed: (1/1.15 + 1/1.15^2 + ... + 1/1.15^5), each term written out.
ANNUITY_15_5 = 0.8695652173913 + 0.7561436672968 + 0.6575162324320 + 0.5717532455931 + 0.4971767352983


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [("daily", 365.0), ("weekly", 365.0 / 7.0), ("monthly", 12.0), ("quarterly", 4.0), ("yearly", 1.0)],
)
def test_periods_per_year(frequency: str, expected: float) -> None:
    assert periods_per_year(frequency) == pytest.approx(expected, rel=1e-15)


def test_unknown_frequency_lists_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="daily, weekly, monthly, quarterly, yearly"):
        periods_per_year("hourly")


def test_annual_gain_hand_checked() -> None:
    # energy use falls by 10 GJ per site-day at 2 sites: 10 * 4200 * 365 * 2 = 30,660,000 KZT a year
    assert annual_gain_kzt(-10.0, ENERGY, 2) == pytest.approx(30_660_000.0, rel=1e-12)
    # output rises by 3 units per site-month at 1 site: 3 * 1000 * 12 = 36,000 KZT a year
    assert annual_gain_kzt(3.0, OUTPUT, 1) == pytest.approx(36_000.0, rel=1e-12)
    # a rise of energy use is a loss
    assert annual_gain_kzt(10.0, ENERGY, 2) == pytest.approx(-30_660_000.0, rel=1e-12)


def test_annuity_and_npv_hand_checked() -> None:
    assert annuity_factor(0.15, 5) == pytest.approx(ANNUITY_15_5, rel=1e-12)
    assert annuity_factor(0.0, 5) == 5.0
    gain = 30_660_000.0
    # (30.66M - 5M) * A - 50M
    expected_npv = 25_660_000.0 * ANNUITY_15_5 - 50_000_000.0
    assert npv_kzt(gain, COSTS) == pytest.approx(expected_npv, rel=1e-12)
    expected_cost = 50_000_000.0 + 5_000_000.0 * ANNUITY_15_5
    assert total_cost_kzt(COSTS) == pytest.approx(expected_cost, rel=1e-12)
    assert roi(npv_kzt(gain, COSTS), total_cost_kzt(COSTS)) == pytest.approx(expected_npv / expected_cost, rel=1e-12)
    # simple payback: 50M / (25.66M / 12) months
    assert payback_months(gain, COSTS) == pytest.approx(50_000_000.0 / (25_660_000.0 / 12.0), rel=1e-12)


def test_npv_explicit_cash_flows() -> None:
    """The closed form equals discounting the cash flows year by year."""
    gain, rate, years = 12_345_678.0, 0.11, 7
    flows = sum((gain - COSTS.opex_kzt_per_year) / (1 + rate) ** y for y in range(1, years + 1))
    assert npv_kzt(gain, COSTS, rate, years) == pytest.approx(flows - COSTS.capex_kzt, rel=1e-12)


def test_payback_never_and_free_pilot() -> None:
    assert payback_months(4_000_000.0, COSTS) == math.inf  # gain below opex
    assert payback_months(5_000_000.0, COSTS) == math.inf  # gain equal to opex
    assert payback_months(1.0, PilotCosts(0.0, 0.0)) == 0.0
    assert math.isnan(roi(0.0, 0.0))


def test_pilot_npv_counts_costs_once() -> None:
    two = pilot_npv_kzt([10_000_000.0, 20_000_000.0], COSTS)
    assert two == pytest.approx(npv_kzt(30_000_000.0, COSTS), rel=1e-12)


effects = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(effect=effects, n=st.integers(1, 20), value=st.floats(0.01, 1e6), freq=st.sampled_from(["daily", "monthly"]))
def test_sign_symmetry(effect: float, n: int, value: float, freq: str) -> None:
    up = MetricValue(value, True, freq)
    down = MetricValue(value, False, freq)
    assert annual_gain_kzt(effect, up, n) == -annual_gain_kzt(effect, down, n)
    assert annual_gain_kzt(effect, up, n) == annual_gain_kzt(-effect, down, n)


@settings(max_examples=200, deadline=None)
@given(a=effects, b=effects, rate=st.floats(0.0, 0.5), years=st.integers(1, 15))
def test_npv_monotone_in_effect(a: float, b: float, rate: float, years: int) -> None:
    low, high = sorted((a, b))
    for metric in (ENERGY, OUTPUT):
        g_low, g_high = annual_gain_kzt(low, metric, 3), annual_gain_kzt(high, metric, 3)
        if metric.higher_is_better:
            assert npv_kzt(g_low, COSTS, rate, years) <= npv_kzt(g_high, COSTS, rate, years)
        else:
            assert npv_kzt(g_low, COSTS, rate, years) >= npv_kzt(g_high, COSTS, rate, years)


@settings(max_examples=100, deadline=None)
@given(
    capex=st.one_of(st.just(0.0), st.floats(1.0, 1e10)),
    opex=st.one_of(st.just(0.0), st.floats(1.0, 1e9)),
    rate=st.floats(0.0, 0.5),
    years=st.integers(1, 15),
)
def test_zero_effect_loses_the_whole_cost(capex: float, opex: float, rate: float, years: int) -> None:
    costs = PilotCosts(capex, opex)
    gain = annual_gain_kzt(0.0, ENERGY, 4)
    assert npv_kzt(gain, costs, rate, years) == pytest.approx(-total_cost_kzt(costs, rate, years), rel=1e-12, abs=1e-3)
    econ = evaluate(EffectEstimate(0.0, se=1.0), ENERGY, costs, 4, EconomicsParams(rate, years, n_draws=1000))
    assert econ.npv_kzt == pytest.approx(-econ.total_cost_kzt, rel=1e-12, abs=1e-3)
    if econ.total_cost_kzt > 0:
        assert econ.roi == pytest.approx(-1.0, rel=1e-12)


def test_intervals_follow_the_effect_ci() -> None:
    """Symmetric CI: the gain interval is the effect interval priced (Monte Carlo tolerance 1% of width)."""
    est = EffectEstimate(effect=-10.0, se=2.0, ci_low=-10.0 - 1.96 * 2.0, ci_high=-10.0 + 1.96 * 2.0)
    econ = evaluate(est, ENERGY, COSTS, 2)
    lo = annual_gain_kzt(est.ci_high, ENERGY, 2)  # the least beneficial end
    hi = annual_gain_kzt(est.ci_low, ENERGY, 2)
    width = hi - lo
    assert econ.annual_gain_ci_low == pytest.approx(lo, abs=0.01 * width)
    assert econ.annual_gain_ci_high == pytest.approx(hi, abs=0.01 * width)
    assert econ.npv_ci_low == pytest.approx(npv_kzt(lo, COSTS), abs=0.01 * width * ANNUITY_15_5)
    assert econ.npv_ci_high == pytest.approx(npv_kzt(hi, COSTS), abs=0.01 * width * ANNUITY_15_5)
    assert econ.roi_ci_low < econ.roi < econ.roi_ci_high
    assert econ.payback_ci_low < econ.payback_months < econ.payback_ci_high
    assert econ.annual_gain_ci_low < econ.annual_gain_kzt < econ.annual_gain_ci_high


def test_asymmetric_ci_is_reproduced() -> None:
    est = EffectEstimate(effect=5.0, ci_low=1.0, ci_high=15.0)
    draws = effect_draws(est, 200_000, seed=7)
    assert draws is not None
    low, high = np.quantile(draws, [0.025, 0.975])
    assert low == pytest.approx(1.0, abs=0.05)
    assert high == pytest.approx(15.0, abs=0.15)
    assert np.median(draws) == pytest.approx(5.0, abs=0.05)


def test_seeded_draws_are_bit_identical() -> None:
    est = EffectEstimate(effect=-3.0, se=1.5)
    a = evaluate(est, ENERGY, COSTS, 3, EconomicsParams(seed=11))
    b = evaluate(est, ENERGY, COSTS, 3, EconomicsParams(seed=11))
    c = evaluate(est, ENERGY, COSTS, 3, EconomicsParams(seed=12))
    assert a == b
    assert a.npv_ci_low != c.npv_ci_low


def test_payback_interval_with_never() -> None:
    # the effect may well be zero: the slow end of the payback interval is "never"
    est = EffectEstimate(effect=-2.0, se=2.0)
    econ = evaluate(est, ENERGY, COSTS, 2)
    assert math.isfinite(econ.payback_months)
    assert econ.payback_ci_high == math.inf
    assert econ.annual_gain_ci_low < 0 < econ.annual_gain_ci_high


def test_no_uncertainty_gives_nan_intervals_and_no_effect_gives_nan() -> None:
    econ = evaluate(EffectEstimate(effect=-1.0), ENERGY, COSTS, 1)
    assert math.isfinite(econ.annual_gain_kzt)
    assert math.isnan(econ.annual_gain_ci_low) and math.isnan(econ.npv_ci_high)
    none = evaluate(EffectEstimate(effect=math.nan, se=1.0), ENERGY, COSTS, 1)
    assert math.isnan(none.annual_gain_kzt) and math.isnan(none.npv_kzt)
    assert none.total_cost_kzt == pytest.approx(total_cost_kzt(COSTS))


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="horizon_years"):
        EconomicsParams(horizon_years=0)
    with pytest.raises(ValueError, match="discount_rate"):
        EconomicsParams(discount_rate=math.nan)
    with pytest.raises(ValueError, match="frequency"):
        MetricValue(1.0, True, "hourly")


def test_realized_gain_hand_checked() -> None:
    days = np.array(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"], dtype="datetime64[D]")
    observed = np.array([100.0, 100.0, 90.0, 92.0])
    counterfactual = np.array([101.0, 99.0, 100.0, np.nan])
    # post from Jan 3: only Jan 3 has both values: (90 - 100) = -10 GJ per site; energy: a fall is a gain
    value = realized_gain_kzt(days, observed, counterfactual, date(2025, 1, 3), ENERGY, 3)
    assert value == pytest.approx(10.0 * 4200.0 * 3, rel=1e-12)
    assert math.isnan(realized_gain_kzt(days, observed, counterfactual, date(2026, 1, 1), ENERGY, 3))


def test_realized_gain_starts_at_the_earliest_go_live_the_estimate_used() -> None:
    from pilot_roi.economics import realized_gain_start

    registry = date(2024, 1, 1)
    assert realized_gain_start({"design": {"first_go_live_used": "2024-06-01"}}, registry) == date(2024, 6, 1)
    # never before the registry's earliest go-live; without a readable date, the registry's
    assert realized_gain_start({"design": {"first_go_live_used": "2023-06-01"}}, registry) == registry
    for diagnostics in (None, {}, {"design": None}, {"design": {"first_go_live_used": None}},
                        {"design": {"first_go_live_used": "soon"}}, {"design": "text"}):  # fmt: skip
        assert realized_gain_start(diagnostics, registry) == registry


def test_realized_gain_of_a_mid_period_go_live_counts_the_period_that_holds_it() -> None:
    from pilot_roi.economics import period_start, realized_gain_start

    go_live = date(2024, 6, 15)  # a Saturday
    assert period_start(go_live, "daily") == go_live
    assert period_start(go_live, "weekly") == date(2024, 6, 10)
    assert period_start(go_live, "monthly") == date(2024, 6, 1)
    assert period_start(go_live, "quarterly") == date(2024, 4, 1)
    assert period_start(go_live, "yearly") == date(2024, 1, 1)
    assert period_start(go_live, None) == go_live
    # the estimate's first treated month is June (labelled 1 June): it starts the count, the registry's 15 June
    # no longer pushes it to July
    used = {"design": {"first_go_live_used": "2024-06-01"}}
    assert realized_gain_start(used, go_live, "monthly") == date(2024, 6, 1)
    assert realized_gain_start(used, go_live) == go_live  # daily data: 1 June is before the go-live
    assert realized_gain_start({}, go_live, "monthly") == date(2024, 6, 1)
    months = np.array(["2024-05-01", "2024-06-01", "2024-07-01"], dtype="datetime64[D]")
    observed, counterfactual = np.array([100.0, 95.0, 90.0]), np.array([100.0, 100.0, 100.0])
    start = realized_gain_start(used, go_live, "monthly")
    # energy: a fall is a gain; June's half-month gap (5 GJ) counts with July's 10
    gain = realized_gain_kzt(months, observed, counterfactual, start, MONTHLY_ENERGY, 1)
    assert gain == pytest.approx(15.0 * 4200.0, rel=1e-12)
