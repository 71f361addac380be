"""DiD with one or two controls on monthly and coarser series: GLS with AR(1) errors instead of a HAR variance.

Before 2026-11-28 these took the HAR variance, which has one or two degrees of freedom on a few years of months
(t(1): ±12.7 standard errors). The full simulation is `bench/validation/har_monthly.py`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from har_monthly import Design, simulate

from pilot_roi.estimation.api import estimate_panel
from pilot_roi.estimation.ar1_regression import fit_ar1_regression, linear_interval, two_sided_p
from pilot_roi.estimation.har import hac_contrast
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import from_arrays
from pilot_roi.estimation.result import EffectResult

OPTS = EstimationOptions(diagnostics=False, robustness=False)
MONTHLY = Design("m", 1, 2, 36, 12, 0.3, 1.0)


def test_a_monthly_pilot_with_two_controls_gets_a_gls_interval() -> None:
    panel, truth = simulate(MONTHLY, np.random.default_rng(41))
    res = estimate_panel(panel, "did", OPTS)
    assert res.inference.startswith("GLS with AR(1) errors"), res.inference
    assert hac_contrast(panel, panel.treated, panel.never_treated, 0.05).dof < 2  # what it had: t(1)
    assert res.ci_low < truth < res.ci_high
    assert res.pre_trend_p is not None and 0.0 < res.pre_trend_p <= 1.0


@pytest.mark.parametrize(
    "design",
    [Design("w", 1, 2, 104, 52, 0.5, frequency="weekly")],
)
def test_weekly_series_keep_the_har_interval(design: Design) -> None:
    panel, _ = simulate(design, np.random.default_rng(42))
    assert estimate_panel(panel, "did", OPTS).inference.startswith("HAR")


def test_a_month_no_site_reported_is_a_gap_in_time_for_the_gls() -> None:
    """Until 2026-11-28 a month missing inside the series sent the pilot back to the HAR interval, t(1): about three
    times as wide. The AR(1) GLS now whitens across the gap by the two-month correlation."""
    panel, truth = simulate(MONTHLY, np.random.default_rng(43))
    keep = panel.time_idx != 20
    gappy = from_arrays(
        panel.unit_idx[keep],
        np.where(panel.time_idx[keep] > 20, panel.time_idx[keep] - 1, panel.time_idx[keep]),
        panel.y[keep],
        np.where(panel.first_treated >= 0, panel.first_treated - 1, -1),
        time_ordinal=np.delete(panel.time_ordinal, 20) - panel.time_ordinal[0],
        start_date=panel.time_labels[0].astype(object),
    )
    whole, holed = estimate_panel(panel, "did", OPTS), estimate_panel(gappy, "did", OPTS)
    assert holed.inference.startswith("GLS with AR(1) errors"), holed.inference
    assert _t_df(holed) == _t_df(whole) - 1  # one observation fewer, the same columns
    assert holed.ci_high - holed.ci_low < 1.2 * (whole.ci_high - whole.ci_low)
    assert holed.ci_low < truth < holed.ci_high
    assert holed.pre_trend_p is not None and 0.0 < holed.pre_trend_p <= 1.0
    es = holed.event_study
    assert np.isfinite(es["ci_low"].to_numpy()).all() and np.isfinite(es["ci_high"].to_numpy()).all()


def _t_df(res: EffectResult) -> int:
    found = re.search(r"t with (\d+) df", res.inference)
    assert found is not None, res.inference
    return int(found.group(1))


def test_months_missing_at_random_keep_the_gls_coverage_and_power() -> None:
    """10% of site-months missing (so a month of the contrast series is missing where the treated site is): the
    bench measures, on 2,000 panels, the coverage and power of `test_coverage_power_...` below; HAR, what these
    panels had, about 99% and 6%."""
    design = Design("g", 1, 2, 36, 12, 0.3, 1.0, missing=0.1)
    covered, rejected, width, har_width = [], [], [], []
    for rep in range(120):
        panel, truth = simulate(design, np.random.default_rng([47, rep]))
        res = estimate_panel(panel, "did", OPTS)
        assert res.inference.startswith("GLS with AR(1) errors"), res.inference
        covered.append(res.ci_low <= truth <= res.ci_high)
        rejected.append(res.p_value < 0.05)
        width.append(res.ci_high - res.ci_low)
        har = hac_contrast(panel, panel.treated, panel.never_treated, 0.05)
        har_width.append(float(har.ci_high[0] - har.ci_low[0]))
    assert 0.92 <= np.mean(covered) <= 0.995
    assert np.mean(rejected) >= 0.15
    assert np.mean(width) < 0.5 * np.mean(har_width)


def test_coverage_power_and_the_pre_trend_test_in_a_small_simulation() -> None:
    """The bench (2,000 panels) measures 96.9% coverage and 28.3% power at an effect of one noise sd here (HAR:
    98.5% and 6.8%), and a pre-trend test that rejects 1.4% of panels without a drift."""
    covered, rejected, pre_rejected, width, har_width = [], [], [], [], []
    for rep in range(150):
        panel, truth = simulate(MONTHLY, np.random.default_rng([44, rep]))
        res = estimate_panel(panel, "did", OPTS)
        covered.append(res.ci_low <= truth <= res.ci_high)
        rejected.append(res.p_value < 0.05)
        pre_rejected.append(res.pre_trend_p is not None and res.pre_trend_p < 0.05)
        width.append(res.ci_high - res.ci_low)
        har = hac_contrast(panel, panel.treated, panel.never_treated, 0.05)
        har_width.append(float(har.ci_high[0] - har.ci_low[0]))
    assert 0.92 <= np.mean(covered) <= 0.995
    assert np.mean(rejected) >= 0.15  # HAR's 6.8% would fail this
    assert np.mean(pre_rejected) <= 0.06
    assert np.mean(width) < 0.5 * np.mean(har_width)  # 2.88 against 8.55 in the bench


def test_a_strong_drift_before_go_live_is_flagged() -> None:
    """One noise sd a month from the middle of the pre-period (the test is weak: +2 a year, 19.8% in the bench)."""
    drifting = Design("d", 1, 2, 36, 12, 0.3, drift=12.0)
    flagged = [
        estimate_panel(simulate(drifting, np.random.default_rng([45, rep]))[0], "did", OPTS).pre_trend_p < 0.05
        for rep in range(40)
    ]
    assert np.mean(flagged) >= 0.8


def test_the_mixture_p_value_agrees_with_the_mixture_interval() -> None:
    """p < alpha exactly when the (1 - alpha) interval leaves zero out; symmetric in the sign of g."""
    rng = np.random.default_rng(46)
    for shift in (0.0, 0.3, 0.6, 1.2):
        e = np.zeros(40)
        for t in range(1, 40):
            e[t] = 0.5 * e[t - 1] + rng.normal()
        x = np.column_stack([np.ones(40), np.arange(40) >= 25])
        fit = fit_ar1_regression(e + shift * x[:, 1], x)
        g = np.array([0.0, 1.0])
        low, high = linear_interval(fit, g, 0.05)
        p = two_sided_p(fit, g)
        assert (p < 0.05) == (not low <= 0.0 <= high), (shift, p, low, high)
        assert two_sided_p(fit, -g) == pytest.approx(p, abs=1e-12)
