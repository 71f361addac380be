"""Simulated pilot panels shaped like ours, with known true effects (shared by bench and tests).

y_it = μ_i + a_i (weekly_t + annual_t) + λ_t + s_i ε_it + τ_it, daily, where
- μ_i ~ 100 + 20 N(0,1): site level; a_i ~ 1 + 0.15 N(0,1): site-specific seasonal amplitude;
- weekly_t: a weekday profile (amplitude ~8), annual_t: 10 sin(2π doy / 365.25);
- λ_t: a common AR(1) shock (ρ = 0.8, sd 3) every site feels (what a control group absorbs);
- ε_it: AR(1) noise per site (ρ = `rho`, stationary sd `sigma`); s_i = 1 or, with `hetero_noise`,
  log-normal site scales (sd 0.4) — exchangeability across sites then fails;
- τ_it = effect_i · min(1, (t - g_i + 1) / ramp) from go-live g_i on; effect_i = `effect`, or with
  `heterogeneous` effect · (1 + 0.5 N(0,1)).
The truth is the sample ATT: the mean of τ_it over treated post cells (what `att` estimates).
`missing` drops that share of site-days at random and `gap_days` > 0 a run of that many days per site
(an export gap, at a random place): an unbalanced panel; the truth is then the mean of τ_it over the
treated post cells observed.
A `trend_break` adds a treated-only linear drift from the middle of the pre-period (a violation of
parallel trends; the pre-trend test and placebo should notice).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pilot_roi.estimation.panel import PanelData, from_arrays

START = dt.date(2023, 1, 2)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One simulation design (see the module docstring)."""

    name: str
    n_treated: int
    n_controls: int
    n_pre: int = 365
    n_post: int = 180
    effect: float = 0.0
    n_cohorts: int = 1
    cohort_gap: int = 30
    ramp: int = 14
    rho: float = 0.6
    sigma: float = 6.0
    heterogeneous: bool = False
    hetero_noise: bool = False
    trend_break: float = 0.0
    missing: float = 0.0
    gap_days: int = 0


def _ar1(rng: np.random.Generator, n: int, t: int, rho: float, sd: float) -> np.ndarray:
    shocks = rng.normal(0.0, sd * np.sqrt(1 - rho**2), size=(n, t))
    out = np.empty((n, t))
    out[:, 0] = rng.normal(0.0, sd, size=n)
    for j in range(1, t):
        out[:, j] = rho * out[:, j - 1] + shocks[:, j]
    return out


def simulate(s: Scenario, rng: np.random.Generator) -> tuple[PanelData, float]:
    """One daily panel (balanced unless `missing`/`gap_days`) and its true ATT over observed treated post cells."""
    n = s.n_treated + s.n_controls
    t_total = s.n_pre + s.n_post + (s.n_cohorts - 1) * s.cohort_gap
    days = np.arange(t_total)
    dow = (days + START.weekday()) % 7
    weekly = np.array([2.0, 4.0, 5.0, 4.0, 3.0, -7.0, -11.0])[dow]
    doy = (days + START.timetuple().tm_yday - 1) % 365.25
    annual = 10.0 * np.sin(2 * np.pi * doy / 365.25)
    mu = 100.0 + 20.0 * rng.normal(size=n)
    amp = 1.0 + 0.15 * rng.normal(size=n)
    common = _ar1(rng, 1, t_total, 0.8, 3.0)[0]
    scale = np.exp(0.4 * rng.normal(size=n)) if s.hetero_noise else np.ones(n)
    noise = _ar1(rng, n, t_total, s.rho, s.sigma) * scale[:, None]
    y = mu[:, None] + amp[:, None] * (weekly + annual)[None, :] + common[None, :] + noise
    go_live = np.full(n, -1, np.int64)
    for i in range(s.n_treated):
        go_live[i] = s.n_pre + (i % s.n_cohorts) * s.cohort_gap
    effect_i = s.effect * (1 + 0.5 * rng.normal(size=n)) if s.heterogeneous else np.full(n, s.effect)
    tau = np.zeros((n, t_total))
    for i in range(s.n_treated):
        g = go_live[i]
        ramp = np.minimum(1.0, (days[g:] - g + 1) / max(s.ramp, 1))
        tau[i, g:] = effect_i[i] * ramp
        if s.trend_break:
            start = s.n_pre // 2
            y[i, start:] += s.trend_break * (days[start:] - start) / 30.0
    y = y + tau
    observed = np.ones((n, t_total), bool)
    if s.missing > 0:
        observed &= rng.random((n, t_total)) >= s.missing
    if s.gap_days > 0:
        for i in range(n):
            start = int(rng.integers(0, max(t_total - s.gap_days, 1)))
            observed[i, start : start + s.gap_days] = False
    post = days[None, :] >= np.where(go_live >= 0, go_live, t_total + 1)[:, None]
    post_seen = post & observed
    truth = float(tau[post_seen].mean()) if post_seen.any() else 0.0
    units, times = np.meshgrid(np.arange(n), days, indexing="ij")
    keep = observed.ravel()
    panel = from_arrays(units.ravel()[keep], times.ravel()[keep], y.ravel()[keep], go_live, start_date=START)
    return panel, truth


def not_yet_treated_estimand(s: Scenario, rng_seed: list[int]) -> float:
    """The truth a staggered estimate against not-yet-live sites targets when every site goes live.

    Only the cells with a site still to go live can be estimated (none after the last go-live, and never the
    last cohort's), so the truth is the estimator applied to the effects alone: the same cell weights over
    τ_it. The panel is drawn twice from the same seed, with and without the effect (the draws do not depend
    on it), and τ is their difference on the observed cells.
    """
    from dataclasses import replace

    from pilot_roi.estimation.staggered import aggregate, group_time_effects

    with_effect, _ = simulate(s, np.random.default_rng(rng_seed))
    without, _ = simulate(replace(s, effect=0.0), np.random.default_rng(rng_seed))
    tau = with_effect.wide() - without.wide()
    unit_group = with_effect.first_treated.astype(np.int64)
    cohorts = np.unique(unit_group[unit_group >= 0])
    gt = group_time_effects(tau, unit_group, cohorts, base="pre_mean", control_group="not_yet_treated")
    return float(aggregate(gt, "simple").estimate[0])
