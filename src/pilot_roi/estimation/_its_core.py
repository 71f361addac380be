"""Numeric core of interrupted time series: pure functions over one unit's regular series.

Series are float64 arrays on a regular grid (NaN where a period is missing); `go_live` is the grid
index of the first treated period; outcomes and effects are in the outcome's units.

Two counterfactuals:
- `structural_fit`: a structural time-series model (statsmodels `UnobservedComponents`: local level
  plus a deterministic slope by default, AR(1) noise, long seasonal cycles as Fourier regressors whose
  coefficients live in the state vector so their uncertainty reaches the forecast; cycles shorter than
  a month, the day of the week, fitted by least squares beforehand) fitted on the
  pre-period and forecast over the post-period. The mean post gap's standard error is the forecast
  error of the summed counterfactual, computed exactly from the state-space form (state uncertainty at
  go-live and future shocks) and mixed over parameter vectors drawn around the estimates (the variance
  parameters' own uncertainty).
- `segmented_fit`: segmented regression over the whole series: intercept, trend, a level step and
  (optionally) a slope change at go-live, Fourier seasonality; Gaussian with AR(1) errors (GLS with
  rho integrated out over its likelihood: `ar1_regression`) or Newey-West (HAC) errors,
  or Poisson/quasi-Poisson (log link, optional offset) for counts.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import t as t_dist

from pilot_roi.estimation.ar1_regression import Ar1Fit, fit_ar1_regression, linear_interval

Frequency = Literal["daily", "weekly", "monthly", "quarterly", "annual", "integer"]

_EPOCH_YEAR = 1970
MIN_OBS_PARAM_DRAWS = 60
SHORT_CYCLE = 31.0  # seasonal cycles shorter than this many grid steps are fitted outside the state model


@dataclass(frozen=True, slots=True)
class Grid:
    """A regular time grid for a panel's time axis.

    `frequency` as detected; `position` int64 (n_times,) grid index of each panel time; `n_grid` the
    grid length; `seasonal_periods` the seasonal cycles worth modelling, in grid steps (e.g. 7.0 and
    365.25 for daily data, 12.0 for monthly).
    """

    frequency: Frequency
    position: np.ndarray
    n_grid: int
    seasonal_periods: tuple[float, ...]


def detect_grid(time_ordinal: np.ndarray, time_kind: str) -> Grid:
    """Frequency and regular grid from a panel's `time_ordinal` (days since 1970-01-01 for dates)."""
    ordinal = np.asarray(time_ordinal, np.int64)
    if ordinal.shape[0] < 2:
        return Grid("integer", np.zeros(ordinal.shape[0], np.int64), int(ordinal.shape[0]), ())
    diffs = np.diff(ordinal)
    if time_kind != "date":
        step = int(np.gcd.reduce(diffs)) or 1
        pos = (ordinal - ordinal[0]) // step
        return Grid("integer", pos.astype(np.int64), int(pos[-1]) + 1, ())
    # the smallest step is the frequency: gaps only lengthen some steps
    med = float(np.min(diffs))
    dates = (ordinal.astype("datetime64[D]")).astype(object)
    if med <= 1.5:
        pos = ordinal - ordinal[0]
        return Grid("daily", pos, int(pos[-1]) + 1, (7.0, 365.25))
    if med <= 8.5:
        pos = np.rint((ordinal - ordinal[0]) / 7.0).astype(np.int64)
        return Grid("weekly", pos, int(pos[-1]) + 1, (365.25 / 7.0,))
    months = np.asarray([(d.year - _EPOCH_YEAR) * 12 + d.month - 1 for d in dates], np.int64)
    if med <= 45:
        pos = months - months[0]
        return Grid("monthly", pos, int(pos[-1]) + 1, (12.0,))
    if med <= 120:
        quarters = months // 3
        pos = quarters - quarters[0]
        return Grid("quarterly", pos, int(pos[-1]) + 1, (4.0,))
    years = np.asarray([d.year for d in dates], np.int64)
    pos = years - years[0]
    return Grid("annual", pos, int(pos[-1]) + 1, ())


def fourier(t: np.ndarray, period: float, harmonics: int) -> np.ndarray:
    """Sine/cosine pairs (n, 2 · harmonics) of `t` for a cycle of `period` steps."""
    t = np.asarray(t, float)
    cols = []
    for k in range(1, harmonics + 1):
        ang = 2.0 * np.pi * k * t / period
        cols.extend([np.sin(ang), np.cos(ang)])
    return np.column_stack(cols) if cols else np.empty((t.shape[0], 0))


def seasonal_terms(t: np.ndarray, periods: tuple[float, ...], n_pre: int) -> tuple[np.ndarray, list[str]]:
    """Fourier regressors for the cycles the pre-period can identify (at least one full cycle).

    Weekly cycles (period 7) get 3 harmonics (a free day-of-week profile); longer cycles 2, or fewer when
    the cycle has fewer than 4 steps per harmonic pair.
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for p in periods:
        if n_pre < p or p < 2:
            continue
        k = 3 if abs(p - 7.0) < 1e-9 else 2
        k = min(k, int(p // 2))
        if k < 1:
            continue
        blocks.append(fourier(t, p, k))
        names.append(f"period_{p:g}x{k}")
    if not blocks:
        return np.empty((t.shape[0], 0)), []
    return np.column_stack(blocks), names


@dataclass(frozen=True, slots=True)
class UnitForecast:
    """One unit's counterfactual over its grid (n,) in outcome units.

    `counterfactual`: one-step-ahead predictions before go-live, the forecast after; `cf_se`: the
    standard error of the counterfactual (prediction error of the observation, pre and post);
    `cum_sd` (n_post,): the standard deviation of the counterfactual summed over the observed post
    periods up to each step (the sum's forecast error, parameter uncertainty included); `info`: model
    facts for the diagnostics.
    """

    counterfactual: np.ndarray
    cf_se: np.ndarray
    cum_sd: np.ndarray
    info: dict[str, object]


def structural_fit(
    y: np.ndarray,
    go_live: int,
    *,
    seasonal_periods: tuple[float, ...],
    exog: np.ndarray | None = None,
    trend: str = "lldtrend",
    ar: bool = True,
    level_sd_floor: float = 0.01,
    n_param_draws: int = 10,
    rng: np.random.Generator,
) -> UnitForecast:
    """Fit `UnobservedComponents` on y[:go_live] and forecast the rest, with the summed forecast's error.

    `y` float64 (n,) with NaN for missing periods; `exog` (n, k) extra regressors (e.g. control
    series), complete. `trend` is a statsmodels level specification ("llevel", "lldtrend", "lltrend",
    "dtrend", ...). With `n_param_draws` > 1 the error carries the variance parameters' uncertainty too:
    `n_param_draws` parameter vectors are drawn from the estimates' asymptotic normal distribution
    (projected onto the variances' floors and a stationary AR coefficient), each forecasts from its own filtered
    state, and `cum_sd` is the spread of that mixture (what simulated paths from the draws would show,
    without their Monte Carlo noise). With 0 or 1, or fewer than `MIN_OBS_PARAM_DRAWS` observed
    pre-periods, the fitted parameters are taken as known.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    n = y.shape[0]
    t = np.arange(n, dtype=float)
    short = tuple(p for p in seasonal_periods if p < SHORT_CYCLE)
    season, season_names = seasonal_terms(t, tuple(p for p in seasonal_periods if p >= SHORT_CYCLE), go_live)
    short_season, short_names = seasonal_terms(t, short, go_live)
    blocks = [season]
    if exog is not None and exog.size:
        blocks.append(np.asarray(exog, float).reshape(n, -1))
    x = np.column_stack(blocks) if any(b.shape[1] for b in blocks) else None
    x_pre = x[:go_live] if x is not None else None
    x_post = x[go_live:] if x is not None else None
    # Short cycles (the day of the week) are taken out by least squares before the model sees the series:
    # as state regressors they would make every likelihood evaluation ~4x dearer, and a slowly moving level
    # has almost no power at their frequencies, so neither the variance estimates nor the post-period
    # mean (whole weeks average the profile out) depend on how they are fitted.
    short_fit = _short_cycle_fit(y[:go_live], short_season, x_pre)
    y_model = y - short_fit
    model = UnobservedComponents(
        y_model[:go_live],
        level=trend,
        autoregressive=1 if ar else None,
        exog=x_pre,
        mle_regression=False,
    )
    converged = True
    floored = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res_free = model.fit(disp=False, maxiter=200)
        fitted = np.asarray(res_free.params, float).copy()
        # A random-walk level with a small variance is hard to tell from none: the likelihood often
        # puts it at zero, and the forecast then ignores drift it cannot rule out. Like CausalImpact's
        # prior on the level's sd (0.01 of the outcome's sd), keep at least that much level variance.
        floor = (level_sd_floor * float(np.nanstd(y[:go_live]))) ** 2
        names = list(model.param_names)
        if "sigma2.level" in names and float(fitted[names.index("sigma2.level")]) < floor:
            fitted[names.index("sigma2.level")] = floor
            floored = True
        res = model.filter(fitted, cov_type="none")
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            converged = False
    steps = n - go_live
    fc = res.get_forecast(steps, exog=x_post)
    fc_mean = np.asarray(fc.predicted_mean, float)
    fc_se = np.asarray(fc.se_mean, float)
    floors = {"sigma2.level": floor} if floored else {}
    cap = float(np.nanvar(y[:go_live]))
    # the normal approximation to the variance estimates needs a long pre-period: with a few dozen points
    # the likelihood is too flat for the Hessian to bound them (short series default to segmented fits)
    use_draws = n_param_draws > 1 and int(np.isfinite(y[:go_live]).sum()) >= MIN_OBS_PARAM_DRAWS
    draws = _parameter_draws(res, res_free, n_param_draws, rng, floors, cap) if use_draws else None
    thetas = np.asarray(res.params, float)[None, :] if draws is None else draws
    extended = model.clone(np.concatenate([y_model[:go_live], np.full(steps, np.nan)]), exog=x)
    weights = np.isfinite(y[go_live:]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cum_sd = _cumulative_forecast_sd(model, extended, thetas, go_live, weights)
    pre_pred = np.asarray(res.fittedvalues, float) + short_fit[:go_live]
    fc_mean = fc_mean + short_fit[go_live:]
    pre_se = np.sqrt(np.asarray(res.filter_results.forecasts_error_cov[0, 0, :], float))
    # the first periods are diffuse: no honest one-step prediction yet
    burn = int(getattr(res, "loglikelihood_burn", 0) or 0)
    pre_pred[:burn] = np.nan
    pre_se[:burn] = np.nan
    params = {str(k): float(v) for k, v in zip(res.model.param_names, np.asarray(res.params), strict=True)}
    info: dict[str, object] = {
        "model": "structural",
        "trend": trend,
        "ar1": ar,
        "seasonality": short_names + season_names,
        "n_exog": 0 if exog is None else int(np.asarray(exog).reshape(n, -1).shape[1]),
        "params": params,
        "converged": converged,
        "level_variance_floored": floored,
        "parameter_uncertainty": draws is not None,
        "aic": float(res.aic),
    }
    return UnitForecast(
        counterfactual=np.concatenate([pre_pred, fc_mean]),
        cf_se=np.concatenate([pre_se, fc_se]),
        cum_sd=cum_sd,
        info=info,
    )


def _short_cycle_fit(y_pre: np.ndarray, short: np.ndarray, x_pre: np.ndarray | None) -> np.ndarray:
    """The short cycles' fitted profile over the whole grid (n,), from least squares on the pre-period.

    `short` (n, m) holds the short cycles' Fourier columns; the fit also has an intercept, a linear trend
    and the model's other regressors `x_pre` so that they do not leak into the profile.
    """
    n, n_pre = short.shape[0], y_pre.shape[0]
    if short.shape[1] == 0:
        return np.zeros(n)
    t = np.arange(n_pre, dtype=float) / max(n_pre, 1)
    others = [np.ones(n_pre), t] + ([x_pre] if x_pre is not None and x_pre.size else [])
    design = np.column_stack([short[:n_pre], *others])
    seen = np.isfinite(y_pre)
    coef, *_ = np.linalg.lstsq(design[seen], y_pre[seen], rcond=None)
    return np.asarray(short @ coef[: short.shape[1]], float)


_SYSTEM = ("design", "obs_intercept", "obs_cov", "transition", "state_intercept", "selection", "state_cov")
_MATRIX = {"design", "obs_cov", "transition", "selection", "state_cov"}  # the rest are vectors


def _cumulative_forecast_sd(
    model: Any, extended: Any, thetas: np.ndarray, go_live: int, weights: np.ndarray
) -> np.ndarray:
    """Sd (n_post,) of the weighted cumulative forecast sum over the mixture of parameter vectors `thetas`.

    `model` is fitted on the pre-period; `extended` is the same model over the whole grid (NaN after
    go-live) whose system matrices carry the post-period regressors. Each vector filters the pre-period
    for its state at go-live; the mixture's variance is the mean within-vector variance plus the
    variance of the vectors' mean sums.
    """
    starts, covs, systems = [], [], []
    for theta in thetas:
        filtered = model.filter(theta, return_ssm=True)
        starts.append(np.asarray(filtered.predicted_state[:, go_live], float))
        covs.append(np.asarray(filtered.predicted_state_cov[:, :, go_live], float))
        extended.update(theta)
        system = {}
        for name in _SYSTEM:
            value = np.asarray(extended.ssm[name], float)
            varies = value.ndim == (3 if name in _MATRIX else 2)
            system[name] = value[..., go_live:].copy() if varies else value.copy()
        systems.append(system)
    stacked = {name: np.stack([s[name] for s in systems]) for name in _SYSTEM}
    means, cumvar = cumulative_forecast_moments(stacked, np.stack(starts), np.stack(covs), weights)
    cum_means = np.cumsum(means * weights[None, :], axis=1)
    return np.sqrt(cumvar.mean(axis=0) + cum_means.var(axis=0))


def cumulative_forecast_moments(
    system: dict[str, np.ndarray], start: np.ndarray, start_cov: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast means (D, h) and variances (D, h) of the weighted cumulative sums sum_{j<=h} w_j y_j.

    For D parameter vectors at once (leading axis D everywhere): `system` holds statsmodels' state-space
    matrices (`_SYSTEM`; a trailing time axis over the forecast steps where they vary), `start`/`start_cov`
    the predicted state (D, k) and its covariance (D, k, k) at the first forecast step, `weights` (h,).
    With C_h = Cov(state_h, S_{h-1}): Var S_h = Var S_{h-1} + w^2 (Z P Z' + H) + 2 w Z C_h and
    C_{h+1} = T (C_h + w P Z'); the state moments follow the usual prediction step.
    """

    def at(name: str, h: int) -> np.ndarray:
        value = system[name]
        return value[..., h] if value.ndim == (4 if name in _MATRIX else 3) else value

    n_draws, steps = start.shape[0], weights.shape[0]
    state, cov = start.copy(), start_cov.copy()
    cross = np.zeros_like(start)
    running = np.zeros(n_draws)
    means = np.empty((n_draws, steps))
    cumvar = np.empty((n_draws, steps))
    for h in range(steps):
        z = at("design", h)[:, 0, :]
        transition, selection = at("transition", h), at("selection", h)
        w = float(weights[h])
        means[:, h] = np.einsum("dk,dk->d", z, state) + at("obs_intercept", h)[:, 0]
        pz = np.einsum("dkl,dl->dk", cov, z)
        one_step = np.einsum("dk,dk->d", z, pz) + at("obs_cov", h)[:, 0, 0]
        running = running + w * w * one_step + 2.0 * w * np.einsum("dk,dk->d", z, cross)
        cumvar[:, h] = running
        cross = np.einsum("dkl,dl->dk", transition, cross + w * pz)
        shocks = selection @ at("state_cov", h) @ np.swapaxes(selection, 1, 2)
        cov = transition @ cov @ np.swapaxes(transition, 1, 2) + shocks
        state = np.einsum("dkl,dl->dk", transition, state) + at("state_intercept", h)
    return means, cumvar


def _parameter_draws(
    res: Any, res_free: Any, n_draws: int, rng: np.random.Generator, floors: dict[str, float], cap: float
) -> np.ndarray | None:
    """`n_draws` parameter vectors (n_draws, k) around `res`'s estimates, or None when no usable covariance.

    The covariance is the one of the unrestricted fit `res_free` (a floored variance has none of its own).
    Variances live in [floor, cap] (floor 0, or `floors[name]`; cap the pre-period variance of the series,
    or the estimate if larger: no component's one-step variance can plausibly exceed it) and AR
    coefficients in [-0.98, 0.98]; a normal draw outside that box is projected back onto it in the
    metric of the estimates' information (`project_to_box`).
    """
    model = res_free.model
    names = list(model.param_names)
    center = np.asarray(res.params, dtype=np.float64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cov = np.asarray(res_free.cov_params(), dtype=np.float64)
    except (np.linalg.LinAlgError, ValueError):
        return None
    if cov.shape != (len(names), len(names)) or not np.all(np.isfinite(cov)):
        return None
    low = np.full(len(names), -np.inf)
    high = np.full(len(names), np.inf)
    for j, name in enumerate(names):
        if name.startswith("sigma2"):
            low[j], high[j] = floors.get(name, 0.0), max(cap, float(center[j]))
        elif name.startswith("ar."):
            low[j], high[j] = -0.98, 0.98
    return project_to_box(center, cov, rng.standard_normal((n_draws, len(names))), low, high)


def project_to_box(
    center: np.ndarray, cov: np.ndarray, normal: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Draws (n, k) of N(center, cov) from standard normals `normal` (n, k), each projected onto [low, high].

    The projection is the nearest point in the metric of the information cov^-1, not coordinate by
    coordinate: it is the asymptotic law of a maximum-likelihood estimate whose parameter lies on the
    boundary of its space (Andrews 1999, Econometrica 67(6)). Clipping each coordinate alone keeps the
    excursion of every parameter correlated with the clipped one (a negative irregular variance pairs with
    a large AR variance), which widens the mixture for nothing. Draws inside the box are left as drawn.
    """
    from scipy.optimize import lsq_linear

    cov = 0.5 * (cov + cov.T)
    vals, vecs = np.linalg.eigh(cov)
    vals = np.clip(vals, 1e-12 * max(float(vals.max()), 1e-300), None)
    draws = center + normal @ (vecs * np.sqrt(vals)).T
    whiten = (vecs / np.sqrt(vals)).T  # |whiten (x - z)|^2 = (x - z)' cov^-1 (x - z)
    lower = np.minimum(low, center)
    upper = np.maximum(high, center)
    tied = np.isfinite(lower) & (upper <= lower)  # lsq_linear needs lower < upper
    upper[tied] = lower[tied] + 1e-12 * (1.0 + np.abs(lower[tied]))
    for i, z in enumerate(draws):
        if np.any(z < lower) or np.any(z > upper):
            draws[i] = np.clip(lsq_linear(whiten, whiten @ z, bounds=(lower, upper), method="bvls").x, lower, upper)
    return draws


@dataclass(frozen=True, slots=True)
class SegmentedFit:
    """A segmented regression of one series.

    `att`/`att_se`: mean over the observed post periods of (fitted - counterfactual), in outcome units,
    with its (HAC or model) standard error; `step`/`step_se`: the level change at go-live (log rate
    ratio for Poisson); `slope_change`/`slope_change_se` (NaN when not modelled); `counterfactual` and
    `cf_se` (n,): the fitted line without the step and slope change and the standard error of that mean
    (for Poisson, of the log mean); `df`: degrees of freedom for t intervals (inf: normal); `family`,
    `cov`, `info`.
    """

    att: float
    att_se: float
    step: float
    step_se: float
    slope_change: float
    slope_change_se: float
    counterfactual: np.ndarray
    cf_se: np.ndarray
    df: float
    family: str
    cov: str
    info: dict[str, object]


def newey_west_lags(n: int) -> int:
    """Newey & West's (1994) automatic lag rule floor(4 (n/100)^(2/9)), at least 1."""
    return max(1, math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def trend_supported(n_pre: int, seasonal_periods: tuple[float, ...]) -> bool:
    """Whether a pre-period of `n_pre` steps can separate a linear trend from the modelled seasons.

    Over less than two cycles of the longest seasonal period a straight line and the seasonal curve are
    nearly collinear: the fitted slope then mostly reflects where in the cycle the pre-period starts and
    ends, and extrapolating it over the post-period dominates the estimate. A trend needs two cycles.
    """
    usable = [p for p in seasonal_periods if 2 <= p <= n_pre]
    return not usable or n_pre >= 2.0 * max(usable)


def segmented_fit(
    y: np.ndarray,
    go_live: int,
    *,
    seasonal_periods: tuple[float, ...] = (),
    harmonics: int | None = None,
    slope_change: bool = True,
    family: str = "gaussian",
    offset: np.ndarray | None = None,
    exog: np.ndarray | None = None,
    cov: str | None = None,
    hac_lags: int | None = None,
    t: np.ndarray | None = None,
    trend: bool = True,
    alpha: float = 0.05,
) -> SegmentedFit:
    """Segmented regression of `y` (n,) with a step (and slope change) at `go_live`.

    `family` "gaussian" or "poisson" (log link; quasi-Poisson dispersion when `cov="model"`, the
    Pearson chi² over residual degrees of freedom as R's quasipoisson). `cov`: "ar1" (Gaussian only,
    the default there: GLS with AR(1) errors, rho integrated out over its restricted likelihood on a grid
    over [0, 0.98] (`ar1_regression`); `att_se` is then the se that makes att +- t(df) se the mixture's
    own 1 - `alpha` interval, df = n - k), "hac" (Newey-West with `hac_lags`, default the automatic rule;
    the Poisson default) or "model". `info["ar1_rho"]` is rho's posterior mean, `ar1_rho_mode` its mode.
    `trend=False` drops the pre-period trend (the counterfactual is then level + seasonality; see
    `trend_supported`). `harmonics` overrides the number of sine/
    cosine pairs per seasonal period (default as in `seasonal_terms`). `t` the time values (default
    0..n-1); the trend is linear in `t`. NaN observations are skipped.
    """
    import statsmodels.api as sm

    n = y.shape[0]
    t = np.arange(n, dtype=float) if t is None else np.asarray(t, float)
    post = (np.arange(n) >= go_live).astype(float)
    t_go = t[go_live]
    cols = [np.ones(n), post]
    names = ["const", "step"]
    if slope_change:
        cols.append((t - t_go) * post)
        names.append("slope_change")
    if trend:
        cols.append(t - t_go)
        names.append("trend")
    if harmonics is None:
        season, season_names = seasonal_terms(np.arange(n, dtype=float), seasonal_periods, go_live)
    else:
        blocks = [fourier(np.arange(n, dtype=float), p, harmonics) for p in seasonal_periods]
        season = np.column_stack(blocks) if blocks else np.empty((n, 0))
        season_names = [f"period_{p:g}x{harmonics}" for p in seasonal_periods]
    x = np.column_stack([*cols, season] + ([np.asarray(exog, float).reshape(n, -1)] if exog is not None else []))
    x_cf = x.copy()
    x_cf[:, 1] = 0.0
    if slope_change:
        x_cf[:, 2] = 0.0
    ok = np.isfinite(y)
    if family not in ("gaussian", "poisson"):
        raise ValueError(f"family={family!r} is not allowed; choose one of: gaussian, poisson")
    if cov is None:
        cov = "ar1" if family == "gaussian" else "hac"
    if cov not in ("ar1", "hac", "model") or (cov == "ar1" and family != "gaussian"):
        raise ValueError(f"cov={cov!r} is not allowed for {family}; choose one of: ar1 (gaussian), hac, model")
    lags = newey_west_lags(int(ok.sum())) if hac_lags is None else hac_lags
    fit_kw: dict[str, object] = {}
    if cov == "hac":
        fit_kw = {"cov_type": "HAC", "cov_kwds": {"maxlags": lags, "use_correction": True}}
    df = math.inf
    rho = math.nan
    rho_mode = math.nan
    ar1: Ar1Fit | None = None
    if family == "gaussian" and cov == "ar1":
        # rho is integrated out over its likelihood (ar1_regression); the rows of an unbroken series
        # are taken as consecutive periods (callers refuse gappy pre-periods and NaN ends are dropped)
        ar1 = fit_ar1_regression(y[ok], x[ok])
        rho = ar1.rho_mean
        rho_mode = ar1.rho_mode
        df = float(ar1.df)
    elif family == "gaussian":
        res = sm.OLS(y[ok], x[ok]).fit(**fit_kw)
        df = float(res.df_resid) if cov == "model" else math.inf
    else:
        off = None if offset is None else np.asarray(offset, float)[ok]
        glm = sm.GLM(y[ok], x[ok], family=sm.families.Poisson(), offset=off)
        res = glm.fit(scale="X2", **fit_kw) if cov == "model" else glm.fit(**fit_kw)
    if ar1 is not None:
        beta, vcov = ar1.beta_mean, ar1.vcov
    else:
        beta = np.asarray(res.params, float)
        vcov = np.asarray(res.cov_params(), float)
    post_obs = ok & (post > 0)
    off_all = np.zeros(n) if offset is None else np.asarray(offset, float)
    if family == "gaussian":
        cf = x_cf @ beta
        cf_se = np.sqrt(np.einsum("ij,jk,ik->i", x_cf, vcov, x_cf))
        grad = (x[post_obs] - x_cf[post_obs]).mean(axis=0)
        att = float(grad @ beta)
    else:
        eta_cf = x_cf @ beta + off_all
        cf = np.exp(eta_cf)
        cf_se = np.sqrt(np.einsum("ij,jk,ik->i", x_cf, vcov, x_cf))
        mu = np.exp(x[post_obs] @ beta + off_all[post_obs])
        mu_cf = cf[post_obs]
        att = float(np.mean(mu - mu_cf))
        grad = (mu[:, None] * x[post_obs] - mu_cf[:, None] * x_cf[post_obs]).mean(axis=0)
    att_se = float(math.sqrt(max(grad @ vcov @ grad, 0.0)))
    if ar1 is not None:
        # the mixture over rho has heavier tails than one t: report the se that makes att +- t(df) se
        # the mixture's own (1 - alpha) interval
        low, high = linear_interval(ar1, grad, alpha)
        att_se = 0.5 * (high - low) / float(t_dist.ppf(1 - alpha / 2, df))
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    info: dict[str, object] = {
        "model": "segmented",
        "family": family,
        "cov": cov,
        "hac_lags": lags if cov == "hac" else None,
        "ar1_rho": rho,
        "ar1_rho_mode": rho_mode,
        "trend": trend,
        "trend_identified": trend_supported(go_live, seasonal_periods) if trend else None,
        "seasonality": season_names,
        "slope_change": slope_change,
        "params": {nm: float(b) for nm, b in zip(names, beta[: len(names)], strict=True)},
        "dispersion": float(ar1.weight @ ar1.noise_var) if ar1 is not None else float(getattr(res, "scale", 1.0)),
    }
    return SegmentedFit(
        att=att,
        att_se=att_se,
        step=float(beta[1]),
        step_se=float(se[1]),
        slope_change=float(beta[2]) if slope_change else math.nan,
        slope_change_se=float(se[2]) if slope_change else math.nan,
        counterfactual=cf,
        cf_se=cf_se,
        df=df,
        family=family,
        cov=cov,
        info=info,
    )
