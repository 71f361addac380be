"""Inference that stays honest with few treated sites.

Every estimator here is linear in the outcome: θ̂ = Σ_u W_u · y_u, one weight vector over periods per site
(`LinearWeights`). That gives one shared, design-aware tool for each situation:

- `placebo_variance` (1-5 treated sites, the product default there): the sites' noise is taken as
  exchangeable up to a scale, so its covariance over periods, Σ, is estimated from the control sites'
  residual series (two-way demeaned among themselves, each divided by its own scale) and
  Var(θ̂) = Σ_u s_u² W_u' Σ̂ W_u, s_u² each site's pre-period noise relative to the controls' (Ferman &
  Pinto 2019: a noisier treated site gets a wider interval); intervals use Student t with
  N_controls - 1 degrees of freedom. This is the variance of the placebo estimates one gets by treating
  control sites as if they went live (Conley & Taber 2011; Donald & Lang 2007); cluster-robust errors
  instead estimate the treated sites' variance from the treated sites themselves, which with 1-5 of
  them is badly biased (zero with one site). Autocorrelation and seasonality are in Σ̂, unrestricted.
  It targets the effect on the treated sites in the sample (heterogeneous effects add no variance).
- `wild_cluster_bootstrap` (many treated sites, DiD): restricted (null imposed), Webb six-point or
  Rademacher weights, bootstrap-t p-value on the CR1 t-statistic; the interval inverts the test.
- `cluster`: CR1 by site, t with G - 1 degrees of freedom (reported for comparison; not chosen by "auto").
- `influence_function` (many treated sites, staggered): Callaway & Sant'Anna's analytic influence
  function, normal quantiles; a multiplier bootstrap gives uniform bands over event times.
- `hac` (one treated series against one or two controls): the treated-minus-control series regressed
  on a post indicator with a HAR variance (`pilot_roi.estimation.har`).

`randomization_pvalue` (Fisher permutations of which sites are treated) is reported as a diagnostic.
Staggered pilots in which every site goes live take randomization inference over the go-live dates
instead (`pilot_roi.estimation.randomization`): there the not-yet-live sites are too few for any of the above.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData

WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


@dataclass(frozen=True, slots=True)
class LinearWeights:
    """θ̂_k = Σ_u patterns[k, unit_pattern[u], :] · y_u (NaN cells of y count as 0).

    patterns (k, P, n_times); unit_pattern (n_units,) int in [0, P). Sites that share a weight vector
    share a pattern, which keeps memory at k × P × n_times instead of k × n_units × n_times.
    """

    patterns: np.ndarray
    unit_pattern: np.ndarray

    @classmethod
    def from_dense(cls, w: np.ndarray) -> LinearWeights:
        """From dense weights (k, n_units, n_times), merging identical site rows."""
        k, n_units, n_times = w.shape
        flat = np.ascontiguousarray(np.transpose(w, (1, 0, 2)).reshape(n_units, k * n_times))
        seen: dict[bytes, int] = {}
        unit_pattern = np.empty(n_units, np.int64)
        first_rows: list[int] = []
        for u in range(n_units):
            key = flat[u].tobytes()
            if key not in seen:
                seen[key] = len(first_rows)
                first_rows.append(u)
            unit_pattern[u] = seen[key]
        patterns = np.transpose(flat[first_rows].reshape(-1, k, n_times), (1, 0, 2))
        return cls(patterns=np.ascontiguousarray(patterns), unit_pattern=unit_pattern)

    def apply(self, y_wide: np.ndarray) -> np.ndarray:
        """θ̂ (k,) for an outcome matrix (n_units, n_times); NaN cells count as 0."""
        y0 = np.nan_to_num(y_wide, nan=0.0)
        out = np.zeros(self.patterns.shape[0])
        for p in range(self.patterns.shape[1]):
            rows = y0[self.unit_pattern == p]
            if rows.size:
                out += self.patterns[:, p, :] @ rows.sum(axis=0)
        return out


@dataclass(frozen=True, slots=True)
class Inference:
    """Standard errors, intervals and p-values for k estimates (arrays of shape (k,)), the vcov (k, k)
    used for joint tests, its degrees of freedom (math.inf for normal), and a label in words."""

    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    vcov: np.ndarray
    dof: float
    label: str
    extra: dict[str, Any] = field(default_factory=dict)


def _t_quantile(alpha: float, dof: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2)) if not math.isfinite(dof) else float(stats.t.ppf(1 - alpha / 2, dof))


def _two_sided_p(tstat: np.ndarray, dof: float) -> np.ndarray:
    if not math.isfinite(dof):
        return np.asarray(2 * stats.norm.sf(np.abs(tstat)))
    return np.asarray(2 * stats.t.sf(np.abs(tstat), dof))


def from_vcov(estimate: np.ndarray, vcov: np.ndarray, dof: float, alpha: float, label: str) -> Inference:
    """Wald-type intervals and p-values from a vcov and degrees of freedom (math.inf → normal)."""
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    q = _t_quantile(alpha, dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.where(se > 0, estimate / se, np.nan)
    return Inference(
        estimate=estimate,
        se=se,
        ci_low=estimate - q * se,
        ci_high=estimate + q * se,
        p_value=_two_sided_p(tstat, dof),
        vcov=vcov,
        dof=dof,
        label=label,
    )


def nan_mean(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Mean over the finite entries along `axis`; NaN (without a warning) where there are none."""
    arr = np.asarray(a, np.float64)
    ok = np.isfinite(arr)
    n = ok.sum(axis=axis)
    total = np.where(ok, arr, 0.0).sum(axis=axis)
    return np.asarray(np.where(n > 0, total / np.maximum(n, 1), np.nan))


def nan_var(a: np.ndarray, axis: int = 0, ddof: int = 1) -> np.ndarray:
    """Variance over the finite entries along `axis`; NaN (without a warning) where fewer than ddof + 1."""
    arr = np.asarray(a, np.float64)
    ok = np.isfinite(arr)
    n = ok.sum(axis=axis)
    mean = nan_mean(arr, axis=axis)
    dev = np.where(ok, arr - np.expand_dims(mean, axis), 0.0)
    ss = (dev**2).sum(axis=axis)
    return np.asarray(np.where(n > ddof, ss / np.maximum(n - ddof, 1), np.nan))


# --- placebo variance (few treated sites) -------------------------------------------------------------


def control_residuals(y_wide: np.ndarray, controls: np.ndarray, periods: np.ndarray | None = None) -> np.ndarray:
    """Residual series (N0, n_times) of the control sites after removing site and period means among them.

    Missing cells are filled by alternating projections on the observed ones and then set to 0.
    `periods` (bool, n_times) restricts which periods enter (others are 0).
    """
    yc = y_wide[controls].copy()
    if periods is not None:
        yc[:, ~periods] = np.nan
    mask = np.isfinite(yc)
    if not mask.any():
        return np.zeros_like(yc)
    e = np.where(mask, yc, 0.0)
    n_row = mask.sum(axis=1)
    n_col = mask.sum(axis=0)
    for _ in range(1000):
        before = e.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            e -= np.where(n_row > 0, e.sum(axis=1) / np.maximum(n_row, 1), 0.0)[:, None]
            e = np.where(mask, e, 0.0)
            e -= np.where(n_col > 0, e.sum(axis=0) / np.maximum(n_col, 1), 0.0)[None, :]
            e = np.where(mask, e, 0.0)
        if np.max(np.abs(e - before)) < 1e-10 * max(1.0, float(np.max(np.abs(e)))):
            break
    # Only period-contrasts of these series are used (every estimator's weights sum to zero within a
    # site), so the lost site means do not bias Σ̂; the shared period means cost one site: divisor N0 - 1.
    return e


def site_noise_scales(y_wide: np.ndarray, controls: np.ndarray, pre_end: int) -> np.ndarray:
    """Each site's noise variance relative to the control sites' average (n_units,), from the pre-period.

    A site's residual is its series minus the control sites' period means over periods [0, pre_end), less
    its own mean. A control's variance is scaled up by N0 / (N0 - 1) (it is part of the mean it is compared
    with); another site's has the mean's own noise (the controls' average / N0) taken off, floored at a
    tenth. Normalised so the controls average 1: with equal noise every scale is about 1. Sites without
    enough pre-period data get 1.
    """
    n_units = y_wide.shape[0]
    n0 = int(controls.sum())
    if n0 < 3 or pre_end < 8:
        return np.ones(n_units)
    pre = y_wide[:, :pre_end]
    with np.errstate(invalid="ignore"):
        # period means of the controls' own deviations: with missing days a plain mean of the observed controls
        # moves with their levels (on a balanced panel the two are the same)
        own = pre - nan_mean(pre, axis=1)[:, None]
        resid = pre - nan_mean(own[controls], axis=0)[None, :]
        resid = resid - nan_mean(resid, axis=1)[:, None]
    var = nan_var(resid, axis=1)
    var[controls] *= n0 / (n0 - 1)
    base = float(np.nanmean(var[controls]))
    if not math.isfinite(base) or base <= 0:
        return np.ones(n_units)
    others = ~controls
    var[others] = np.maximum(var[others] - base / n0, 0.1 * var[others])
    rel = var / base
    return np.where(np.isfinite(rel) & (rel > 0), rel, 1.0)


def placebo_variance(
    weights: LinearWeights,
    residuals: np.ndarray,
    observed: np.ndarray | None = None,
    unit_scale2: np.ndarray | None = None,
) -> np.ndarray:
    """Var(θ̂) (k, k) = Σ_u W_u Σ̂ W_u' with Σ̂ = E'E / (N0 - 1) from control residual series E (N0, T).

    With `unit_scale2` (n_units,: `site_noise_scales`) sites' noise differs in scale (Ferman & Pinto
    2019): Var(θ̂) = Σ_u s_u² W_u Σ̂ W_u' with Σ̂ from E divided row-wise by the controls' own scales.

    `observed` (N0, T) marks the control cells with data (E is 0 elsewhere). With missing cells E'E
    holds only the pairs observed together, so Σ̂ is rescaled to the observed counts: off the diagonal
    Σ̂_st = (E'E)_st / ((N0 - 1) c_s c_t) with c_s the share of controls observed at s, on it
    Σ̂_ss = (E'E)_ss / (n_s - 1) (n_s of them observed; periods with fewer than 2 carry no information
    and count 0). Without the rescaling a few % of missing days understate the variance by about twice
    that share.
    """
    n0 = residuals.shape[0]
    k = weights.patterns.shape[0]
    if n0 < 2:
        return np.full((k, k), np.nan)
    counts = np.bincount(weights.unit_pattern, weights=unit_scale2, minlength=weights.patterns.shape[1])
    if observed is None or bool(np.all(observed)):
        scale = np.ones(residuals.shape[1])
        diag_fix = np.zeros(residuals.shape[1])
    else:
        n_s = observed.sum(axis=0).astype(float)
        informative = n_s >= 2
        share = n_s / n0
        scale = np.where(informative, 1.0 / np.where(informative, share, 1.0), 0.0)
        ss = np.sum(residuals**2, axis=0)
        # the diagonal wanted, ss / (n_s - 1), minus what the rescaled E'E / (N0 - 1) puts there
        diag_fix = np.where(informative, ss / np.maximum(n_s - 1, 1) - ss * scale**2 / (n0 - 1), 0.0)
    e = residuals * scale[None, :]
    v = np.zeros((k, k))
    for p, c in enumerate(counts):
        if c == 0:
            continue
        w = weights.patterns[:, p, :]
        q = w @ e.T  # (k, N0)
        v += c * (q @ q.T / (n0 - 1) + (w * diag_fix[None, :]) @ w.T)
    return v


def scaled_placebo_variance(
    weights: LinearWeights, y_wide: np.ndarray, controls: np.ndarray, pre_end: int
) -> np.ndarray:
    """`placebo_variance` with every site's own noise scale (`site_noise_scales` over the pre-period)."""
    scale2 = site_noise_scales(y_wide, controls, pre_end)
    if scale2.shape[0] != weights.unit_pattern.shape[0]:
        scale2 = np.ones(weights.unit_pattern.shape[0])
    e = control_residuals(y_wide, controls) / np.sqrt(scale2[controls])[:, None]
    return placebo_variance(weights, e, np.isfinite(y_wide[controls]), scale2)


def placebo_inference(
    panel: PanelData,
    weights: LinearWeights,
    estimate: np.ndarray,
    controls: np.ndarray,
    alpha: float,
) -> Inference:
    """Intervals from the control sites' placebo variance, t with N_controls - 1 degrees of freedom."""
    y = panel.wide()
    ft = np.asarray(panel.first_treated)
    live = ft[~controls & (ft >= 0)]
    vcov = scaled_placebo_variance(weights, y, controls, int(live.min()) if live.size else 0)
    n0 = int(controls.sum())
    inf = from_vcov(
        estimate,
        vcov,
        float(n0 - 1),
        alpha,
        f"placebo variance from {n0} control sites (few treated sites), t with {n0 - 1} df",
    )
    return inf


# --- wild cluster bootstrap (many treated sites, DiD) ---------------------------------------------------


def _wcr_t(
    v: np.ndarray, s: np.ndarray, a: np.ndarray, xx: float, ssc: float, beta0: float
) -> tuple[np.ndarray, float]:
    """Bootstrap t* (B,) from weights v (B, G), restricted scores s (G,), a = x_g'x_g (G,)."""
    num = (v @ s) / xx  # β* - β0
    score = v * s[None, :] - num[:, None] * a[None, :]
    var = ssc * np.sum(score**2, axis=1) / xx**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / np.sqrt(var), 0.0


def wild_cluster_bootstrap(
    x_dm: np.ndarray,
    y_dm: np.ndarray,
    cluster: np.ndarray,
    n_clusters: int,
    ssc: float,
    *,
    alpha: float,
    n_boot: int,
    rng: np.random.Generator,
    kind: str = "webb",
) -> tuple[float, float, float]:
    """Restricted wild cluster bootstrap for a single coefficient after the fixed effects are partialled out.

    Returns (p-value of H0: β = 0, CI low, CI high); the interval collects the β0 not rejected at `alpha`
    (bisection on each side with the same bootstrap draws).
    """
    xx = float(x_dm @ x_dm)
    beta = float(x_dm @ y_dm) / xx
    a = np.bincount(cluster, weights=x_dm * x_dm, minlength=n_clusters)
    sxy = np.bincount(cluster, weights=x_dm * y_dm, minlength=n_clusters)
    pool = WEBB if kind == "webb" else np.array([-1.0, 1.0])
    v = rng.choice(pool, size=(n_boot, n_clusters))

    def t_obs(beta0: float) -> float:
        r = y_dm - beta * x_dm
        sc = np.bincount(cluster, weights=x_dm * r, minlength=n_clusters)
        var = ssc * float(np.sum(sc**2)) / xx**2
        return (beta - beta0) / math.sqrt(var) if var > 0 else math.nan

    def pval(beta0: float) -> float:
        s = sxy - beta0 * a  # restricted residual scores x_g'(y_g - β0 x_g)
        tb, _ = _wcr_t(v, s, a, xx, ssc, beta0)
        t0 = abs(t_obs(beta0))
        return float((1 + np.sum(np.abs(tb) >= t0)) / (n_boot + 1))

    p0 = pval(0.0)
    r = y_dm - beta * x_dm
    sc = np.bincount(cluster, weights=x_dm * r, minlength=n_clusters)
    se = math.sqrt(ssc * float(np.sum(sc**2))) / xx
    if not se > 0:
        return p0, math.nan, math.nan

    def bound(direction: float) -> float:
        inside = beta
        step = se
        outside = beta + direction * step
        for _ in range(60):
            if pval(outside) < alpha:
                break
            inside = outside
            step *= 2
            outside = beta + direction * step
        else:
            return direction * math.inf
        for _ in range(40):
            mid = 0.5 * (inside + outside)
            if pval(mid) < alpha:
                outside = mid
            else:
                inside = mid
            if abs(outside - inside) < 1e-4 * se:
                break
        return 0.5 * (inside + outside)

    return p0, bound(-1.0), bound(1.0)


# --- influence functions and the multiplier bootstrap ----------------------------------------------------


def influence_inference(estimate: np.ndarray, infl: np.ndarray, alpha: float, dof: float = math.inf) -> Inference:
    """Intervals from an influence-function matrix infl (n_units, k) scaled so Var = infl' infl: Student t
    with `dof` degrees of freedom (normal when infinite)."""
    vcov = infl.T @ infl
    kind = "normal" if math.isinf(dof) else f"t with {dof:.0f} df"
    return from_vcov(estimate, vcov, dof, alpha, f"analytic influence function (Callaway & Sant'Anna), {kind}")


def multiplier_bootstrap(
    infl: np.ndarray, alpha: float, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Bootstrap SEs (k,) (IQR-based, as R `did`) and the uniform critical value over the k estimates.

    Rademacher multipliers on the influence function infl (n_units, k) scaled so Var = infl' infl.
    """
    v = rng.choice(np.array([-1.0, 1.0]), size=(n_boot, infl.shape[0]))
    draws = v @ infl  # (B, k): θ* - θ̂
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    with np.errstate(divide="ignore", invalid="ignore"):
        tmax = np.nanmax(np.abs(draws) / np.where(se > 0, se, np.nan), axis=1)
    crit = float(np.quantile(tmax[np.isfinite(tmax)], 1 - alpha)) if np.isfinite(tmax).any() else math.nan
    return se, crit


# --- randomization inference (diagnostic) ---------------------------------------------------------------


def randomization_pvalue(
    statistic: Callable[[np.ndarray], float],
    candidates: np.ndarray,
    n_treated: int,
    observed: float,
    rng: np.random.Generator,
    n_draws: int = 999,
) -> tuple[float, int]:
    """Fisher p-value: share of random assignments of `n_treated` sites among `candidates` with |stat| ≥ |obs|.

    `statistic(assigned)` gets an int array of site indices; all assignments are enumerated when there
    are at most `n_draws` of them. Returns (p-value, number of assignments used).
    """
    from itertools import combinations

    n = len(candidates)
    total = math.comb(n, n_treated)
    if total <= n_draws:
        draws = [np.array(c) for c in combinations(candidates, n_treated)]
    else:
        draws = [rng.choice(candidates, size=n_treated, replace=False) for _ in range(n_draws)]
    vals = np.array([statistic(np.sort(d)) for d in draws])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return math.nan, 0
    extreme = np.sum(np.abs(vals) >= abs(observed) - 1e-12 * max(1.0, abs(observed)))
    if total <= n_draws:
        return float(extreme / vals.size), int(vals.size)
    return float((1 + extreme) / (1 + vals.size)), int(vals.size)


# --- joint tests --------------------------------------------------------------------------------------


def wald_test(b: np.ndarray, vcov: np.ndarray, dof: float, max_q: int | None = None) -> float | None:
    """p-value of H0: b = 0 (joint). With a vcov estimated on `dof` degrees of freedom, Hotelling's T²
    as F(q, dof - q + 1); with math.inf, χ²(q). When q is too large for `dof`, contiguous coefficients
    are averaged into fewer groups first (a valid test of a coarser null)."""
    b = np.asarray(b, float)
    q = b.shape[0]
    if q == 0 or not np.all(np.isfinite(vcov)):
        return None
    limit = q if max_q is None else max(1, min(q, max_q))
    if math.isfinite(dof):
        limit = max(1, min(limit, int(dof) // 2))
    if limit < q:
        groups = np.array_split(np.arange(q), limit)
        a = np.zeros((limit, q))
        for i, g in enumerate(groups):
            a[i, g] = 1.0 / len(g)
        b = a @ b
        vcov = a @ vcov @ a.T
        q = limit
    try:
        stat = float(b @ np.linalg.solve(vcov, b))
    except np.linalg.LinAlgError:
        stat = float(b @ np.linalg.pinv(vcov) @ b)
        q = int(np.linalg.matrix_rank(vcov))
        if q == 0:
            return None
    if not math.isfinite(dof):
        return float(stats.chi2.sf(stat, q))
    df2 = dof - q + 1
    if df2 < 1:
        return None
    return float(stats.f.sf(stat * df2 / (dof * q), q, df2))


def choose_inference(n_treated: int, n_controls: int, method: str, opts: EstimationOptions) -> str:
    """The inference used: the user's choice, or by design for "auto" (see the module docstring)."""
    if opts.inference != "auto":
        return opts.inference
    if n_treated <= opts.few_treated:
        if n_controls >= 3:
            return "placebo_variance"
        return "hac"
    return "wild_cluster_bootstrap" if method == "did" else "influence_function"
