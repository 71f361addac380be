"""The options of the estimation API as Literal aliases, checked once at the boundary."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

import numpy as np

Method = Literal["did", "staggered_did", "synthetic_control", "its"]
MethodChoice = Literal["auto", "did", "staggered_did", "synthetic_control", "its"]
ControlGroup = Literal["never_treated", "not_yet_treated"]
Status = Literal["ok", "insufficient_data", "error"]
# A metric's frequency as the registry states it (PRODUCT.md); the warehouse labels each period by its first day.
Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]

METHODS: tuple[str, ...] = get_args(Method)
METHOD_CHOICES: tuple[str, ...] = get_args(MethodChoice)
CONTROL_GROUPS: tuple[str, ...] = get_args(ControlGroup)
FREQUENCIES: tuple[str, ...] = get_args(Frequency)


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of `allowed`, else a ValueError that lists the allowed values."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of: {', '.join(allowed)}")
    return str(value)


def check_frequency(value: object) -> str | None:
    """`value` when it is None (read the frequency from the dates) or one of `FREQUENCIES`, else a ValueError
    that lists them."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in FREQUENCIES:
        raise ValueError(
            f"frequency={value!r} is not allowed; choose one of: {', '.join(FREQUENCIES)}, "
            "or None to read it from the spacing of the dates"
        )
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
        return cls(**kwargs).checked()

    def checked(self) -> EstimationOptions:
        """These options with each value checked (a ValueError names the option and what is allowed) and
        numbers normalised to plain Python ints, floats and bools (numpy scalars are accepted)."""
        check_choice("control_group", self.control_group, CONTROL_GROUPS)
        check_choice("inference", self.inference, INFERENCES)
        check_choice("base_period", self.base_period, BASE_PERIODS)
        changes: dict[str, Any] = {
            "alpha": _real("alpha", self.alpha, "a number between 0 and 0.5 (exclusive)", lambda x: 0.0 < x < 0.5),
            "max_gap_share": _real("max_gap_share", self.max_gap_share, "a number in [0, 1)", lambda x: 0.0 <= x < 1.0),
            "seed": whole_number("seed", self.seed, 0),
            "few_treated": whole_number("few_treated", self.few_treated, 0),
            "n_boot": whole_number("n_boot", self.n_boot, 99),
        }
        for name in ("min_pre_periods", "min_post_periods", "event_bin"):
            value = getattr(self, name)
            changes[name] = None if value is None else whole_number(name, value, 1, "or None (the default)")
        for name in ("diagnostics", "robustness", "detail"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name}={value!r} is not allowed; give True or False")
            changes[name] = bool(value)
        return replace(self, **changes)

    def with_(self, **changes: Any) -> EstimationOptions:
        """A copy with some options changed."""
        return replace(self, **changes)


def _real(name: str, value: object, allowed: str, ok: Callable[[float], bool]) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not ok(float(value)):
        raise ValueError(f"{name}={value!r} is not allowed; give {allowed}")
    return float(value)


def whole_number(name: str, value: object, low: int, more: str = "", high: int | None = None) -> int:
    """`value` as a plain int when it is a whole number (not a bool) in [low, high]; else a ValueError that
    names the option and what is allowed."""
    whole = not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral)
    if not whole or int(value) < low or (high is not None and int(value) > high):  # type: ignore[call-overload]
        allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name}={value!r} is not allowed; give a whole number {allowed} {more}".rstrip())
    return int(value)  # type: ignore[call-overload]
