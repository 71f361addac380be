"""The event study of DiD pilots with one or two controls (HAR inference): leads and lags with intervals.

Before 2026-11-28 these pilots' leads and lags had no intervals (NaN): there is no placebo variance with fewer than
three controls. The full simulation is `bench/validation/har_event_study.py`.
"""

from __future__ import annotations

import numpy as np
import pytest
from dgp import START, Scenario, simulate
from har_monthly import Design
from har_monthly import simulate as simulate_monthly

from pilot_roi.estimation.api import estimate_panel
from pilot_roi.estimation.did import event_time_bins
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData, from_arrays

OPTS = EstimationOptions(diagnostics=False, robustness=False)


def _did(panel: PanelData):
    res = estimate_panel(panel, "did", OPTS)
    assert res.inference.startswith("HAR"), res.inference
    return res


@pytest.mark.parametrize("n_controls", [1, 2])
def test_every_lead_and_lag_has_an_interval_around_its_estimate(n_controls: int) -> None:
    panel, _ = simulate(Scenario("p", 1, n_controls, effect=5.0), np.random.default_rng(31))
    es = _did(panel).event_study
    assert es.height == 21  # 14 leads of 28 days (the first folded) and 7 lags, relative to the pre-period mean
    se, lo, hi, att = (es[c].to_numpy() for c in ("se", "ci_low", "ci_high", "att"))
    assert np.isfinite(se).all() and (se > 0).all()
    assert np.all(lo < att) and np.all(att < hi)
    np.testing.assert_allclose(hi - att, att - lo, rtol=1e-9)  # t intervals, symmetric


def test_the_lags_average_to_the_overall_effect_and_the_leads_to_zero() -> None:
    """The bins are the seasonally adjusted contrast series' means less its pre-period mean, with the seasons the
    overall estimate fits: weighted by their observed periods, the lags average to that estimate, the leads to 0."""
    panel, _ = simulate(Scenario("p", 1, 2, effect=5.0, missing=0.1), np.random.default_rng(32))
    res = _did(panel)
    es = res.event_study
    et = es["event_time"].to_numpy()
    width = int(np.min(np.diff(et)))
    go = int(panel.first_treated[panel.treated].min())
    y = panel.wide()
    observed = np.isfinite(y[panel.treated]).any(axis=0) & np.isfinite(y[~panel.treated]).any(axis=0)
    period_bin = event_time_bins(np.arange(panel.n_times) - go, width, int(et.min()) // width, int(et.max()) // width)
    counts = np.array([np.count_nonzero(observed & (period_bin == k // width)) for k in et])
    att = es["att"].to_numpy()
    lead = et < 0
    assert np.average(att[~lead], weights=counts[~lead]) == pytest.approx(res.att, abs=1e-9)
    assert np.average(att[lead], weights=counts[lead]) == pytest.approx(0.0, abs=1e-9)


def test_a_shutdown_just_before_go_live_moves_one_lead_not_all() -> None:
    """Relative to the bin before go-live, a shutdown there would shift every lead and lag by its dip."""
    panel, _ = simulate(Scenario("p", 1, 2, effect=5.0), np.random.default_rng(35))
    y = panel.wide()
    y[0, 350:357] -= 60.0  # a week at a third of the level, in the last 28 days before go-live (day 365)
    units, times = np.nonzero(np.isfinite(y))
    shut = from_arrays(units, times, y[units, times], panel.first_treated, start_date=START)
    before, after = _did(panel).event_study, _did(shut).event_study
    moved = np.abs(after["att"].to_numpy() - before["att"].to_numpy())
    last_lead = after["event_time"].to_numpy() == -28
    assert moved[last_lead][0] > 10.0  # 7 days of -60 in a 28-day bin: -15, less its share of the pre-period mean
    # the others move by that share (-420 / 365) and by what the annual harmonics take of the dip, not by 15
    assert np.median(moved[~last_lead]) < 1.5
    assert np.all(moved[~last_lead] < moved[last_lead][0] / 2)


def test_a_seasonal_difference_between_sites_stays_out_of_the_leads() -> None:
    """A treated site with twice the controls' annual swing: TWFE leads would trace that swing; these do not."""
    rng = np.random.default_rng(33)
    days = np.arange(730)
    swing = 10.0 * np.sin(2 * np.pi * days / 365.25)
    y = np.vstack([100 + 2 * swing, 80 + swing, 90 + swing]) + rng.normal(0, 1.0, (3, days.size))
    y[0, 450:] += 3.0
    units, times = np.meshgrid(np.arange(3), days, indexing="ij")
    panel = from_arrays(units.ravel(), times.ravel(), y.ravel(), np.array([450, -1, -1]), start_date=START)
    es = _did(panel).event_study
    lead = es["event_time"].to_numpy() < 0
    assert np.max(np.abs(es["att"].to_numpy()[lead])) < 1.0  # the swing between bins is up to ±10
    assert np.all(es["ci_low"].to_numpy()[~lead] < 3.0) and np.all(es["ci_high"].to_numpy()[~lead] > 3.0)


def test_pointwise_coverage_in_a_small_simulation() -> None:
    """120 + 90 daily panels (weekly bins), 1 treated site, 2 controls, AR(1) noise, an effect ramping up over 14 days.
    The bench (1,000 panels) measures 97.7% for the leads and 97.4% for the lags on this design."""
    covered: list[np.ndarray] = []
    scenario = Scenario("c", 1, 2, n_pre=120, n_post=90, effect=5.0)
    for rep in range(60):
        panel, _ = simulate(scenario, np.random.default_rng([34, rep]))
        es = _did(panel).event_study
        et = es["event_time"].to_numpy()
        width = int(np.min(np.diff(et)))
        rel = np.arange(panel.n_times) - scenario.n_pre
        tau = np.where(rel >= 0, scenario.effect * np.minimum(1.0, (rel + 1) / scenario.ramp), 0.0)
        period_bin = event_time_bins(rel, width, int(et.min()) // width, int(et.max()) // width)
        truth = np.array([tau[period_bin == k // width].mean() for k in et])
        covered.append((es["ci_low"].to_numpy() <= truth) & (truth <= es["ci_high"].to_numpy()))
    share = float(np.mean(np.concatenate(covered)))
    assert 0.92 <= share <= 0.995, share


def test_a_monthly_series_takes_its_bins_intervals_from_the_ar1_errors() -> None:
    """Monthly, 24 + 12 months, noise sd 1, a constant effect of 1: the bins' intervals come from the GLS fit's
    AR(1) errors (98-99% coverage, lags 6.4 noise sds wide in the bench), not from a HAR variance with one degree of
    freedom (t(1), about 4 times as wide)."""
    design = Design("m", 1, 2, 24, 12, 0.3, 1.0)
    covered, widths = [], []
    for rep in range(40):
        panel, _ = simulate_monthly(design, np.random.default_rng([36, rep]))
        res = estimate_panel(panel, "did", OPTS)
        assert res.inference.startswith("GLS with AR(1) errors"), res.inference
        es = res.event_study
        truth = np.where(es["event_time"].to_numpy() >= 0, design.effect, 0.0)
        covered.append((es["ci_low"].to_numpy() <= truth) & (truth <= es["ci_high"].to_numpy()))
        lag = es["event_time"].to_numpy() >= 0
        widths.append(float(np.mean((es["ci_high"] - es["ci_low"]).to_numpy()[lag])))
    assert 0.92 <= float(np.mean(np.concatenate(covered))) <= 0.999
    assert np.mean(widths) < 10.0
