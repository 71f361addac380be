"""Regression with AR(1) errors, rho integrated out: checked against dense-matrix formulas and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import logsumexp
from scipy.stats import t as t_dist

from pilot_roi.estimation.ar1_regression import Ar1Fit, fit_ar1_regression, linear_interval


def _series(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=float)
    x = np.column_stack([np.ones(n), (t >= n // 2).astype(float), t / n, np.sin(2 * np.pi * t / 12)])
    e = np.empty(n)
    e[0] = rng.normal() / math.sqrt(1 - rho**2)
    for k in range(1, n):
        e[k] = rho * e[k - 1] + rng.normal()
    return x @ np.array([5.0, 1.0, 2.0, 1.5]) + e, x


def _ar1_corr(n: int, rho: float) -> np.ndarray:
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return rho**lag / (1 - rho**2)


def test_gls_given_rho_matches_statsmodels_gls_with_the_ar1_covariance() -> None:
    y, x = _series(np.random.default_rng(1), 60, 0.5)
    fit = fit_ar1_regression(y, x)
    checked = 0
    for j in range(0, fit.rho.size, 7):
        ref = sm.GLS(y, x, sigma=_ar1_corr(y.size, float(fit.rho[j]))).fit()
        np.testing.assert_allclose(fit.beta[j], ref.params, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fit.scaled_inverse[j], ref.cov_params(), rtol=1e-8, atol=1e-12)
        checked += 1
    assert checked >= 5


def test_weights_are_the_restricted_likelihood_times_a_prior_flat_on_artanh_rho() -> None:
    # Dense REML: -1/2 log|S| - 1/2 log|X'S^-1 X| - (n - k)/2 log(y'P y), P the GLS residual projector.
    y, x = _series(np.random.default_rng(2), 40, 0.4)
    fit = fit_ar1_regression(y, x)
    n, k = x.shape
    logs = []
    for rho in fit.rho:
        s_inv = np.linalg.inv(_ar1_corr(n, float(rho)))
        xs = x.T @ s_inv @ x
        p = s_inv - s_inv @ x @ np.linalg.solve(xs, x.T @ s_inv)
        _, logdet_s = np.linalg.slogdet(np.linalg.inv(s_inv))
        _, logdet_xs = np.linalg.slogdet(xs)
        reml = -0.5 * logdet_s - 0.5 * logdet_xs - 0.5 * (n - k) * math.log(float(y @ p @ y))
        logs.append(reml - math.log(1 - rho**2))  # d artanh(rho) / d rho = 1 / (1 - rho^2)
    expected = np.exp(np.asarray(logs) - logsumexp(logs))
    np.testing.assert_allclose(fit.weight, expected / expected.sum(), rtol=1e-7, atol=1e-12)


def test_rho_is_recovered_on_a_long_series() -> None:
    y, x = _series(np.random.default_rng(3), 2000, 0.6)
    fit = fit_ar1_regression(y, x)
    sd = math.sqrt(float(fit.weight @ (fit.rho - fit.rho_mean) ** 2))
    assert abs(fit.rho_mean - 0.6) < 3 * math.sqrt((1 - 0.36) / 2000)
    assert sd < 0.03
    assert fit.rho_mode == pytest.approx(fit.rho_mean, abs=0.02)


def test_short_series_spread_rho_and_widen_the_interval_beyond_the_plug_in() -> None:
    # 33 points: rho is poorly known, and the mixture's interval is wider than the t interval at its mode.
    y, x = _series(np.random.default_rng(4), 33, 0.5)
    fit = fit_ar1_regression(y, x)
    g = np.array([0.0, 1.0, 0.0, 0.0])
    low, high = linear_interval(fit, g, 0.05)
    j = int(np.argmax(fit.weight))
    half_plug_in = float(t_dist.ppf(0.975, fit.df)) * math.sqrt(float(g @ fit.scaled_inverse[j] @ g))
    assert fit.rho.size > 50  # the likelihood leaves a wide range of rho in play
    assert (high - low) / 2 > 1.05 * half_plug_in
    assert low < float(fit.beta_mean @ g) < high


def test_one_rho_gives_the_student_t_interval() -> None:
    one = Ar1Fit(
        rho=np.array([0.3]),
        weight=np.array([1.0]),
        beta=np.array([[2.0, 1.0]]),
        scaled_inverse=np.array([[[0.25, 0.0], [0.0, 4.0]]]),
        noise_var=np.array([1.0]),
        df=12,
    )
    low, high = linear_interval(one, np.array([0.0, 1.0]), 0.10)
    q = float(t_dist.ppf(0.95, 12))
    assert low == pytest.approx(1.0 - 2.0 * q, rel=1e-8)
    assert high == pytest.approx(1.0 + 2.0 * q, rel=1e-8)
    np.testing.assert_allclose(one.vcov, np.diag([0.25, 4.0]) * 12 / 10)


def test_too_few_points_for_the_columns_are_refused() -> None:
    y, x = _series(np.random.default_rng(5), 6, 0.2)
    with pytest.raises(ValueError, match="6 points cannot fit 4 columns"):
        fit_ar1_regression(y, x)


def test_negative_autocorrelation_never_narrows_the_interval() -> None:
    # rho is kept >= 0: a series whose residuals alternate in sign gets at least the interval of rho = 0.
    y, x = _series(np.random.default_rng(6), 40, -0.6)
    fit = fit_ar1_regression(y, x)
    g = np.array([0.0, 1.0, 0.0, 0.0])
    low, high = linear_interval(fit, g, 0.05)
    ols = sm.OLS(y, x).fit()
    half_ols = float(t_dist.ppf(0.975, fit.df)) * float(ols.bse[1])
    assert fit.rho.min() >= 0.0
    assert fit.rho_mode == 0.0
    assert (high - low) / 2 >= half_ols


def _gappy(rng: np.random.Generator, n: int, rho: float, drop: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_series` with a share `drop` of its interior rows removed: (y, x, the kept rows' periods)."""
    y, x = _series(rng, n, rho)
    kept = np.r_[True, rng.random(n - 2) >= drop, True]
    return y[kept], x[kept], np.flatnonzero(kept)


def test_rows_with_gaps_take_the_ar1_covariance_at_their_distances() -> None:
    # Failure mode: the two months around a missing one whitened as neighbours, their two-month correlation
    # rho^2 read as rho. Reference: GLS and the restricted likelihood with the dense covariance rho^|t_i - t_j|.
    y, x, periods = _gappy(np.random.default_rng(7), 60, 0.7, 0.25)
    assert np.max(np.diff(periods)) >= 3  # gaps of one and of several periods
    fit = fit_ar1_regression(y, x, periods)
    n, k = x.shape
    lag = np.abs(np.subtract.outer(periods, periods))
    logs = []
    for j, rho in enumerate(fit.rho):
        sigma = rho**lag / (1 - rho**2)
        ref = sm.GLS(y, x, sigma=sigma).fit()
        np.testing.assert_allclose(fit.beta[j], ref.params, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fit.scaled_inverse[j], ref.cov_params(), rtol=1e-8, atol=1e-12)
        s_inv = np.linalg.inv(sigma)
        xs = x.T @ s_inv @ x
        p = s_inv - s_inv @ x @ np.linalg.solve(xs, x.T @ s_inv)
        reml = -0.5 * np.linalg.slogdet(sigma)[1] - 0.5 * np.linalg.slogdet(xs)[1]
        logs.append(reml - 0.5 * (n - k) * math.log(float(y @ p @ y)) - math.log(1 - rho**2))
    expected = np.exp(np.asarray(logs) - logsumexp(logs))
    np.testing.assert_allclose(fit.weight, expected / expected.sum(), rtol=1e-7, atol=1e-12)
    # the gaps matter on this series: as neighbours, its step's interval is a third narrower (4.8 against 6.7)
    g = np.array([0.0, 1.0, 0.0, 0.0])
    low, high = linear_interval(fit, g, 0.05)
    low_n, high_n = linear_interval(fit_ar1_regression(y, x), g, 0.05)
    assert high_n - low_n < 0.8 * (high - low)


def test_consecutive_periods_change_no_bit() -> None:
    y, x = _series(np.random.default_rng(8), 40, 0.4)
    implicit, explicit = fit_ar1_regression(y, x), fit_ar1_regression(y, x, np.arange(40) + 7)
    for name in ("rho", "weight", "beta", "scaled_inverse", "noise_var"):
        assert np.array_equal(getattr(implicit, name), getattr(explicit, name)), name


@pytest.mark.parametrize("periods", [np.array([0, 1, 1, 2]), np.array([0, 2, 1, 3]), np.arange(5)])
def test_periods_that_do_not_step_forward_row_by_row_are_refused(periods: np.ndarray) -> None:
    y, x = _series(np.random.default_rng(9), 4, 0.2)
    with pytest.raises(ValueError, match="periods must increase"):
        fit_ar1_regression(y, x[:, :1], periods)
