"""The options of the estimation API as Literal aliases, checked once at the boundary."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

Method = Literal["did", "staggered_did", "synthetic_control", "its"]
MethodChoice = Literal["auto", "did", "staggered_did", "synthetic_control", "its"]
ControlGroup = Literal["never_treated", "not_yet_treated"]
Status = Literal["ok", "insufficient_data", "error"]

METHODS: tuple[str, ...] = get_args(Method)
METHOD_CHOICES: tuple[str, ...] = get_args(MethodChoice)
CONTROL_GROUPS: tuple[str, ...] = get_args(ControlGroup)


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of `allowed`, else a ValueError that lists the allowed values."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of: {', '.join(allowed)}")
    return str(value)


Inference = Literal[
    "auto", "placebo_variance", "wild_cluster_bootstrap", "cluster", "influence_function", "hac", "randomization"
]
BasePeriod = Literal["pre_mean", "varying", "universal"]
INFERENCES: tuple[str, ...] = get_args(Inference)
BASE_PERIODS: tuple[str, ...] = get_args(BasePeriod)


DEFAULT_SEED = 20_240_601


@dataclass(frozen=True, slots=True)
class EstimationOptions:
    """Settings shared by every method; defaults are the product's. Checked once in `estimate_effect`.

    - `alpha`: 1 - confidence level of intervals and the test level (0.05 → 95% intervals).
    - `seed`: seeds every random draw (bootstrap, permutations) through numpy.random.default_rng.
    - `control_group`: never-treated sites only, or also sites not yet live (staggered designs).
    - `inference`: "auto" chooses by the design (see `inference.choose_inference`); "randomization"
      (staggered designs) reassigns the go-live dates among the sites (`randomization`), what "auto"
      takes when every site goes live.
    - `few_treated`: at or below this many treated sites, intervals come from the control sites'
      placebo variance (cluster-robust errors with so few treated clusters are far too small).
    - `n_boot`: draws of the wild cluster and multiplier bootstraps.
    - `min_pre_periods` / `min_post_periods`: data sufficiency; None picks by frequency (daily 28/7,
      weekly 8/2, monthly 6/1, otherwise 2/1).
    - `max_gap_share`: largest share of missing site-period cells (treated and controls, over the
      estimation window) before the result is `insufficient_data` / `too_many_gaps`.
    - `event_bin`: event-study bin width in periods; None picks (1, or whole weeks for daily data).
    - `base_period`: staggered designs: "pre_mean" compares with the mean over the whole pre-period
      (the product default: a single base day is too noisy for daily data); "varying" and "universal"
      are R `did`'s choices (one base period).
    - `diagnostics` / `robustness`: run the placebo, leave-one-out and robustness methods (the API
      turns them off inside the diagnostics themselves).
    - `detail`: event study, counterfactual path and permutation p-value; off inside the leave-one-out
      and placebo re-estimations, which need only the estimate and its interval.
    """

    alpha: float = 0.05
    seed: int = DEFAULT_SEED
    control_group: ControlGroup = "never_treated"
    inference: Inference = "auto"
    few_treated: int = 5
    n_boot: int = 999
    min_pre_periods: int | None = None
    min_post_periods: int | None = None
    max_gap_share: float = 0.25
    event_bin: int | None = None
    base_period: BasePeriod = "pre_mean"
    diagnostics: bool = True
    robustness: bool = True
    detail: bool = True

    @classmethod
    def build(cls, **kwargs: Any) -> EstimationOptions:
        """Options from keyword arguments, each checked; unknown names raise TypeError listing the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        opts = cls(**kwargs)
        check_choice("control_group", opts.control_group, CONTROL_GROUPS)
        check_choice("inference", opts.inference, INFERENCES)
        check_choice("base_period", opts.base_period, BASE_PERIODS)
        if not 0.0 < float(opts.alpha) < 0.5:
            raise ValueError(f"alpha={opts.alpha!r} must be between 0 and 0.5")
        if int(opts.n_boot) < 99:
            raise ValueError(f"n_boot={opts.n_boot!r} must be at least 99")
        if not 0.0 <= float(opts.max_gap_share) < 1.0:
            raise ValueError(f"max_gap_share={opts.max_gap_share!r} must be in [0, 1)")
        return opts

    def with_(self, **changes: Any) -> EstimationOptions:
        """A copy with some options changed."""
        return replace(self, **changes)
