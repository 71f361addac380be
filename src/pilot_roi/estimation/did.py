"""Difference-in-differences with site and period fixed effects, by demeaning (no dummy columns).

Numbers happen in pure functions over arrays (`demean`, `fit_twfe`, `event_time_bins`); `estimate_did`
orchestrates them for one `PanelData` and returns an `EffectResult`.

Fixed effects are removed by the within transformation: exact in one sweep for balanced panels (and for
weights constant within a unit), by alternating projections (the method of pyfixest and fixest) otherwise.
Cluster-robust errors are CR1 by site: V = G/(G-1) · (N-1)/(N-K) · (X'X)⁻¹ Σ_g s_g s_g' (X'X)⁻¹. The
degrees-of-freedom convention (`ssc`) is named: "nested" (default; fixest's and pyfixest's default) counts
in K the slopes plus the absorbed effects not nested in the site clusters (the n_times period effects);
"full" counts every absorbed effect (n_units + n_times - 1), as a dummy-variable regression in
statsmodels does (= pyfixest `ssc(k_fixef="full")`). With few treated sites neither is used for the
reported interval (see `inference.py`): cluster-robust errors with 1-5 treated clusters are far too small.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from pilot_roi.estimation.design import describe_design
from pilot_roi.estimation.diagnostics import (
    att_percent,
    check_sufficiency,
    counterfactual_frame,
    counterfactual_mean_post,
    minimum_detectable_effect,
    pre_period_fit,
)
from pilot_roi.estimation.har import ar1_contrast, ar1_pre_trend, hac_contrast, hac_pre_trend, har_event_study
from pilot_roi.estimation.inference import (
    Inference,
    LinearWeights,
    choose_inference,
    from_vcov,
    nan_mean,
    placebo_inference,
    randomization_pvalue,
    wald_test,
    wild_cluster_bootstrap,
)
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData
from pilot_roi.estimation.result import EVENT_STUDY_SCHEMA, EffectResult, insufficient

_DEMEAN_TOL = 1e-10
_DEMEAN_MAXITER = 10_000


def _group_mean(x: np.ndarray, idx: np.ndarray, n: int, w: np.ndarray | None, wsum: np.ndarray) -> np.ndarray:
    """Per-group (weighted) means of each column of x (n_obs, k) → (n, k)."""
    out = np.empty((n, x.shape[1]))
    for j in range(x.shape[1]):
        col = x[:, j] if w is None else x[:, j] * w
        out[:, j] = np.bincount(idx, weights=col, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out /= wsum[:, None]
    out[~np.isfinite(out)] = 0.0
    return out


def demean(
    x: np.ndarray,
    unit_idx: np.ndarray,
    time_idx: np.ndarray,
    n_units: int,
    n_times: int,
    weights: np.ndarray | None = None,
    *,
    tol: float = _DEMEAN_TOL,
    maxiter: int = _DEMEAN_MAXITER,
) -> np.ndarray:
    """Two-way within transformation of x (n_obs,) or (n_obs, k): remove unit and time (weighted) means.

    Alternating projections until the largest change is below `tol` times the scale of x; a balanced
    panel converges in the first sweep (the second only confirms it). Returns a new float64 array with
    the shape of x.
    """
    arr = np.asarray(x, np.float64)
    squeeze = arr.ndim == 1
    out = arr.reshape(-1, 1).copy() if squeeze else arr.copy()
    if weights is None and _is_balanced_sorted(unit_idx, time_idx, n_units, n_times):
        # exact in closed form, vectorised over columns: x - x̄_unit - x̄_time + x̄
        cube = out.reshape(n_units, n_times, -1)
        cube -= cube.mean(axis=1, keepdims=True)
        cube -= cube.mean(axis=0, keepdims=True)
        out = cube.reshape(-1, out.shape[1])
        return out[:, 0] if squeeze else out
    w = None if weights is None else np.asarray(weights, np.float64)
    wu = np.bincount(unit_idx, weights=w, minlength=n_units).astype(np.float64)
    wt = np.bincount(time_idx, weights=w, minlength=n_times).astype(np.float64)
    scale = max(float(np.max(np.abs(out))) if out.size else 0.0, 1.0)
    for _ in range(maxiter):
        before = out.copy()
        out -= _group_mean(out, unit_idx, n_units, w, wu)[unit_idx]
        out -= _group_mean(out, time_idx, n_times, w, wt)[time_idx]
        if np.max(np.abs(out - before)) <= tol * scale if out.size else True:
            break
    return out[:, 0] if squeeze else out


def _is_balanced_sorted(unit_idx: np.ndarray, time_idx: np.ndarray, n_units: int, n_times: int) -> bool:
    """Rows are every (unit, time) pair once, sorted by unit then time (PanelData's order)."""
    n = n_units * n_times
    if unit_idx.shape[0] != n:
        return False
    return bool(
        np.array_equal(time_idx, np.tile(np.arange(n_times), n_units))
        and np.array_equal(unit_idx, np.repeat(np.arange(n_units), n_times))
    )


def cluster_sums(values: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per-cluster column sums of values (n_obs, k) → (n_clusters, k); fast when rows are sorted by cluster."""
    out = np.zeros((n_clusters, values.shape[1]))
    if values.shape[0] == 0:
        return out
    if np.all(cluster[1:] >= cluster[:-1]):
        starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]])
        out[cluster[starts]] = np.add.reduceat(values, starts, axis=0)
        return out
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(cluster, weights=values[:, j], minlength=n_clusters)
    return out


@dataclass(frozen=True, slots=True)
class TwfeFit:
    """OLS of demeaned y on demeaned regressors (two-way fixed effects absorbed).

    coef (k,), vcov (k, k) CR1 clustered by unit (K = k + k_fe, k_fe per the `ssc` convention), se (k,),
    x_dm (n_obs, k) and y_dm (n_obs,) the demeaned data, resid (n_obs,), xtx_inv (k, k), n_clusters,
    dof_t = n_clusters - 1 (for t quantiles). Units: coef in outcome units per unit of the regressor.
    """

    coef: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    x_dm: np.ndarray
    y_dm: np.ndarray
    resid: np.ndarray
    xtx_inv: np.ndarray
    n_obs: int
    n_clusters: int
    k_fe: int
    dof_t: int


def fit_twfe(
    y: np.ndarray,
    x: np.ndarray,
    unit_idx: np.ndarray,
    time_idx: np.ndarray,
    n_units: int,
    n_times: int,
    weights: np.ndarray | None = None,
    ssc: str = "nested",
) -> TwfeFit:
    """Two-way fixed-effects OLS by demeaning; CR1 cluster-robust by unit, dof convention `ssc`
    ("nested" or "full", see the module docstring)."""
    if ssc not in ("nested", "full"):
        raise ValueError(f"ssc={ssc!r}; choose one of: nested, full")
    x2 = np.asarray(x, np.float64).reshape(len(y), -1)
    both = demean(np.column_stack([y, x2]), unit_idx, time_idx, n_units, n_times, weights)
    y_dm, x_dm = both[:, 0], both[:, 1:]
    w = np.ones(len(y)) if weights is None else np.asarray(weights, np.float64)
    xw = x_dm * w[:, None]
    xtx = x_dm.T @ xw
    xtx_inv = np.linalg.pinv(xtx)
    coef = xtx_inv @ (xw.T @ y_dm)
    resid = y_dm - x_dm @ coef
    k = x_dm.shape[1]
    scores = cluster_sums(xw * resid[:, None], unit_idx, n_units)
    present = np.bincount(unit_idx, minlength=n_units) > 0
    scores = scores[present]
    g = int(present.sum())
    n = len(y)
    n_t_present = int((np.bincount(time_idx, minlength=n_times) > 0).sum())
    k_fe = g + n_t_present - 1 if ssc == "full" else n_t_present
    factor = (g / (g - 1) if g > 1 else math.nan) * (n - 1) / max(n - k - k_fe, 1)
    vcov = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    return TwfeFit(
        coef=coef,
        vcov=vcov,
        se=np.sqrt(np.clip(np.diag(vcov), 0, None)),
        x_dm=x_dm,
        y_dm=y_dm,
        resid=resid,
        xtx_inv=xtx_inv,
        n_obs=n,
        n_clusters=g,
        k_fe=k_fe,
        dof_t=g - 1,
    )


def event_time_bins(event_time: np.ndarray, width: int, lo: int, hi: int) -> np.ndarray:
    """Event time (periods since go-live; 0 = first treated period) → bin number; endpoints are binned.

    Bin b covers [b*width, (b+1)*width); the reference bin is -1 (the `width` periods before go-live).
    Values below `lo` or above `hi` (in bins) are folded into the end bins.
    """
    b = np.floor_divide(event_time, width)
    return np.clip(b, lo, hi)


def choose_bin_width(n_pre: int, n_post: int, time_step_days: int | None, max_bins: int = 26) -> int:
    """Event-study bin width in periods: 1 when short; for daily data whole weeks (then 4-week blocks)."""
    span = max(n_pre, n_post, 1)
    if span <= max_bins:
        return 1
    candidates = (7, 14, 28, 91, 182) if time_step_days == 1 else (2, 3, 4, 6, 12, 24, 52)
    for width in candidates:
        if math.ceil(span / width) <= max_bins:
            return width
    return math.ceil(span / max_bins)


def treatment_dummy(panel: PanelData) -> np.ndarray:
    """Float (n_obs,): 1 for a treated unit at or after its go-live."""
    return panel.post.astype(np.float64)


@dataclass(frozen=True, slots=True)
class EventStudy:
    """Leads and lags from one TWFE regression (common timing): bins (k,) event-time bin starts in periods,
    coef (k,), weights (coef = weights · Y) and the fit; the reference bin (-width..-1) is omitted."""

    bins: np.ndarray
    coef: np.ndarray
    weights: LinearWeights
    fit: TwfeFit
    width: int


def event_bin_range(pre_span: int, post_span: int, width: int, max_bins: int = 26) -> tuple[int, int]:
    """(lowest, highest) event-time bin for `pre_span` periods before go-live and `post_span` from it on."""
    return -min(math.ceil(pre_span / width), max_bins), min(math.ceil(post_span / width), max_bins) - 1


def event_study_twfe(panel: PanelData, width: int, max_bins: int = 26) -> EventStudy | None:
    """Dynamic TWFE with relative-time bin dummies (reference: the bin just before go-live).

    Only for common timing with never-treated controls, where TWFE leads and lags are unbiased.
    Returns None when there are no leads or no lags to estimate.
    """
    ft = panel.first_treated[panel.unit_idx]
    treated_obs = ft >= 0
    if not treated_obs.any():
        return None
    et = np.where(treated_obs, panel.time_idx - ft, 0)
    lo, hi = event_bin_range(int(-et[treated_obs].min()), int(et[treated_obs].max()) + 1, width, max_bins)
    if lo >= -1 or hi < 0:
        return None
    b = event_time_bins(et, width, lo, hi)
    levels = [k for k in range(lo, hi + 1) if k != -1]
    cols = np.column_stack([(treated_obs & (b == k)).astype(np.float64) for k in levels])
    keep = cols.sum(axis=0) > 0
    cols = cols[:, keep]
    levels_arr = np.asarray(levels, np.int64)[keep]
    fit = fit_twfe(panel.y, cols, panel.unit_idx, panel.time_idx, panel.n_units, panel.n_times)
    w_obs = fit.x_dm @ fit.xtx_inv  # (n_obs, k): coef = w_obs.T @ y
    dense = np.zeros((len(levels_arr), panel.n_units, panel.n_times))
    dense[:, panel.unit_idx, panel.time_idx] = w_obs.T
    return EventStudy(
        bins=levels_arr * width, coef=fit.coef, weights=LinearWeights.from_dense(dense), fit=fit, width=width
    )


def did_weights(panel: PanelData, fit: TwfeFit) -> LinearWeights:
    """β̂ = W · Y for the single-regressor TWFE fit (zeros where unobserved), sites with equal rows merged."""
    w = np.zeros((1, panel.n_units, panel.n_times))
    w[0, panel.unit_idx, panel.time_idx] = (fit.x_dm @ fit.xtx_inv)[:, 0]
    return LinearWeights.from_dense(w)


def time_step_days(panel: PanelData) -> int | None:
    """The most common spacing between periods in days for date panels, None for integer time."""
    if panel.time_kind != "date" or panel.n_times < 2:
        return None
    diffs = np.diff(panel.time_ordinal)
    values, counts = np.unique(diffs, return_counts=True)
    return int(values[np.argmax(counts)])


@dataclass(frozen=True, slots=True)
class _Ctx:
    panel: PanelData
    fit: TwfeFit
    weights: LinearWeights
    treated: np.ndarray
    controls: np.ndarray
    opts: EstimationOptions


def _inf_placebo(c: _Ctx) -> Inference:
    return placebo_inference(c.panel, c.weights, c.fit.coef, c.controls, c.opts.alpha)


def _inf_cluster(c: _Ctx) -> Inference:
    return from_vcov(
        c.fit.coef, c.fit.vcov, float(c.fit.dof_t), c.opts.alpha, f"cluster-robust CR1 by site, t with {c.fit.dof_t} df"
    )


def _inf_wild(c: _Ctx) -> Inference:
    base = _inf_cluster(c)
    n = c.fit.n_obs
    ssc = c.fit.n_clusters / (c.fit.n_clusters - 1) * (n - 1) / max(n - 1 - c.fit.k_fe, 1)
    p, lo, hi = wild_cluster_bootstrap(
        c.fit.x_dm[:, 0],
        c.fit.y_dm,
        c.panel.unit_idx,
        c.panel.n_units,
        ssc,
        alpha=c.opts.alpha,
        n_boot=c.opts.n_boot,
        rng=np.random.default_rng([c.opts.seed, 1]),
    )
    return Inference(
        estimate=base.estimate,
        se=base.se,
        ci_low=np.array([lo]),
        ci_high=np.array([hi]),
        p_value=np.array([p]),
        vcov=base.vcov,
        dof=base.dof,
        label=(
            f"wild cluster bootstrap (restricted, Webb weights, {c.opts.n_boot} draws) by site; "
            "interval by test inversion"
        ),
    )


def _inf_hac(c: _Ctx) -> Inference:
    # monthly and coarser series: GLS with AR(1) errors (the HAR variance has one or two degrees of freedom there)
    monthly = ar1_contrast(c.panel, c.treated, c.controls, c.opts.alpha)
    return monthly if monthly is not None else hac_contrast(c.panel, c.treated, c.controls, c.opts.alpha)


_DID_INFERENCE: dict[str, Callable[[_Ctx], Inference]] = {
    "placebo_variance": _inf_placebo,
    "cluster": _inf_cluster,
    "wild_cluster_bootstrap": _inf_wild,
    "hac": _inf_hac,
}


def estimate_did(panel: PanelData, opts: EstimationOptions | None = None, **overrides: Any) -> EffectResult:
    """Difference-in-differences with site and period fixed effects for one common go-live.

    `opts`/`overrides`: see `EstimationOptions`. Staggered go-lives get `insufficient_data` with reason
    `staggered_adoption` (use `staggered_did`: plain TWFE is biased there). Units: `att` in the outcome's
    units per treated site and period, the TWFE β on the post-go-live indicator.
    """
    opts = (opts or EstimationOptions()).with_(**overrides) if overrides else (opts or EstimationOptions())
    design = describe_design(panel, opts)
    problem = check_sufficiency(panel, "did", opts, design)
    if problem is not None:
        return problem
    if design.staggered:
        return insufficient("did", "staggered_adoption", n_cohorts=len(design.cohorts))
    keep = design.treated | design.never
    sub = panel if keep.all() else panel.subset_units(keep)
    treated = sub.treated
    controls = sub.never_treated
    fit = fit_twfe(sub.y, treatment_dummy(sub), sub.unit_idx, sub.time_idx, sub.n_units, sub.n_times)
    weights = did_weights(sub, fit)
    n_t, n_c = int(treated.sum()), int(controls.sum())
    kind = choose_inference(n_t, n_c, "did", opts)
    if kind not in _DID_INFERENCE:
        raise ValueError(f"inference={kind!r} is not available for did; choose one of: {', '.join(_DID_INFERENCE)}")
    ctx = _Ctx(sub, fit, weights, treated, controls, opts)
    inf = _DID_INFERENCE[kind](ctx)
    # the estimate the interval is built around: the TWFE β, except for HAR, whose contrast of the
    # treated-minus-control series is also seasonally adjusted (an interval must be centred on its estimate)
    att = float(inf.estimate[0])
    cf_mean = counterfactual_mean_post(sub, treated, att)
    diagnostics: dict[str, Any] = {
        "cluster_se": float(fit.se[0]),
        "counterfactual_mean_post": cf_mean,
        "inference_dof": inf.dof,
        "excluded_sites": int((~keep).sum()),
        "control_sites": [str(label) for label in sub.unit_labels[controls]],  # the ones compared with, by name
        # the treated sites estimated, by name: those live inside the panel (not from its first period nor after it)
        # and reporting on both sides of their go-live (`Design.idle_treated`)
        "treated_sites": [str(label) for label in sub.unit_labels[treated]],
    }
    es_frame = pl.DataFrame(schema=EVENT_STUDY_SCHEMA)
    pre_p: float | None = None
    cf_frame = None
    if opts.detail:
        es_frame, pre_p = _event_study(ctx, kind)
        cf_frame, _ = counterfactual_frame(sub, treated, controls, opts.alpha, opts.few_treated)
        if n_t <= opts.few_treated and n_c >= 1:
            p_ri, n_ri = _randomization(sub, treated, controls, att, opts)
            diagnostics["randomization_p_value"] = p_ri
            diagnostics["randomization_draws"] = n_ri
        diagnostics.update(pre_period_fit(cf_frame, sub, design.n_pre))
    return effect_result(
        "did", att, inf, cf_mean, opts, pre_p, n_t, n_c, design.n_pre, design.n_post,
        event_study=es_frame, counterfactual=cf_frame, diagnostics=diagnostics,
    )  # fmt: skip


def effect_result(
    method: str,
    att: float,
    inf: Inference,
    cf_mean: float,
    opts: EstimationOptions,
    pre_trend_p: float | None,
    n_treated: int,
    n_controls: int,
    n_pre: int,
    n_post: int,
    **frames: Any,
) -> EffectResult:
    """The result of a difference-in-differences estimate: the overall effect is row 0 of `inf`.

    `frames` passes the method's own frames and diagnostics (event_study, group_time, counterfactual, ...).
    """
    se = float(inf.se[0])
    return EffectResult(
        method=method,
        att=att,
        se=se,
        ci_low=float(inf.ci_low[0]),
        ci_high=float(inf.ci_high[0]),
        p_value=float(inf.p_value[0]),
        att_pct=att_percent(att, cf_mean),
        inference=inf.label,
        pre_trend_p=pre_trend_p,
        mde=minimum_detectable_effect(se, inf.dof, opts.alpha),
        n_treated=n_treated,
        n_controls=n_controls,
        n_pre_periods=n_pre,
        n_post_periods=n_post,
        **frames,
    )


def _event_study(c: _Ctx, kind: str) -> tuple[pl.DataFrame, float | None]:
    """Event-study frame (leads and lags, binned) and the joint pre-trend p-value."""
    panel, opts = c.panel, c.opts
    g = int(panel.first_treated[c.treated].min())
    width = opts.event_bin or choose_bin_width(g, panel.n_times - g, time_step_days(panel))
    if kind in ("placebo_variance", "hac") and int(c.controls.sum()) < 3:
        # no placebo variance with one or two controls: the contrast series' own leads and lags with its HAR
        # variance, and for the pre-trend a pre-period slope of that series (the leads' joint test had no power)
        pre_p = ar1_pre_trend(panel, c.treated, c.controls)  # monthly and coarser, as the estimate
        if pre_p is None:
            pre_p = hac_pre_trend(panel, c.treated, c.controls)
        return _har_event_study(c, g, width), pre_p
    es = event_study_twfe(panel, width)
    if es is None:
        return pl.DataFrame(schema=EVENT_STUDY_SCHEMA), None
    if kind in ("placebo_variance", "hac"):
        inf = placebo_inference(panel, es.weights, es.coef, c.controls, opts.alpha)
    else:
        inf = from_vcov(es.coef, es.fit.vcov, float(es.fit.dof_t), opts.alpha, "cluster")
    frame = _event_study_frame(es.bins, inf)
    lead = es.bins < 0
    dof = inf.dof
    if kind not in ("placebo_variance", "hac"):
        # The leads' cluster-robust covariance is driven by the treated sites' scores: with tens of them
        # the F(q, G - 1) reference over-rejects (11% at 5% with 20 treated of 60 sites in the validation
        # simulation), so the degrees of freedom are those of the smaller group.
        dof = float(min(int(c.treated.sum()), int(c.controls.sum())) - 1)
    pre_p = wald_test(es.coef[lead], inf.vcov[np.ix_(lead, lead)], dof, max_q=12) if lead.any() else None
    return frame, pre_p


def _har_event_study(c: _Ctx, go: int, width: int) -> pl.DataFrame:
    """The event study of the treated-minus-control series (`har_event_study`) in `width`-period bins, relative to
    the pre-period's mean (so it has a row for the bin before go-live)."""
    observed = np.flatnonzero(np.isfinite(c.panel.wide()[c.treated]).any(axis=0))
    lo, hi = event_bin_range(go - int(observed[0]), int(observed[-1]) - go + 1, width)
    if lo >= -1 or hi < 0:
        return pl.DataFrame(schema=EVENT_STUDY_SCHEMA)
    period_bin = event_time_bins(np.arange(c.panel.n_times) - go, width, lo, hi)
    found = har_event_study(c.panel, c.treated, c.controls, period_bin, c.opts.alpha)
    if found is None:
        return pl.DataFrame(schema=EVENT_STUDY_SCHEMA)
    levels, inf = found
    return _event_study_frame(levels * width, inf)


def _event_study_frame(event_time: np.ndarray, inf: Inference) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_time": event_time.astype(np.int64),
            "att": inf.estimate,
            "se": inf.se,
            "ci_low": inf.ci_low,
            "ci_high": inf.ci_high,
        }
    )


def _randomization(
    panel: PanelData, treated: np.ndarray, controls: np.ndarray, att: float, opts: EstimationOptions
) -> tuple[float, int]:
    """Fisher p-value: the DiD of post-minus-pre means with the treated label moved across all sites."""
    y = panel.wide()
    g = int(panel.first_treated[treated].min())
    d = nan_mean(y[:, g:], axis=1) - nan_mean(y[:, :g], axis=1)
    pool = np.flatnonzero(treated | controls)
    n_t = int(treated.sum())
    ok = np.isfinite(d)

    def stat(assigned: np.ndarray) -> float:
        mask = np.zeros(panel.n_units, bool)
        mask[assigned] = True
        rest = ~mask & (treated | controls) & ok
        return float(np.mean(d[mask & ok]) - np.mean(d[rest])) if rest.any() and (mask & ok).any() else math.nan

    observed = stat(np.flatnonzero(treated))
    return randomization_pvalue(stat, pool, n_t, observed, np.random.default_rng([opts.seed, 2]), opts.n_boot)
