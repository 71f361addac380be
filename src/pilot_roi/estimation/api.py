"""`estimate_effect`: the public estimation API (PRODUCT.md, "Python estimation API").

The flow: validate options → `prepare_panel` (any polars/pandas long panel) → `describe_design` →
`choose_method` (for "auto") → the method from `METHODS` → diagnostics (placebo in time,
leave-one-out controls, MDE) → robustness methods beside the primary one. Methods are registered
in `METHODS` (name → function(panel, options) → EffectResult), never chosen by an if-chain.

Synthetic control and interrupted time series live in their own modules; they are imported lazily
inside the registry so the rest works without them (a missing module gives a result with
status "error" and reason "method_not_available").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from pilot_roi.estimation import limit_blas_threads
from pilot_roi.estimation.design import Design, MethodChoice, choose_method, describe_design
from pilot_roi.estimation.diagnostics import (
    leave_one_out_controls,
    minimum_detectable_effect,
    placebo_in_time,
    usable_treated,
)
from pilot_roi.estimation.did import estimate_did
from pilot_roi.estimation.options import (
    DEFAULT_SEED,
    METHOD_CHOICES,
    EstimationOptions,
    check_choice,
    check_frequency,
)
from pilot_roi.estimation.panel import PanelData, prepare_panel
from pilot_roi.estimation.result import EffectResult, insufficient
from pilot_roi.estimation.staggered import estimate_staggered_did

MethodFn = Callable[[PanelData, EstimationOptions], EffectResult]

limit_blas_threads()

# Options the external methods (synthetic control, ITS) understand from the shared set.
_SHARED_FOR_EXTERNAL = ("control_group",)


def _not_available(method: str, exc: Exception) -> EffectResult:
    return EffectResult(
        method=method,
        status="error",
        reason="method_not_available",
        diagnostics={"error": f"{type(exc).__name__}: {exc}"},
    )


def _external(method: str, module: str, function: str) -> MethodFn:
    """A registry entry for a method in another module, imported on first use."""

    def run(panel: PanelData, opts: EstimationOptions, **method_options: Any) -> EffectResult:
        try:
            mod = __import__(f"pilot_roi.estimation.{module}", fromlist=[function])
            fn = getattr(mod, function)
        except ImportError as exc:  # only the import may fail softly: the module is not there yet
            return _not_available(method, exc)
        except AttributeError as exc:
            return _not_available(method, exc)
        params = inspect.signature(fn).parameters
        kwargs: dict[str, Any] = {"seed": opts.seed, "alpha": opts.alpha}
        for name in _SHARED_FOR_EXTERNAL:
            kwargs[name] = getattr(opts, name)
        kwargs.update(method_options)
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        if not accepts_any:
            kwargs = {k: v for k, v in kwargs.items() if k in params}
        result: EffectResult = fn(panel, **kwargs)
        return result

    run.__name__ = f"estimate_{method}"
    return run


def _own(fn: Callable[..., EffectResult]) -> MethodFn:
    def run(panel: PanelData, opts: EstimationOptions, **method_options: Any) -> EffectResult:
        return fn(panel, opts, **method_options)

    run.__name__ = fn.__name__
    return run


METHODS: dict[str, MethodFn] = {
    "did": _own(estimate_did),
    "staggered_did": _own(estimate_staggered_did),
    "synthetic_control": _external("synthetic_control", "synthetic_control", "estimate_synthetic_control"),
    "its": _external("its", "its", "estimate_its"),
}
# Methods whose `method_options` are `EstimationOptions` overrides (the external ones check their own).
_TAKES_ESTIMATION_OPTIONS = ("did", "staggered_did")


def run_method(
    method: str, panel: PanelData, opts: EstimationOptions, method_options: dict[str, Any] | None = None
) -> EffectResult:
    """One registered method on a prepared panel (no diagnostics, no robustness).

    An estimate whose uncertainty degenerated (an effect that is not finite, a standard error of zero or
    infinity, an interval of zero width) becomes `insufficient_data` with reason "degenerate_fit": a constant
    outcome, or a treated series fitted without residuals, gives an interval of zero width that would claim
    certainty.
    """
    check_choice("method", method, tuple(METHODS))
    result = METHODS[method](panel, opts, **(method_options or {}))
    if result.ok and not _credible_uncertainty(result):
        fit = {"att": result.att, "se": result.se}
        readable = {k: (v if math.isfinite(v) else None) for k, v in fit.items()}  # JSON has no inf or NaN
        return insufficient(method, "degenerate_fit", **{**result.diagnostics, "degenerate": readable})
    return result


def _credible_uncertainty(result: EffectResult) -> bool:
    """A finite effect with a positive, finite standard error and an interval of positive width. An interval
    may be unbounded on one side (randomization inference that cannot reject large effects says so honestly),
    never unknown: a wild bootstrap forced onto one treated and one control site gave NaN bounds."""
    if not (math.isfinite(result.att) and 0.0 < result.se < math.inf):
        return False
    if math.isnan(result.ci_low) or math.isnan(result.ci_high):
        return False
    return not (math.isfinite(result.ci_low) and math.isfinite(result.ci_high) and result.ci_high <= result.ci_low)


def estimate_panel(
    panel: PanelData,
    method: str = "auto",
    opts: EstimationOptions | None = None,
    method_options: dict[str, dict[str, Any]] | None = None,
) -> EffectResult:
    """`estimate_effect` on an already prepared `PanelData` (simulations, the runner)."""
    opts = opts or EstimationOptions()
    check_choice("method", method, METHOD_CHOICES)
    method_options = method_options or {}
    design = describe_design(panel, opts)
    if method == "auto":
        choice = choose_method(design, opts)
    else:
        choice = MethodChoice(method, (), f"method {method.replace('_', ' ')} chosen by the caller")
    opts = opts.with_(**choice.options) if choice.options else opts  # the design's control group and inference
    primary = run_method(choice.primary, panel, opts, method_options.get(choice.primary))
    diagnostics = dict(primary.diagnostics)
    diagnostics["outcome"] = panel.outcome
    diagnostics["alpha"] = opts.alpha
    diagnostics["seed"] = opts.seed
    if choice.facts:
        diagnostics["method_choice"] = choice.facts
    diagnostics["design"] = {
        "frequency": design.frequency,
        "n_treated": design.n_treated,
        "n_never_treated": design.n_never,
        "n_cohorts": len(design.cohorts),
        "staggered": design.staggered,
        "n_pre_periods": design.n_pre,
        "n_post_periods": design.n_post,
        "gap_share": round(design.gap_share, 4),
        "missing_periods": design.missing_periods,
        # rows whose outcome was null, NaN or ±inf: left out as gaps; the result says how many
        "n_missing_outcome": panel.n_missing_outcome,
        # live from the first period (no pre-period) or after the last: neither treated nor control here
        "excluded_always_treated": [str(panel.unit_labels[i]) for i in np.flatnonzero(design.always_treated)],
        "excluded_late": [str(panel.unit_labels[i]) for i in np.flatnonzero(design.late)],
        "excluded_idle_controls": [str(panel.unit_labels[i]) for i in np.flatnonzero(design.idle_controls)],
        # treated sites that report on one side of their go-live only: nothing of their own to compare
        "excluded_idle_treated": [str(panel.unit_labels[i]) for i in np.flatnonzero(design.idle_treated)],
    }
    if design.frequency_stated:  # absent: read from the labels' spacing, as every estimate before the keyword
        diagnostics["design"]["frequency_source"] = "stated"
    if primary.ok:
        diagnostics["design"]["first_go_live_used"] = _first_go_live_used(panel, design, primary, choice.primary)
    if opts.diagnostics and primary.ok:
        diagnostics.update(_diagnostics(panel, choice.primary, primary, opts, method_options))
    robustness: list[EffectResult] = []
    if opts.robustness and method == "auto":
        inner = opts.with_(diagnostics=False, robustness=False, detail=False)
        for name in choice.robustness:
            robustness.append(_isolated(name, panel, inner, method_options.get(name)))
    if not primary.ok:  # no estimate: the design's own counts, not zeros that read as "no sites at all"
        primary = dataclasses.replace(
            primary,
            n_treated=design.n_treated,
            n_controls=design.n_controls(opts.control_group),
            n_pre_periods=design.n_pre,
            n_post_periods=design.n_post,
        )
    return dataclasses.replace(
        primary, method_reason=choice.reason, diagnostics=diagnostics, robustness=tuple(robustness)
    )


def _first_go_live_used(panel: PanelData, design: Design, primary: EffectResult, method: str) -> Any:
    """The earliest go-live (a time label) among the treated sites the estimate used, None if it used none.

    Realized gain counts the gap from this period on: a treated site left out (live from the first period, no
    data on one side of its go-live, or excluded by the method) must not start it earlier, or the months
    before a later site's go-live would count as gain.
    """
    used = design.treated.copy()
    if method == "staggered_did":
        used &= usable_treated(panel, design)
    excluded = primary.diagnostics.get("excluded_treated") or {}
    used &= np.array([str(label) not in excluded for label in panel.unit_labels], dtype=bool)
    observed = panel.observed()
    for i in np.flatnonzero(used):
        g = int(panel.first_treated[i])
        used[i] = bool(observed[i, :g].any() and observed[i, g:].any())
    if not used.any():
        return None
    label = panel.time_labels[int(panel.first_treated[used].min())]
    return label.item() if isinstance(label, np.generic) else label  # a date or an int, not a numpy scalar


def _isolated(
    name: str, panel: PanelData, opts: EstimationOptions, method_options: dict[str, Any] | None
) -> EffectResult:
    """A robustness method whose failure becomes a result with status "error" (the primary still stands)."""
    try:
        return run_method(name, panel, opts, method_options)
    except Exception as exc:  # a robustness check must never take the primary estimate down with it
        return EffectResult(
            method=name, status="error", reason="method_failed", diagnostics={"error": f"{type(exc).__name__}: {exc}"}
        )


def _diagnostics(
    panel: PanelData,
    method: str,
    primary: EffectResult,
    opts: EstimationOptions,
    method_options: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    design = describe_design(panel, opts)

    def estimator(p: PanelData, o: EstimationOptions) -> EffectResult:
        return run_method(method, p, o, method_options.get(method))

    out: dict[str, Any] = {}
    out["placebo_in_time"] = _safe(lambda: placebo_in_time(panel, estimator, opts, design))
    if method != "its":
        out["leave_one_out"] = _safe(lambda: leave_one_out_controls(panel, estimator, opts, design, primary.att))
    dof = primary.diagnostics.get("inference_dof", math.inf)
    mde = primary.mde if primary.mde is not None else minimum_detectable_effect(primary.se, dof, opts.alpha)
    cf_mean = primary.diagnostics.get("counterfactual_mean_post")
    out["mde"] = mde
    if cf_mean and math.isfinite(mde):
        out["mde_pct"] = 100.0 * mde / abs(cf_mean)
    return out


def _safe(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return fn()
    except Exception as exc:  # a diagnostic that cannot run says why; the estimate still stands
        return {"status": "error", "reason": "diagnostic_failed", "error": f"{type(exc).__name__}: {exc}"}


def _checked_method_options(
    method_options: Mapping[str, Mapping[str, Any]] | None, opts: EstimationOptions
) -> dict[str, dict[str, Any]]:
    """`method_options` as a dict of dicts, with every method name known and the overrides of the methods
    that take `EstimationOptions` checked like the options themselves (a typo is refused, not ignored)."""
    if method_options is None:
        return {}
    if not isinstance(method_options, Mapping):
        raise ValueError(
            "method_options must map a method name to a dict of its options, e.g. "
            f"{{'its': {{'model': 'segmented'}}}}; got {type(method_options).__name__}"
        )
    known = tuple(f.name for f in dataclasses.fields(EstimationOptions))
    out: dict[str, dict[str, Any]] = {}
    for name, extra in method_options.items():
        check_choice("method_options key", name, tuple(METHODS))
        if not isinstance(extra, Mapping):
            raise ValueError(f"method_options[{name!r}] must be a dict of options; got {type(extra).__name__}")
        if name in _TAKES_ESTIMATION_OPTIONS:
            unknown = sorted(set(extra) - set(known))
            if unknown:
                raise ValueError(
                    f"unknown {name} option(s) {', '.join(map(str, unknown))}; allowed: {', '.join(known)}"
                )
            opts.with_(**extra).checked()
        out[name] = dict(extra)
    return out


def estimate_effect(
    panel: Any,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    method: str = "auto",
    control_group: str = "never_treated",
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    *,
    never_treated_value: int | float | str | dt.date | None = None,
    method_options: dict[str, dict[str, Any]] | None = None,
    frequency: str | None = None,
    **options: Any,
) -> EffectResult:
    """The effect of a go-live on an outcome, from a long panel (polars or pandas).

    - `panel`: one row per unit and period; `time` is a date or an integer; `first_treated` is the
      unit's go-live (null for never-treated units; `never_treated_value`, e.g. 0, also means never).
    - `method`: "auto" (chosen from the design, stated in `res.method_reason`; the other applicable
      methods run as robustness checks in `res.robustness`), "did", "staggered_did",
      "synthetic_control" or "its".
    - `control_group`: "never_treated" or "not_yet_treated" (staggered designs).
    - `seed`, `alpha`: every random draw is seeded; intervals are (1 - alpha) two-sided.
    - `options`: further `EstimationOptions` (inference, few_treated, n_boot, min_pre_periods,
      min_post_periods, max_gap_share, event_bin, base_period, diagnostics, robustness).
    - `method_options`: per-method extra options, e.g. {"its": {"model": "segmented"}}.
    - `frequency`: the outcome's frequency when it is known ("daily", "weekly", "monthly", "quarterly" or
      "yearly", as the registry states a metric's), used wherever the frequency matters: which period a
      go-live first treats ("daily": the first period on or after the go-live day; the others: the period
      that holds it), the data-sufficiency thresholds, the calendar grid behind the gap share, the ITS
      seasonal cycles and the words of `res.method_reason` (`res.diagnostics["design"]["frequency_source"]`
      is then "stated"). Dates are then required, each the first day of its period as the warehouse
      stores them (a Monday for weeks, the 1st for months, quarters and years); a panel that contradicts
      the frequency is refused (`InvalidPanel`), never estimated with another. None (the default) reads the
      frequency from the spacing of the dates, as before: a daily metric reported only on Mondays then
      reads as weekly.

    Returns an `EffectResult` (see `pilot_roi.estimation.result`): `att` is the average effect on the
    treated sites over the post-period in the outcome's units; `att_pct` is relative to the treated
    sites' counterfactual mean over the post-period. A design that cannot support an estimate returns
    `status="insufficient_data"` with a reason code, never a number. Raises `InvalidInput` for
    unusable input (missing columns, duplicate rows, times that contradict `frequency`; `InvalidPanel`, also a
    ValueError), ValueError for an option value, `frequency` or `method_options` that is not allowed, and
    TypeError for an unknown option name.
    """
    check_choice("method", method, METHOD_CHOICES)
    frequency = check_frequency(frequency)
    opts = EstimationOptions.build(control_group=control_group, seed=seed, alpha=alpha, **options)
    method_options = _checked_method_options(method_options, opts)
    prepared = prepare_panel(
        panel, unit, time, outcome, first_treated, never_treated_value=never_treated_value, frequency=frequency
    )
    return estimate_panel(prepared, method, opts, method_options)
