"""Diagnostics: data sufficiency, the counterfactual path, placebo in time, leave-one-out controls, MDE.

- `check_sufficiency`: a design that cannot support an estimate gets `insufficient_data` with a reason
  code, never a number: `no_treated`, `insufficient_pre_periods`, `insufficient_post_periods`,
  `no_controls`, `too_many_gaps`. A difference-in-differences counts only the periods in which the treated
  sites and their controls are both observed (`insufficient_pre_periods_with_controls`,
  `insufficient_post_periods_with_controls`: the calendar has the periods, the comparison does not).
- `counterfactual_frame`: the treated sites' mean path and its counterfactual (time, observed,
  counterfactual, ci_low, ci_high); pointwise intervals from the control sites' placebo spread.
- `placebo_in_time`: the same method on the pre-period only, with a fake go-live at its middle; a real
  design should find nothing there.
- `leave_one_out_controls`: the estimate with each control site left out in turn (up to 20 of them).
- `minimum_detectable_effect`: the smallest effect the design detects with 80% power at level alpha.
- `pre_period_fit`: RMSE of the counterfactual against the observed mean before go-live.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from pilot_roi.estimation.design import Design, describe_design
from pilot_roi.estimation.inference import nan_mean, nan_var
from pilot_roi.estimation.options import EstimationOptions
from pilot_roi.estimation.panel import PanelData
from pilot_roi.estimation.result import EffectResult, insufficient

MAX_LOO = 20
MAX_TREATED_GAP_SHARE = 0.5


def check_sufficiency(
    panel: PanelData, method: str, opts: EstimationOptions, design: Design | None = None
) -> EffectResult | None:
    """An `insufficient_data` result when the design cannot support `method`, else None."""
    d = design or describe_design(panel, opts)
    facts = {
        "n_treated": d.n_treated,
        "n_controls": d.n_controls(opts.control_group),
        "n_pre_periods": d.n_pre,
        "n_post_periods": d.n_post,
        "min_pre_periods": d.min_pre,
        "min_post_periods": d.min_post,
        "gap_share": round(d.gap_share, 4),
        "always_treated_sites": int(d.always_treated.sum()),
        "late_sites": int(d.late.sum()),
    }
    if d.n_treated == 0:
        # every reason that applies, in the stored comma-separated form: sites live from the first period have
        # nothing before go-live, sites going live after the data nothing after (both, when both kinds are there)
        reasons = [
            *(["insufficient_pre_periods"] if d.always_treated.any() or _idle(panel, d, before=True) else []),
            *(["insufficient_post_periods"] if d.late.any() or _idle(panel, d, before=False) else []),
        ]
        return insufficient(method, ",".join(reasons) or "no_treated", **facts)
    if max(d.cohort_pre) < d.min_pre:
        return insufficient(method, "insufficient_pre_periods", **facts)
    if max(d.cohort_post) < d.min_post:
        return insufficient(method, "insufficient_post_periods", **facts)
    if method in ("did", "staggered_did", "synthetic_control") and d.n_controls(opts.control_group) == 0:
        return insufficient(method, "no_controls", **facts)
    if method in ("did", "staggered_did"):
        pre, post = _periods_beside_controls(panel, d, opts.control_group)
        facts = {**facts, "n_pre_periods_with_controls": max(pre), "n_post_periods_with_controls": max(post)}
        if max(pre) < d.min_pre:
            return insufficient(method, "insufficient_pre_periods_with_controls", **facts)
        if max(post) < d.min_post:
            return insufficient(method, "insufficient_post_periods_with_controls", **facts)
    if d.gap_share > opts.max_gap_share:
        return insufficient(method, "too_many_gaps", **facts)
    worst = _worst_treated_gap(panel, d)
    if worst > MAX_TREATED_GAP_SHARE:
        return insufficient(method, "too_many_gaps", worst_treated_gap_share=round(worst, 4), **facts)
    return None


def _periods_beside_controls(panel: PanelData, d: Design, control_group: str) -> tuple[list[int], list[int]]:
    """Per cohort, the periods before and from go-live in which a treated site and a control are both
    observed: a comparison needs both sides of the same period (the cohort counts alone see the calendar)."""
    obs = panel.observed()
    controls = obs[d.never].any(axis=0)
    pre, post = [], []
    for g in d.cohorts:
        cohort = d.treated & (panel.first_treated == g)
        beside = controls
        if control_group == "not_yet_treated":
            later = d.treated & (panel.first_treated > g)
            waiting = obs[later] & (panel.first_treated[later, None] > np.arange(panel.n_times)[None, :])
            beside = controls | waiting.any(axis=0)
        both = obs[cohort].any(axis=0) & beside
        pre.append(int(both[:g].sum()))
        post.append(int(both[g:].sum()))
    return pre, post


def _worst_treated_gap(panel: PanelData, d: Design) -> float:
    """Largest share of missing pre- or post-period cells of a treated site."""
    obs = panel.observed()
    worst = 0.0
    for u in np.flatnonzero(d.treated):
        g = int(panel.first_treated[u])
        pre, post = obs[u, :g], obs[u, g:]
        worst = max(worst, 1 - pre.mean() if pre.size else 1.0, 1 - post.mean() if post.size else 1.0)
    return float(worst)


def _idle(panel: PanelData, d: Design, *, before: bool) -> bool:
    """Some treated site going live inside the panel reports nothing before its go-live (`before`) or after it."""
    if not d.idle_treated.any():
        return False
    seen = panel.observed()[d.idle_treated]
    live = np.arange(panel.n_times)[None, :] >= panel.first_treated[d.idle_treated][:, None]
    return bool((~(seen & (~live if before else live)).any(axis=1)).any())


def usable_treated(panel: PanelData, d: Design) -> np.ndarray:
    """Bool (n_units,): treated sites whose cohort has enough pre- and post-periods."""
    ok = [
        c
        for c, pre, post in zip(d.cohorts, d.cohort_pre, d.cohort_post, strict=True)
        if pre >= d.min_pre and post >= d.min_post
    ]
    return np.asarray(d.treated & np.isin(panel.first_treated, ok))


def cohort_effects(
    y_wide: np.ndarray, units: np.ndarray, controls: np.ndarray, g: int, pre_start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-site effect paths for sites `units` of cohort g against `controls` (pre-mean base).

    τ_it = (y_it - mean_pre y_i) - (c_t - mean_pre c), c_t = mean_C (y_jt - mean_pre y_j) over the controls observed
    at t; the pre window [pre_start, g).
    Returns (τ for the units (n, T), placebo τ for the controls (N0, T) built the same way).
    """
    yc = y_wide[controls]
    with np.errstate(invalid="ignore"):
        base_c = nan_mean(yc[:, pre_start:g], axis=1)
        # the controls' path as the mean of their own deviations: a control missing a day must not move the
        # path by its level (as a plain mean of the observed ones did: a site's constant is not an effect)
        c_t = nan_mean(yc - base_c[:, None], axis=0) if yc.size else np.full(y_wide.shape[1], np.nan)
        c_pre = nan_mean(c_t[pre_start:g])
        base_u = nan_mean(y_wide[units][:, pre_start:g], axis=1)
        tau = (y_wide[units] - base_u[:, None]) - (c_t - c_pre)[None, :]
        placebo = (yc - base_c[:, None]) - (c_t - c_pre)[None, :]
    return tau, placebo


def constant_effect_counterfactual(
    panel: PanelData, treated: np.ndarray, att: float, ci_low: float, ci_high: float
) -> pl.DataFrame:
    """The treated sites' mean path with the counterfactual a constant effect implies (no control sites).

    When every site goes live there is no untreated series to draw a counterfactual from; the estimate's
    own model (the constant effect its randomization interval tests) gives one: each live site would have
    been `att` lower or higher, so the mean path moves by att times the share of sites live, and its band
    by the interval's ends. Summed over periods it is the effect times the live site-days, as the gains are.
    """
    y = panel.wide()[treated]
    live = np.arange(panel.n_times)[None, :] >= panel.first_treated[treated][:, None]
    seen = np.isfinite(y)
    with np.errstate(invalid="ignore"):
        observed = nan_mean(y, axis=0)
        share = np.sum(live & seen, axis=0) / np.maximum(seen.sum(axis=0), 1)
        band = [observed - end * share for end in (ci_high, ci_low)]
    finite = [np.where(np.isfinite(b), b, np.nan) for b in band]  # an open interval has no band
    return panel.time_frame(
        observed=observed, counterfactual=observed - att * share, ci_low=finite[0], ci_high=finite[1]
    )


def counterfactual_frame(
    panel: PanelData,
    treated: np.ndarray,
    controls: np.ndarray,
    alpha: float,
    few_treated: int,
) -> tuple[pl.DataFrame, np.ndarray]:
    """The treated sites' mean path with its DiD counterfactual (pre-mean base, per cohort).

    Returns the frame (time, observed, counterfactual, ci_low, ci_high) and τ (n_units, n_times), the
    per-site effect paths (NaN for non-treated sites). ci_* are pointwise: the counterfactual ± t·se_t,
    se_t² = s²_T,t / N_T,t + s²_C,t / N_C with s²_C,t the spread of the controls' placebo paths (and
    s²_T,t = s²_C,t when there are few treated sites).
    """
    y = panel.wide()
    tau = np.full_like(y, np.nan)
    placebo_acc = np.zeros((int(controls.sum()), panel.n_times))
    weight_acc = np.zeros(panel.n_times)
    for g in np.unique(panel.first_treated[treated]):
        units = treated & (panel.first_treated == g)
        t_g, p_g = cohort_effects(y, units, controls, int(g))
        tau[units] = t_g
        n_g = float(units.sum())
        placebo_acc += n_g * np.nan_to_num(p_g)
        weight_acc += n_g
    placebo = placebo_acc / np.maximum(weight_acc, 1.0)
    observed_t = np.where(np.isfinite(tau), y, np.nan)
    with np.errstate(invalid="ignore"):
        obs_mean = nan_mean(np.where(treated[:, None], observed_t, np.nan), axis=0)
        tau_mean = nan_mean(tau[treated], axis=0)
        n_t = np.sum(np.isfinite(tau[treated]), axis=0)
        n_c = int(controls.sum())
        s2_c = np.var(placebo, axis=0, ddof=1) if n_c >= 2 else np.full(panel.n_times, np.nan)
        s2_t = nan_var(tau[treated], axis=0, ddof=1) if treated.sum() > few_treated else s2_c
        se_t = np.sqrt(s2_t / np.maximum(n_t, 1) + s2_c / max(n_c, 1))
    dof = max(n_c - 1, 1)
    q = float(stats.t.ppf(1 - alpha / 2, dof))
    cf = obs_mean - tau_mean
    frame = panel.time_frame(
        observed=obs_mean,
        counterfactual=cf,
        ci_low=cf - q * se_t,
        ci_high=cf + q * se_t,
    )
    return frame, tau


def counterfactual_mean_post(panel: PanelData, treated: np.ndarray, att: float) -> float:
    """Mean counterfactual of the treated sites over their post-period: mean observed post - att."""
    post = panel.post & treated[panel.unit_idx]
    if not post.any() or not math.isfinite(att):
        return math.nan
    return float(panel.y[post].mean() - att)


def att_percent(att: float, cf_mean: float) -> float:
    """att in percent of the counterfactual mean's size (NaN when that mean is 0 or unknown): over a negative
    mean the sign stays the effect's (+5.5e9 once read as -18,060% beside an outlier)."""
    if not math.isfinite(att) or not math.isfinite(cf_mean) or abs(cf_mean) <= 1e-12:
        return math.nan
    return 100.0 * att / abs(cf_mean)


def minimum_detectable_effect(se: float, dof: float, alpha: float, power: float = 0.8) -> float:
    """MDE = (t_{1-α/2} + t_{power}) · se: the true effect found significant with probability `power`."""
    if not math.isfinite(se):
        return math.nan
    if math.isfinite(dof):
        return float((stats.t.ppf(1 - alpha / 2, dof) + stats.t.ppf(power, dof)) * se)
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se)


def pre_period_fit(counterfactual: pl.DataFrame | None, panel: PanelData, first_go_live: int) -> dict[str, float]:
    """RMSE of counterfactual vs observed before go-live, absolute and relative to the observed mean."""
    if counterfactual is None or counterfactual.height == 0 or first_go_live <= 0:
        return {}
    obs = counterfactual["observed"].to_numpy()[:first_go_live]
    cf = counterfactual["counterfactual"].to_numpy()[:first_go_live]
    ok = np.isfinite(obs) & np.isfinite(cf)
    if not ok.any():
        return {}
    rmse = float(np.sqrt(np.mean((obs[ok] - cf[ok]) ** 2)))
    mean = float(np.mean(obs[ok]))
    return {"pre_rmse": rmse, "pre_rmse_pct": 100.0 * rmse / abs(mean) if mean else math.nan}


Estimator = Callable[[PanelData, EstimationOptions], EffectResult]


def placebo_in_time(panel: PanelData, estimator: Estimator, opts: EstimationOptions, design: Design) -> dict[str, Any]:
    """The method on the pre-period only with a fake go-live at its middle (all treated sites at once).

    When every site goes live at staggered dates there is no untreated site to compare a common fake
    date with, so the design is kept instead: each site's go-live moves to the same fraction of the
    pre-period as its real go-live is of the whole panel (the cohorts stay in order and apart).
    """
    n_pre = design.n_pre
    fake = n_pre // 2
    if fake < 1 or n_pre - fake < 1:
        return {"status": "insufficient_data", "reason": "insufficient_pre_periods"}
    rows = panel.time_idx < n_pre
    sub = _restrict_periods(panel, rows, n_pre)
    if design.staggered and not design.never.any():
        scaled = (panel.first_treated * n_pre) // panel.n_times
        fakes = np.where(design.treated, np.clip(scaled, 1, n_pre - 1), -1)
        sub = sub.with_first_treated(fakes)
        fake = int(fakes[design.treated].min())
    else:
        # every treated site gets the fake go-live; everyone else is untreated within the pre-period
        sub = sub.with_first_treated(np.where(design.treated, fake, -1))
    # Only the sites the estimate itself compares: a site live from the first period, a control idle on one
    # side of go-live or (comparing with never-treated sites) one going live after the panel would otherwise
    # turn into a never-treated control here, and adding such a site to a pilot changed its placebo.
    compared = design.treated | design.never
    if opts.control_group == "not_yet_treated":
        compared = compared | design.late
    if not compared.all():
        sub = sub.subset_units(compared)
    inner = opts.with_(diagnostics=False, robustness=False, detail=False, min_pre_periods=1, min_post_periods=1)
    res = estimator(sub, inner)
    out: dict[str, Any] = {
        "status": res.status,
        "fake_go_live": _label(panel, fake),
        "att": res.att,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "p_value": res.p_value,
    }
    if res.reason:
        out["reason"] = res.reason
    return out


def _restrict_periods(panel: PanelData, rows: np.ndarray, n_times: int) -> PanelData:
    # `replace` keeps every other field, the stated frequency too: the placebo reads the periods as the estimate did
    return replace(
        panel,
        unit_idx=panel.unit_idx[rows],
        time_idx=panel.time_idx[rows],
        y=panel.y[rows],
        time_labels=panel.time_labels[:n_times],
        time_ordinal=panel.time_ordinal[:n_times],
    )


def _label(panel: PanelData, idx: int) -> str:
    return str(panel.time_labels[idx])


def leave_one_out_controls(
    panel: PanelData, estimator: Estimator, opts: EstimationOptions, design: Design, att: float
) -> dict[str, Any]:
    """The estimate with each control site left out (all if ≤ 20 controls, else 20 drawn with the seed)."""
    controls = np.flatnonzero(design.never)
    if controls.size < 2:
        return {"status": "insufficient_data", "reason": "no_controls"}
    if controls.size > MAX_LOO:
        rng = np.random.default_rng([opts.seed, 7])
        controls = np.sort(rng.choice(controls, size=MAX_LOO, replace=False))
    inner = opts.with_(diagnostics=False, robustness=False, detail=False)
    estimates = []
    for u in controls:
        keep = np.ones(panel.n_units, bool)
        keep[u] = False
        res = estimator(panel.subset_units(keep), inner)
        estimates.append(res.att if res.ok else math.nan)
    vals = np.asarray(estimates)
    if not np.isfinite(vals).any():  # there are controls, but the design stands on each one of them
        return {"status": "insufficient_data", "reason": "no_estimate_without_each_control"}
    # the first of the sites whose change is the largest up to rounding: with two controls the two changes are
    # equal and opposite, and rounding alone picked one or the other when the outcome was rescaled
    change = np.abs(vals - att)
    largest = float(np.nanmax(change))
    worst = int(np.flatnonzero(change >= largest * (1.0 - 1e-9))[0])
    return {
        "status": "ok",
        "n_left_out": int(controls.size),
        "att_min": float(np.nanmin(vals)),
        "att_max": float(np.nanmax(vals)),
        "most_influential_site": str(panel.unit_labels[controls[worst]]),
        "max_change": float(vals[worst] - att),
    }
