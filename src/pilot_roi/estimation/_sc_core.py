"""Numeric core of the synthetic control method: pure functions over numpy arrays.

Shapes: `Y` is float64 (n_units, n_times) with NaN for a missing cell; a go-live is a time index (the
first treated period). Outcomes, gaps and RMSPEs are in the outcome's units.

The weights solve  min_w ||y_pre - c - Y_donors_pre.T @ w||^2  subject to w >= 0, sum(w) = 1, where
c = 0 (classic Abadie) or the pre-period mean difference (the demeaned variant of Doudchenko & Imbens
and Ferman & Pinto), by an exact active-set method (Lawson-Hanson with the sum-to-one row added to
the KKT system); SLSQP is the fallback and the reference in the tests.

Inference (for one or a few treated units, averaged into one aggregate gap):
- `placebo`: in-space permutation. Each donor in turn is treated as if it went live at the treated
  unit's go-live and synthesised from the other donors (the treated units are never donors). The
  statistic is |ATT| / pre-RMSPE of the aggregate gap; the p-value is its rank among the placebos and
  the confidence interval inverts the same test over constant effects, which gives ATT ± q · RMSPE_pre
  in closed form (q = the placebo order statistic the rank test needs). With fewer than 1/alpha - 1
  placebos the rank test cannot reject at level alpha and its interval is unbounded; the caller then
  uses a t interval from the placebos' spread (`synthetic_control`, inference "placebo_t").
- `conformal`: the time-permutation test of Chernozhukov, Wüthrich & Zhu (2021, JASA): under
  H0: effect = tau the weights are refitted on every period with the post outcomes shifted by tau, and
  the mean post residual is compared with its value under every cyclic shift of time (moving blocks).
  The interval collects the tau that are not rejected (grid, then bisection). Needs one go-live.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class SimplexFit:
    """Weights on the simplex for one synthesis.

    `weights` float64 (n_donors,), non-negative, summing to one; `intercept` in outcome units (0 unless
    the demeaned variant); `rmspe` the root mean squared pre-period gap; `r2` the share of the treated
    unit's pre-period variance the synthesis reproduces (1 - SSE/SST, can be negative); `solver` names
    the method that produced the weights.
    """

    weights: np.ndarray
    intercept: float
    rmspe: float
    r2: float
    solver: str


def _eq_constrained_ls(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    """argmin 0.5 z'Gz - h'z subject to sum(z) = 1 (least-norm solution when G is singular)."""
    k = g.shape[0]
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = g
    kkt[:k, k] = 1.0
    kkt[k, :k] = 1.0
    rhs = np.concatenate([h, [1.0]])
    try:
        sol = np.linalg.solve(kkt, rhs)
        if not np.all(np.isfinite(sol)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    return np.asarray(sol[:k])


def _active_set(g: np.ndarray, h: np.ndarray, tol: float) -> np.ndarray | None:
    """Exact simplex-constrained quadratic minimum by Lawson-Hanson active sets; None if it stalls.

    Minimises 0.5 w'Gw - h'w over w >= 0, sum(w) = 1. `tol` bounds the KKT violation accepted.
    """
    n = g.shape[0]
    floor = 1e-13
    # start from the best single donor: a feasible vertex
    j0 = int(np.argmin(0.5 * np.diag(g) - h))
    w = np.zeros(n)
    w[j0] = 1.0
    passive = np.zeros(n, bool)
    passive[j0] = True
    for _ in range(3 * n + 50):
        grad = g @ w - h
        mu = grad - float(np.mean(grad[passive]))
        mu[passive] = np.inf
        j = int(np.argmin(mu))
        if not mu[j] < -tol:
            return w
        passive[j] = True
        for _inner in range(3 * n + 50):
            idx = np.flatnonzero(passive)
            z = _eq_constrained_ls(g[np.ix_(idx, idx)], h[idx])
            if np.all(z > floor):
                w = np.zeros(n)
                w[idx] = z
                break
            bad = z <= floor
            wi = w[idx]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = np.where(bad, wi / (wi - z), np.inf)
            step = min(max(float(np.min(ratios)), 0.0), 1.0)
            new = wi + step * (z - wi)
            new[new <= floor] = 0.0
            w = np.zeros(n)
            w[idx] = new
            passive = w > 0
            if not passive.any():
                return None
        else:
            return None
    return None


def _slsqp(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    n = g.shape[0]
    res = minimize(
        lambda w: 0.5 * w @ g @ w - h @ w,
        np.full(n, 1.0 / n),
        jac=lambda w: g @ w - h,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    w = np.clip(np.asarray(res.x, float), 0.0, None)
    return w / w.sum()


def solve_gram(g: np.ndarray, h: np.ndarray, *, method: str = "active_set") -> tuple[np.ndarray, str]:
    """Simplex weights minimising 0.5 w'Gw - h'w for a Gram matrix `g` (n, n) and `h` (n,).

    Returns (weights, solver name). `method` is "active_set" (exact; SLSQP if it ever stalls) or
    "slsqp" (the reference used in tests).
    """
    n = g.shape[0]
    if n == 1:
        return np.ones(1), "single_donor"
    scale = float(np.trace(g)) / n or 1.0
    g = g / scale
    h = h / scale
    if method == "slsqp":
        return _slsqp(g, h), "slsqp"
    w = _active_set(g, h, 1e-11 * max(1.0, float(np.max(np.diag(g)))))
    if w is None or not np.all(np.isfinite(w)):
        return _slsqp(g, h), "slsqp_fallback"
    w = np.clip(w, 0.0, None)
    return w / w.sum(), "active_set"


def simplex_weights(a: np.ndarray, b: np.ndarray, *, method: str = "active_set") -> tuple[np.ndarray, str]:
    """Non-negative weights summing to one that minimise ||a @ w - b||^2.

    `a` float64 (n_rows, n_donors), `b` float64 (n_rows,). Returns (weights, solver name).
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return solve_gram(a.T @ a, a.T @ b, method=method)


def common_level(donors: np.ndarray) -> float:
    """The donors' overall mean (0 when there is none): a constant to take off a classic synthesis's target and
    donors before their Gram matrix is formed, which leaves the simplex-constrained fit unchanged."""
    return float(np.mean(donors)) if donors.size else 0.0


def fit_synthetic(y_pre: np.ndarray, donors_pre: np.ndarray, *, intercept: bool = False) -> SimplexFit:
    """Synthesise one unit's pre-period path from donors.

    `y_pre` float64 (n_pre,), `donors_pre` float64 (n_donors, n_pre), both without NaN.
    """
    y_pre = np.asarray(y_pre, float)
    donors_pre = np.asarray(donors_pre, float)
    if intercept:
        ym = float(y_pre.mean())
        dm = donors_pre.mean(axis=1)
        w, solver = simplex_weights((donors_pre - dm[:, None]).T, y_pre - ym)
        c = ym - float(dm @ w)
    else:
        # The weights sum to one, so a constant taken off the target and every donor leaves the objective as
        # it is; without it the Gram matrix of raw levels loses the variation to rounding (a metric at 1e5
        # that moves by 0.01 got one donor instead of eight, and an effect 40% larger).
        level = common_level(donors_pre)
        w, solver = simplex_weights((donors_pre - level).T, y_pre - level)
        c = 0.0
    fitted = donors_pre.T @ w + c
    resid = y_pre - fitted
    sse = float(resid @ resid)
    sst = float(np.sum((y_pre - y_pre.mean()) ** 2))
    r2 = 1.0 - sse / sst if sst > _EPS else math.nan
    return SimplexFit(weights=w, intercept=c, rmspe=math.sqrt(sse / len(y_pre)), r2=r2, solver=solver)


@dataclass(frozen=True, slots=True)
class UnitSynthesis:
    """One unit's synthesis: `gap` and `synthetic` float64 (n_times,) with NaN where the unit is not
    observed; `go_live` the time index of the first (pseudo-)treated period; `fit` the pre-period fit."""

    go_live: int
    gap: np.ndarray
    synthetic: np.ndarray
    fit: SimplexFit


def synthesize(y: np.ndarray, donors: np.ndarray, go_live: int, *, intercept: bool = False) -> UnitSynthesis:
    """Fit on the periods before `go_live` and extend the synthesis to every period.

    `y` float64 (n_times,) may hold NaN (those periods are skipped); `donors` (n_donors, n_times) must be
    complete wherever `y` is observed.
    """
    observed = np.isfinite(y)
    pre = observed.copy()
    pre[go_live:] = False
    fit = fit_synthetic(y[pre], donors[:, pre], intercept=intercept)
    synthetic = donors.T @ fit.weights + fit.intercept
    synthetic = np.where(observed, synthetic, np.nan)
    return UnitSynthesis(go_live=go_live, gap=y - synthetic, synthetic=synthetic, fit=fit)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Gaps of one or more units combined into one effect.

    `att`: mean gap over every observed post cell (unit × period at or after its go-live);
    `rmspe_pre`: RMSPE over event times before go-live of the event-time mean gap;
    `by_time`: float64 (n_times,) mean gap across the units at each calendar period (NaN if none);
    `by_event`: float64 (n_event,) mean gap at each event time `event_times` (int64).
    """

    att: float
    rmspe_pre: float
    by_time: np.ndarray
    by_event: np.ndarray
    event_times: np.ndarray


def aggregate(gaps: np.ndarray, go_lives: np.ndarray, event_times: np.ndarray) -> Aggregate:
    """Combine per-unit gap series (n_units, n_times) with their go-lives into one `Aggregate`.

    `event_times` is the int64 grid of event times (t - go_live) on which `by_event` is reported.
    """
    n_units, n_times = gaps.shape
    t = np.arange(n_times)
    rel = t[None, :] - go_lives[:, None]
    obs = np.isfinite(gaps)
    post = obs & (rel >= 0)
    att = float(np.mean(gaps[post])) if post.any() else math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        by_time = np.nanmean(np.where(obs, gaps, np.nan), axis=0) if n_units else np.full(n_times, np.nan)
    e0 = int(event_times[0])
    by_event = np.full(event_times.shape[0], np.nan)
    sums = np.zeros(event_times.shape[0])
    counts = np.zeros(event_times.shape[0])
    pos = rel - e0
    ok = obs & (pos >= 0) & (pos < event_times.shape[0])
    np.add.at(sums, pos[ok], gaps[ok])
    np.add.at(counts, pos[ok], 1.0)
    has = counts > 0
    by_event[has] = sums[has] / counts[has]
    pre_e = has & (event_times < 0)
    rmspe = float(np.sqrt(np.mean(by_event[pre_e] ** 2))) if pre_e.any() else math.nan
    return Aggregate(att=att, rmspe_pre=rmspe, by_time=by_time, by_event=by_event, event_times=event_times)


def rank_p_value(stat: float, placebo_stats: np.ndarray) -> float:
    """(1 + #{placebo >= stat}) / (1 + n_placebo): the permutation p-value, exact under exchangeability."""
    return float((1 + np.sum(placebo_stats >= stat - 1e-12 * max(1.0, abs(stat)))) / (1 + placebo_stats.size))


def critical_value(placebo_stats: np.ndarray, alpha: float) -> float:
    """Largest statistic the rank test does not reject at `alpha` (inf when it can never reject)."""
    k = placebo_stats.size
    m = math.floor(alpha * (k + 1) + 1e-12)
    if m < 1:
        return math.inf
    s = np.sort(placebo_stats)
    return float(s[k - m])


def critical_values_columns(stats: np.ndarray, alpha: float) -> np.ndarray:
    """`critical_value` for each column of `stats` (n_placebo, n_cols), ignoring NaN entries."""
    out = np.full(stats.shape[1], np.nan)
    for j in range(stats.shape[1]):
        col = stats[:, j]
        col = col[np.isfinite(col)]
        if col.size:
            out[j] = critical_value(col, alpha)
    return out


def finite_pool_factor(n_pool: int, k: int) -> float:
    """sqrt(N / (N - k)): what the spread (ddof 0) of means of k distinct draws from a pool of N must be
    multiplied by to stand for the mean of k independent units (NaN when N <= k).

    The k-subsets of a finite pool vary less than independent draws do: Var(subset mean) =
    (sigma_pop^2 / k) (N - k) / (N - 1), against s^2 / k = (sigma_pop^2 / k) N / (N - 1) for independent
    units. For k = 1 the factor is the usual ddof = 1 correction.
    """
    return math.sqrt(n_pool / (n_pool - k)) if n_pool > k else math.nan


def placebo_draws(n_donors: int, go_live_of_treated: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Donor index per treated slot for each placebo draw: int64 (n_draws, n_treated).

    One treated unit: every donor once (the exact permutation distribution). Several: random draws of
    distinct donors (without replacement within a draw), each taking one treated unit's go-live.
    """
    n_treated = go_live_of_treated.shape[0]
    if n_treated == 1:
        return np.arange(n_donors, dtype=np.int64)[:, None]
    if math.comb(n_donors, n_treated) <= n_draws and len(set(go_live_of_treated.tolist())) == 1:
        from itertools import combinations

        return np.asarray(list(combinations(range(n_donors), n_treated)), dtype=np.int64)
    return np.stack([rng.choice(n_donors, size=n_treated, replace=False) for _ in range(n_draws)])


def conformal_p_value(resid_mean: np.ndarray, post: np.ndarray) -> float:
    """Share of cyclic time shifts whose mean residual over the post block is at least the observed one.

    `resid_mean` float64 (n_times,) residuals (averaged over treated units) fitted under the null;
    `post` bool (n_times,). Missing periods must have been removed before.
    """
    n = resid_mean.shape[0]
    k = int(post.sum())
    csum = np.concatenate([[0.0], np.cumsum(np.concatenate([resid_mean, resid_mean]))])
    start = int(np.flatnonzero(post)[0])
    # the post block is contiguous at the end; shifted blocks are windows of length k on the circle
    starts = (start + np.arange(n)) % n
    means = (csum[starts + k] - csum[starts]) / k
    obs = abs(means[0])
    return float(np.mean(np.abs(means) >= obs - 1e-12 * max(1.0, obs)))
