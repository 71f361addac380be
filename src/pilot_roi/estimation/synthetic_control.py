"""Synthetic control for one or a few treated sites with a pool of donor sites.

`estimate_synthetic_control(panel, seed=..., alpha=..., **options)` turns a `PanelData` into arrays,
checks that the design can carry an estimate, and calls the numeric core in `_sc_core`.

Design
- Treated units: units whose go-live falls inside the panel (at least `min_pre_periods` observed
  periods before it and one after). Donors: never-treated units (with `control_group="not_yet_treated"`
  also units whose go-live falls after the panel), complete over the periods the treated units use;
  a donor with a gap is dropped and listed in the diagnostics.
- `target="separate"` (default) synthesises every treated unit from the donors and averages the
  gaps; `target="pooled"` synthesises the mean of the treated units (one go-live only).
- `intercept=True` is the demeaned variant (a constant level difference is allowed).
- ATT: mean gap (observed - synthetic) over every observed post cell, in outcome units; `att_pct` is
  100 · ATT / mean synthetic over the same cells.
- Inference (`inference="auto" | "placebo" | "placebo_t" | "conformal"`): `auto` takes the in-space
  placebo rank test when there are enough donors for it to reject at `alpha` (at least 1/alpha - 1),
  else `placebo_t`: the same placebos, with a t interval (n_donors - 1 degrees of freedom) built from
  their spread, exact if the standardised effects are exchangeable and normal. `conformal` (time
  permutations, Chernozhukov-Wüthrich-Zhu) is available on request; it assumes a stationary gap and
  under-covers when sites drift apart (see bench/validation/sc_its_results.md). `se` is the placebos'
  standard deviation of the standardised effect times the treated pre-period RMSPE (placebo, placebo_t)
  or the interval's half-width / z (conformal).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import norm
from scipy.stats import t as t_dist

from pilot_roi.estimation import _sc_core as core
from pilot_roi.estimation.diagnostics import att_percent
from pilot_roi.estimation.options import check_choice
from pilot_roi.estimation.panel import PanelData
from pilot_roi.estimation.result import EVENT_STUDY_SCHEMA, EffectResult, insufficient

METHOD = "synthetic_control"

_OPTIONS = (
    "intercept",
    "target",
    "inference",
    "min_pre_periods",
    "min_donors",
    "n_placebo_draws",
    "control_group",
    "max_weights_reported",
)
_TARGETS = ("separate", "pooled")
_INFERENCES = ("auto", "placebo", "placebo_t", "conformal")
_CONTROL_GROUPS = ("never_treated", "not_yet_treated")


@dataclass(frozen=True, slots=True)
class ScOptions:
    """Options of the synthetic control (defaults in brackets).

    intercept [False]: demeaned synthesis; target ["separate"]: per-unit syntheses averaged, or
    "pooled" (the treated mean); inference ["auto"]; min_pre_periods [5]; min_donors [2];
    n_placebo_draws [1000]: placebo draws when there are several treated units;
    control_group ["never_treated"]; max_weights_reported [25]: donors listed per treated unit.
    """

    intercept: bool = False
    target: str = "separate"
    inference: str = "auto"
    min_pre_periods: int = 5
    min_donors: int = 2
    n_placebo_draws: int = 1000
    control_group: str = "never_treated"
    max_weights_reported: int = 25


def parse_options(options: dict[str, Any]) -> ScOptions:
    """Options checked at the boundary: unknown names and values raise ValueError listing the allowed."""
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"unknown synthetic_control option(s) {unknown}; allowed: {', '.join(_OPTIONS)}")
    opts = ScOptions(**options)
    check_choice("target", opts.target, _TARGETS)
    check_choice("inference", opts.inference, _INFERENCES)
    check_choice("control_group", opts.control_group, _CONTROL_GROUPS)
    if opts.min_pre_periods < 2 or opts.min_donors < 1 or opts.n_placebo_draws < 1:
        raise ValueError("min_pre_periods >= 2, min_donors >= 1 and n_placebo_draws >= 1 are required")
    return opts


@dataclass(frozen=True, slots=True)
class _Design:
    """Arrays restricted to the periods used (`periods`, int64 indices into the panel's times)."""

    y_treated: np.ndarray  # (n_treated, n_used)
    donors: np.ndarray  # (n_donors, n_used)
    go_lives: np.ndarray  # (n_treated,) in used-period coordinates
    periods: np.ndarray  # (n_used,)
    treated_labels: list[str]
    donor_labels: list[str]
    excluded_treated: dict[str, str]
    dropped_donors: list[str]


def _design(panel: PanelData, opts: ScOptions) -> _Design | EffectResult:
    wide = panel.wide()
    ft = np.asarray(panel.first_treated)
    n_times = panel.n_times
    labels = [str(x) for x in panel.unit_labels]
    in_window = (ft >= 0) & (ft < n_times)
    if not np.any(ft >= 0):
        return insufficient(METHOD, "no_treated")
    if not in_window.any():
        return insufficient(METHOD, "insufficient_post_periods" if np.any(ft >= n_times) else "no_treated")
    donor_candidates = ft < 0
    if opts.control_group == "not_yet_treated":
        donor_candidates |= ft >= n_times
    if not donor_candidates.any():
        return insufficient(METHOD, "no_controls")

    excluded: dict[str, str] = {}
    keep: list[int] = []
    for i in np.flatnonzero(in_window):
        obs = np.isfinite(wide[i])
        n_pre = int(obs[: ft[i]].sum())
        n_post = int(obs[ft[i] :].sum())
        if n_pre < opts.min_pre_periods:
            excluded[labels[i]] = "insufficient_pre_periods"
        elif n_post < 1:
            excluded[labels[i]] = "insufficient_post_periods"
        else:
            keep.append(int(i))
    if not keep:
        reasons = set(excluded.values())
        reason = "insufficient_pre_periods" if "insufficient_pre_periods" in reasons else "insufficient_post_periods"
        return insufficient(METHOD, reason, excluded_treated=excluded)
    treated_idx = np.asarray(keep)
    periods = np.flatnonzero(np.isfinite(wide[treated_idx]).any(axis=0))
    cand = np.flatnonzero(donor_candidates)
    complete = np.isfinite(wide[np.ix_(cand, periods)]).all(axis=1)
    donor_idx = cand[complete]
    dropped = [labels[j] for j in cand[~complete]]
    if donor_idx.size < opts.min_donors:
        return insufficient(
            METHOD,
            "too_few_controls",
            n_donors=int(donor_idx.size),
            min_donors=opts.min_donors,
            dropped_donors=dropped,
        )
    go_lives = np.searchsorted(periods, ft[treated_idx]).astype(np.int64)
    return _Design(
        y_treated=wide[np.ix_(treated_idx, periods)],
        donors=wide[np.ix_(donor_idx, periods)],
        go_lives=go_lives,
        periods=periods,
        treated_labels=[labels[i] for i in treated_idx],
        donor_labels=[labels[j] for j in donor_idx],
        excluded_treated=excluded,
        dropped_donors=dropped,
    )


@dataclass(frozen=True, slots=True)
class _Inference:
    """What an inference method adds to the point estimate (outcome units)."""

    name: str
    p_value: float
    ci_low: float
    ci_high: float
    se: float
    band_by_time: np.ndarray  # pointwise half-width around the counterfactual, (n_used,)
    event_se: np.ndarray
    event_half_width: np.ndarray
    details: dict[str, Any]


def _placebo_gaps(donors: np.ndarray, go_live: int, intercept: bool) -> np.ndarray:
    """Gap series (n_donors, n_used) of every donor synthesised from the others with `go_live`."""
    n = donors.shape[0]
    out = np.empty_like(donors)
    for j in range(n):
        others = np.delete(donors, j, axis=0)
        out[j] = core.synthesize(donors[j], others, go_live, intercept=intercept).gap
    return out


def _placebo_inference(
    d: _Design, agg: core.Aggregate, opts: ScOptions, alpha: float, rng: np.random.Generator, *, use_t: bool
) -> _Inference:
    n_donors = d.donors.shape[0]
    draws = core.placebo_draws(n_donors, d.go_lives, opts.n_placebo_draws, rng)
    if opts.target == "pooled" and d.y_treated.shape[0] > 1:
        stats_src = []
        g = int(d.go_lives[0])
        for row in draws:
            members = np.asarray(row)
            pseudo = d.donors[members].mean(axis=0)
            rest = np.delete(d.donors, members, axis=0)
            gap = core.synthesize(pseudo, rest, g, intercept=opts.intercept).gap
            stats_src.append(core.aggregate(gap[None, :], np.asarray([g]), agg.event_times))
    else:
        cache = {int(g): _placebo_gaps(d.donors, int(g), opts.intercept) for g in np.unique(d.go_lives)}
        stats_src = [
            core.aggregate(
                np.stack([cache[int(g)][k] for g, k in zip(d.go_lives, row, strict=True)]),
                d.go_lives,
                agg.event_times,
            )
            for row in draws
        ]
    # Without the finite-pool correction, 3 treated sites with 10 donors covered 92% at 95%.
    k = int(draws.shape[1])
    spread = core.finite_pool_factor(n_donors, k)
    r = np.asarray([max(a.rmspe_pre, 1e-12) for a in stats_src])
    att_k = np.asarray([a.att for a in stats_src])
    std_k = att_k / r
    # the rank test compares the treated statistic with these: scale them relative to one placebo site
    # (sqrt((N - 1) / (N - k))), since a single site's statistic needs no correction of its own
    stats = np.abs(std_k) * (spread / core.finite_pool_factor(n_donors, 1)) if n_donors > k else np.abs(std_k)
    r0 = max(agg.rmspe_pre, 1e-12)
    stat0 = abs(agg.att) / r0
    se = float(np.std(std_k) * spread * r0) if std_k.size > 1 else math.nan
    by_time = np.stack([a.by_time for a in stats_src]) / r[:, None]
    by_event = np.stack([a.by_event for a in stats_src]) / r[:, None]
    with np.errstate(invalid="ignore"):
        time_sd = np.nanstd(by_time, axis=0) * spread * r0
        event_se = np.nanstd(by_event, axis=0) * spread * r0
    if use_t:
        # too few placebos for a rank test at alpha: the studentised effect over the placebos' spread is
        # t-distributed with (n_independent_placebos - 1) degrees of freedom if the standardised
        # effects are exchangeable and normal
        df = max(min(stats.size, n_donors) - 1, 1)
        q = float(t_dist.ppf(1 - alpha / 2, df))
        half = q * se
        p = float(2 * t_dist.sf(stat0 * r0 / se, df)) if se > 0 else math.nan
        band = q * time_sd
        event_half = q * event_se
    else:
        df = 0
        p = core.rank_p_value(stat0, stats)
        q = core.critical_value(stats, alpha)
        half = q * r0
        band = core.critical_values_columns(np.abs(by_time), alpha) * r0
        event_half = core.critical_values_columns(np.abs(by_event), alpha) * r0

    # Abadie, Diamond & Hainmueller's statistic: post/pre RMSPE ratio of the aggregate gap
    def ratio(a: core.Aggregate) -> float:
        post = a.event_times >= 0
        vals = a.by_event[post & np.isfinite(a.by_event)]
        return float(np.sqrt(np.mean(vals**2)) / max(a.rmspe_pre, 1e-12)) if vals.size else math.nan

    ratios = np.asarray([ratio(a) for a in stats_src])
    details = {
        "n_placebos": int(stats.size),
        "t_degrees_of_freedom": df if use_t else None,
        "statistic": "abs(att) / pre_rmspe",
        "statistic_value": stat0,
        "critical_value": q,
        "p_value_rmspe_ratio": core.rank_p_value(ratio(agg), ratios[np.isfinite(ratios)]),
        "rmspe_ratio": ratio(agg),
        "min_attainable_p": 1.0 / (stats.size + 1),
    }
    return _Inference(
        name="placebo_t" if use_t else "placebo",
        p_value=p,
        ci_low=agg.att - half,
        ci_high=agg.att + half,
        se=se,
        band_by_time=band,
        event_se=event_se,
        event_half_width=event_half,
        details=details,
    )


def _conformal_inference(d: _Design, agg: core.Aggregate, opts: ScOptions, alpha: float) -> _Inference:
    """Chernozhukov-Wüthrich-Zhu time-permutation test for a constant effect, inverted into an interval."""
    if opts.target == "pooled":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            targets = np.nanmean(d.y_treated, axis=0, keepdims=True)
    else:
        targets = d.y_treated
    g = int(d.go_lives[0])
    n_used = targets.shape[1]
    post_full = np.arange(n_used) >= g
    prepared = []
    for y in targets:
        obs = np.isfinite(y)
        a = d.donors[:, obs].T
        p = post_full[obs].astype(float)
        level = 0.0
        if opts.intercept:
            a = a - a.mean(axis=0)
        else:  # as in `core.fit_synthetic`: the simplex fit is the same, the Gram matrix keeps its precision
            level = core.common_level(a)
            a = a - level
        gram = a.T @ a
        prepared.append((obs, a, y[obs] - level, p, gram))

    def residual_mean(tau: float) -> tuple[np.ndarray, np.ndarray]:
        acc = np.zeros(n_used)
        cnt = np.zeros(n_used)
        for obs, a, y, p, gram in prepared:
            b = y - tau * p
            if opts.intercept:
                b = b - b.mean()
            w, _ = core.solve_gram(gram, a.T @ b)
            resid = b - a @ w
            acc[obs] += resid
            cnt[obs] += 1
        keep = cnt > 0
        return acc[keep] / cnt[keep], post_full[keep]

    def p_of(tau: float) -> float:
        u, post = residual_mean(tau)
        return core.conformal_p_value(u, post)

    r0 = max(agg.rmspe_pre, 1e-12)
    n_post = max(int(post_full.sum()), 1)
    step = r0 / math.sqrt(n_post)
    center = agg.att
    if p_of(center) <= alpha:
        # The test rejects the estimate itself: the residuals are not exchangeable over time, and an
        # interval elsewhere would not hold the effect it is reported with (it once gave 3.5 an interval
        # of -40.9 to -40.9). No interval, so the result says the fit is degenerate.
        nan_band = np.full(n_used, np.nan)
        nan_event = np.full(agg.event_times.shape[0], np.nan)
        return _Inference(
            "conformal",
            p_of(0.0),
            math.nan,
            math.nan,
            math.nan,
            nan_band,
            nan_event,
            nan_event,
            {"note": "the time-permutation test rejects the estimate itself"},
        )

    def edge(direction: float) -> float:
        inside = center
        outside = math.nan
        for k in range(1, 400):
            t = center + direction * step * k
            if p_of(t) <= alpha:
                outside = t
                break
            inside = t
        if math.isnan(outside):
            return direction * math.inf
        for _ in range(25):
            mid = 0.5 * (inside + outside)
            if p_of(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return 0.5 * (inside + outside)

    lo, hi = edge(-1.0), edge(1.0)
    z = float(norm.ppf(1 - alpha / 2))
    se = (hi - lo) / (2 * z) if math.isfinite(hi - lo) else math.nan
    u, post = residual_mean(agg.att)
    q_point = float(np.quantile(np.abs(u[~post]), 1 - alpha)) if (~post).any() else math.nan
    band = np.full(n_used, q_point)
    event_half = np.full(agg.event_times.shape[0], q_point)
    return _Inference(
        name="conformal",
        p_value=p_of(0.0),
        ci_low=lo,
        ci_high=hi,
        se=se,
        band_by_time=band,
        event_se=event_half / z,
        event_half_width=event_half,
        details={"n_permutations": int(u.shape[0]), "min_attainable_p": 1.0 / u.shape[0]},
    )


def _choose_inference(d: _Design, opts: ScOptions, alpha: float) -> str:
    if opts.inference != "auto":
        return opts.inference
    n_donors = d.donors.shape[0]
    n_treated = d.y_treated.shape[0]
    n_placebos = n_donors if n_treated == 1 else min(opts.n_placebo_draws, math.comb(n_donors, n_treated))
    return "placebo" if math.floor(alpha * (n_placebos + 1) + 1e-12) >= 1 else "placebo_t"


def estimate_synthetic_control(panel: PanelData, *, seed: int = 0, alpha: float = 0.05, **options: Any) -> EffectResult:
    """Synthetic-control estimate of the effect on the treated units of `panel`.

    Options (see `ScOptions`): intercept, target, inference, min_pre_periods, min_donors,
    n_placebo_draws, control_group, max_weights_reported. Returns an `EffectResult` with
    `method="synthetic_control"`, the ATT in outcome units, a permutation p-value and interval, the
    counterfactual frame (mean over treated units) and the event study; `diagnostics` holds the donor
    weights, the pre-period fit (RMSPE, R²) and the inference details. A design that cannot carry an
    estimate returns `status="insufficient_data"` with a reason code.
    """
    opts = parse_options(options)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} must lie in (0, 1)")
    d = _design(panel, opts)
    if isinstance(d, EffectResult):
        return d
    rng = np.random.default_rng(seed)
    target = opts.target
    notes: list[str] = []
    if target == "pooled" and len(set(d.go_lives.tolist())) > 1:
        target = "separate"
        notes.append("pooled synthesis needs one go-live; the treated units were synthesised separately")
    if target != opts.target:
        opts = ScOptions(**{**{k: getattr(opts, k) for k in _OPTIONS}, "target": target})

    if target == "pooled":
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            units = np.nanmean(d.y_treated, axis=0, keepdims=True)
        lives = d.go_lives[:1]
        unit_names = ["treated_mean"] if d.y_treated.shape[0] > 1 else d.treated_labels
    else:
        units, lives, unit_names = d.y_treated, d.go_lives, d.treated_labels
    syntheses = [
        core.synthesize(y, d.donors, int(g), intercept=opts.intercept) for y, g in zip(units, lives, strict=True)
    ]
    gaps = np.stack([s.gap for s in syntheses])
    synthetic = np.stack([s.synthetic for s in syntheses])
    n_used = d.periods.shape[0]
    event_times = np.arange(-int(lives.max()), n_used - int(lives.min()), dtype=np.int64)
    agg = core.aggregate(gaps, lives, event_times)

    t_idx = np.arange(n_used)
    post_cells = np.isfinite(gaps) & (t_idx[None, :] >= lives[:, None])
    cf_mean_post = float(np.mean(synthetic[post_cells]))
    att_pct = att_percent(agg.att, cf_mean_post)

    chosen = _choose_inference(d, opts, alpha)
    if chosen == "conformal" and len(set(lives.tolist())) > 1:
        chosen = "placebo"
        notes.append("conformal inference needs one go-live; placebo inference used")
    if chosen != "conformal" and d.donors.shape[0] <= d.y_treated.shape[0]:
        # a placebo draws as many distinct donors as there are treated units and synthesises each from
        # the others: with no more donors than treated units there is not one placebo to compare with
        return insufficient(
            METHOD,
            "too_few_controls",
            n_donors=int(d.donors.shape[0]),
            min_donors=int(d.y_treated.shape[0]) + 1,
            n_treated=int(d.y_treated.shape[0]),
        )
    inf = (
        _conformal_inference(d, agg, opts, alpha)
        if chosen == "conformal"
        else _placebo_inference(d, agg, opts, alpha, rng, use_t=chosen == "placebo_t")
    )

    # counterfactual frame on the panel's time axis: means over the treated units observed then
    with np.errstate(invalid="ignore"):
        obs_mean = np.nanmean(np.where(np.isfinite(gaps), units, np.nan), axis=0)
        cf_mean = np.nanmean(synthetic, axis=0)
    full_obs = np.full(panel.n_times, np.nan)
    full_cf = np.full(panel.n_times, np.nan)
    full_band = np.full(panel.n_times, np.nan)
    full_obs[d.periods] = obs_mean
    full_cf[d.periods] = cf_mean
    full_band[d.periods] = inf.band_by_time
    counterfactual = panel.time_frame(
        observed=full_obs, counterfactual=full_cf, ci_low=full_cf - full_band, ci_high=full_cf + full_band
    )
    has_event = np.isfinite(agg.by_event)
    event_study = pl.DataFrame(
        {
            "event_time": agg.event_times[has_event],
            "att": agg.by_event[has_event],
            "se": inf.event_se[has_event],
            "ci_low": (agg.by_event - inf.event_half_width)[has_event],
            "ci_high": (agg.by_event + inf.event_half_width)[has_event],
        },
        schema=EVENT_STUDY_SCHEMA,
    )

    weights: dict[str, dict[str, float]] = {}
    fit_by_unit: dict[str, dict[str, float | int | str]] = {}
    for name, s, g in zip(unit_names, syntheses, lives, strict=True):
        order = np.argsort(-s.fit.weights)[: opts.max_weights_reported]
        weights[name] = {d.donor_labels[k]: float(s.fit.weights[k]) for k in order if s.fit.weights[k] > 1e-6}
        fit_by_unit[name] = {
            "pre_rmspe": s.fit.rmspe,
            "pre_r2": s.fit.r2,
            "intercept": s.fit.intercept,
            "n_donors_with_weight": int(np.sum(s.fit.weights > 1e-6)),
            "n_pre_periods": int(np.isfinite(s.gap[: int(g)]).sum()),
            "solver": s.fit.solver,
        }
    r2s = [float(v["pre_r2"]) for v in fit_by_unit.values() if math.isfinite(float(v["pre_r2"]))]
    diagnostics: dict[str, Any] = {
        "weights": weights,
        "pre_fit": fit_by_unit,
        "pre_rmspe": agg.rmspe_pre,
        "pre_r2_min": min(r2s) if r2s else math.nan,
        "poor_pre_fit": bool(r2s and min(r2s) < 0.5),
        "donors": d.donor_labels,
        "control_sites": d.donor_labels,  # the whole pool the weights were fitted on, whatever weight each got
        "dropped_donors": d.dropped_donors,
        "excluded_treated": d.excluded_treated,
        "treated_sites": list(d.treated_labels),  # the treated sites synthesised, by name (not those excluded)
        "target": target,
        "intercept": opts.intercept,
        "inference": inf.name,
        **{f"inference_{k}": v for k, v in inf.details.items()},
        "notes": notes,
    }
    n_pre = int(np.sum(np.isfinite(gaps) & (t_idx[None, :] < lives[:, None])))
    return EffectResult(
        method=METHOD,
        status="ok",
        att=agg.att,
        se=inf.se,
        ci_low=inf.ci_low,
        ci_high=inf.ci_high,
        p_value=inf.p_value,
        att_pct=att_pct,
        inference=_inference_text(inf.name, alpha),
        n_treated=len(d.treated_labels),
        n_controls=d.donors.shape[0],
        n_pre_periods=int(lives.min()),
        n_post_periods=int(n_used - lives.min()),
        counterfactual=counterfactual,
        event_study=event_study,
        diagnostics={**diagnostics, "n_pre_cells": n_pre, "n_post_cells": int(post_cells.sum())},
    )


def _inference_text(name: str, alpha: float) -> str:
    level = round(100 * (1 - alpha))
    if name == "placebo":
        return (
            f"in-space placebo permutation across donors (|ATT| / pre-period RMSPE); {level}% interval by "
            "test inversion over constant effects"
        )
    if name == "placebo_t":
        return (
            f"in-space placebos across donors (too few for a rank test at this level): {level}% t interval "
            "from the spread of the placebos' standardised effects"
        )
    return f"conformal time-permutation test (moving blocks); {level}% interval by test inversion"
