"""Simulated panels shaped like ours, with a known effect: for the SC / ITS tests and bench/validation.

Daily data, a few treated sites, weekly and annual seasonality, AR(1) noise, common shocks.

- `simulate_sc_panel`: a factor model; every site loads on common random-walk factors with its own
  loadings, level, weekly profile and AR(1) noise. Treated sites are drawn at random among the sites,
  so treated and donors are exchangeable (the design in-space placebo inference assumes).
- `simulate_its_panel`: sites with no usable controls: level + slow drift + weekly + annual seasonality
  + a small random-walk level + AR(1) noise (the structure the structural model assumes).

Both add `effect` (outcome units, constant) to every treated cell from go-live on and return a polars
frame with columns site (str), date (date), value (float), go_live (date or null).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

START = dt.date(2023, 1, 2)


def _ar1(rng: np.random.Generator, shape: tuple[int, int], rho: float, sigma: float) -> np.ndarray:
    _n, t = shape
    e = rng.normal(0.0, sigma, size=shape)
    out = np.empty(shape)
    out[:, 0] = e[:, 0] / np.sqrt(1 - rho**2)
    for k in range(1, t):
        out[:, k] = rho * out[:, k - 1] + e[:, k]
    return out


def _frame(y: np.ndarray, treated: np.ndarray, n_pre: int) -> pl.DataFrame:
    n_units, n_times = y.shape
    dates = [START + dt.timedelta(days=k) for k in range(n_times)]
    go_live = START + dt.timedelta(days=n_pre)
    sites = [f"S{i:03d}" for i in range(n_units)]
    return pl.DataFrame(
        {
            "site": np.repeat(sites, n_times),
            "date": dates * n_units,
            "value": y.ravel(),
            "go_live": [go_live if treated[i] else None for i in range(n_units) for _ in range(n_times)],
        },
        schema={"site": pl.String, "date": pl.Date, "value": pl.Float64, "go_live": pl.Date},
    )


def simulate_sc_panel(
    rng: np.random.Generator,
    *,
    n_units: int = 21,
    n_treated: int = 1,
    n_pre: int = 180,
    n_post: int = 60,
    effect: float = 0.0,
    n_factors: int = 2,
    rho: float = 0.5,
    sigma: float = 1.0,
) -> pl.DataFrame:
    """A factor-model panel with `n_treated` random treated sites among `n_units` (see module doc)."""
    n_times = n_pre + n_post
    t = np.arange(n_times)
    factors = np.cumsum(rng.normal(0.0, 0.3, size=(n_factors, n_times)), axis=1)
    loadings = rng.uniform(0.5, 1.5, size=(n_units, n_factors))
    level = rng.normal(100.0, 5.0, size=(n_units, 1))
    weekly_amp = rng.uniform(1.0, 3.0, size=(n_units, 1))
    phase = rng.uniform(0, 0.5, size=(n_units, 1))
    annual = 4.0 * np.sin(2 * np.pi * (t / 365.25))[None, :]
    weekly = weekly_amp * np.sin(2 * np.pi * t[None, :] / 7.0 + phase)
    noise = _ar1(rng, (n_units, n_times), rho, sigma)
    y = level + loadings @ factors + weekly + annual + noise
    treated = np.zeros(n_units, bool)
    treated[rng.choice(n_units, size=n_treated, replace=False)] = True
    y[np.ix_(treated, np.arange(n_pre, n_times))] += effect
    return _frame(y, treated, n_pre)


def simulate_its_panel(
    rng: np.random.Generator,
    *,
    n_treated: int = 1,
    n_pre: int = 450,
    n_post: int = 90,
    effect: float = 0.0,
    rho: float = 0.5,
    sigma: float = 1.0,
    level_sd: float = 0.05,
    drift_sd: float = 0.005,
    annual: bool = True,
    common_sigma: float = 0.0,
    common_rho: float = 0.5,
) -> pl.DataFrame:
    """Treated sites only, each with its own drift, seasonality and noise (see module doc), plus an AR(1)
    factor shared by all sites (`common_rho`, innovation sd `common_sigma`; none by default)."""
    n_times = n_pre + n_post
    t = np.arange(n_times)
    level = rng.normal(100.0, 5.0, size=(n_treated, 1))
    drift = rng.normal(0.0, drift_sd, size=(n_treated, 1)) * t[None, :]
    walk = np.cumsum(rng.normal(0.0, level_sd, size=(n_treated, n_times)), axis=1)
    weekly = rng.uniform(1.0, 3.0, size=(n_treated, 1)) * np.sin(2 * np.pi * t[None, :] / 7.0)
    annual_amp = rng.uniform(2.0, 5.0, size=(n_treated, 1)) if annual else np.zeros((n_treated, 1))
    annual = annual_amp * np.sin(2 * np.pi * t[None, :] / 365.25 + 1.0)
    y = level + drift + walk + weekly + annual + _ar1(rng, (n_treated, n_times), rho, sigma)
    if common_sigma > 0:
        y += _ar1(rng, (1, n_times), common_rho, common_sigma)
    y[:, n_pre:] += effect
    return _frame(y, np.ones(n_treated, bool), n_pre)


def simulate_monthly_panel(
    rng: np.random.Generator,
    *,
    n_treated: int = 1,
    n_pre: int = 36,
    n_post: int = 24,
    effect: float = 0.0,
    rho: float = 0.3,
    sigma: float = 1.0,
) -> pl.DataFrame:
    """Monthly series (first of the month) for segmented regression: level + linear trend + annual
    seasonality + AR(1) noise, the structure a segmented regression assumes."""
    n_times = n_pre + n_post
    t = np.arange(n_times)
    level = rng.normal(50.0, 5.0, size=(n_treated, 1))
    slope = rng.normal(0.1, 0.05, size=(n_treated, 1)) * t[None, :]
    season = rng.uniform(1.0, 3.0, size=(n_treated, 1)) * np.sin(2 * np.pi * t[None, :] / 12.0 + 0.5)
    y = level + slope + season + _ar1(rng, (n_treated, n_times), rho, sigma)
    y[:, n_pre:] += effect
    dates = [dt.date(2019 + (k // 12), 1 + k % 12, 1) for k in range(n_times)]
    go_live = dates[n_pre]
    sites = [f"S{i:03d}" for i in range(n_treated)]
    return pl.DataFrame(
        {
            "site": np.repeat(sites, n_times),
            "date": dates * n_treated,
            "value": y.ravel(),
            "go_live": [go_live] * (n_times * n_treated),
        },
        schema={"site": pl.String, "date": pl.Date, "value": pl.Float64, "go_live": pl.Date},
    )


def simulate_monthly_staggered_panel(
    rng: np.random.Generator,
    *,
    n_treated: int = 6,
    n_pre: int = 13,
    stagger: tuple[int, ...] = (0, 4, 8),
    n_post: int = 20,
    effect: float = 0.0,
    ramp: int = 2,
    rho: float = 0.2,
    sigma: float = 1.0,
    common_rho: float = 0.5,
    common_sigma: float = 1.0,
    slope_sd: float = 0.05,
) -> pl.DataFrame:
    """Monthly series of `n_treated` sites, all treated, in cohorts going live `stagger` months after
    month `n_pre` (round-robin), observed for `n_pre + max(stagger) + n_post` months.

    Each site: level + its own linear trend (slope ~ N(0, `slope_sd`)) + annual seasonality + AR(1)
    noise (`rho`, innovation sd `sigma`) + a factor shared by all sites (AR(1) with `common_rho`,
    innovation sd `common_sigma`: the common shocks that make sites' forecast errors correlated). The
    effect ramps up linearly over `ramp` months from go-live to `effect`; the true ATT over the observed
    post cells is therefore below `effect` (see `staggered_true_att`).
    """
    n_times = n_pre + max(stagger) + n_post
    t = np.arange(n_times)
    level = rng.normal(50.0, 5.0, size=(n_treated, 1))
    slope = rng.normal(0.0, slope_sd, size=(n_treated, 1)) * t[None, :]
    season = rng.uniform(1.0, 3.0, size=(n_treated, 1)) * np.sin(2 * np.pi * t[None, :] / 12.0 + 0.5)
    common = _ar1(rng, (1, n_times), common_rho, common_sigma)
    y = level + slope + season + common + _ar1(rng, (n_treated, n_times), rho, sigma)
    tau, go = staggered_effect_paths(
        effect, n_treated=n_treated, n_pre=n_pre, stagger=stagger, n_post=n_post, ramp=ramp
    )
    y += tau
    dates = [dt.date(2019 + (k // 12), 1 + k % 12, 1) for k in range(n_times)]
    sites = [f"S{i:03d}" for i in range(n_treated)]
    return pl.DataFrame(
        {
            "site": np.repeat(sites, n_times),
            "date": dates * n_treated,
            "value": y.ravel(),
            "go_live": [dates[go[i]] for i in range(n_treated) for _ in range(n_times)],
        },
        schema={"site": pl.String, "date": pl.Date, "value": pl.Float64, "go_live": pl.Date},
    )


def _ramp_path(t: np.ndarray, go: np.ndarray, ramp: int) -> np.ndarray:
    since = t[None, :] - go[:, None]
    share = np.ones_like(since, dtype=float) if ramp <= 0 else np.minimum(1.0, (since + 1) / ramp)
    return np.where(since >= 0, share, 0.0)


def staggered_effect_paths(
    effect: float,
    *,
    n_treated: int = 6,
    n_pre: int = 13,
    stagger: tuple[int, ...] = (0, 4, 8),
    n_post: int = 20,
    ramp: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """(τ (n_treated, n_times), go-live month per site) of `simulate_monthly_staggered_panel` with these arguments."""
    n_times = n_pre + max(stagger) + n_post
    go = np.asarray([n_pre + stagger[i % len(stagger)] for i in range(n_treated)], np.int64)
    return effect * _ramp_path(np.arange(n_times), go, ramp), go


def staggered_true_att(effect: float, **layout: Any) -> float:
    """The ATT over all post cells of `simulate_monthly_staggered_panel` with the same arguments."""
    tau, go = staggered_effect_paths(effect, **layout)
    return float(tau[np.arange(tau.shape[1])[None, :] >= go[:, None]].mean())


def staggered_not_yet_treated_att(effect: float, **layout: Any) -> float:
    """The ATT a staggered estimate against the not-yet-live sites targets on `simulate_monthly_staggered_panel`.

    Only cells with a site still to go live enter (none after the last go-live, never the last cohort), so
    the truth is that estimator applied to the effect paths alone.
    """
    from pilot_roi.estimation.staggered import aggregate, group_time_effects

    tau, go = staggered_effect_paths(effect, **layout)
    gt = group_time_effects(tau, go, np.unique(go), base="pre_mean", control_group="not_yet_treated")
    return float(aggregate(gt, "simple").estimate[0])
