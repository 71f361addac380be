"""The values a portfolio run passes around: what to estimate, the estimation part of a result, options."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

import polars as pl

from pilot_roi.economics import EconomicsParams, MetricValue, PilotCosts
from pilot_roi.estimation.options import CONTROL_GROUPS, METHOD_CHOICES, check_choice
from pilot_roi.grading import ALPHA

Contamination = Literal["any_pilot", "same_metric"]
CONTAMINATION: tuple[str, ...] = get_args(Contamination)

ROBUSTNESS_SCHEMA: dict[str, Any] = {
    "method": pl.String,
    "is_primary": pl.Boolean,
    "status": pl.String,
    "reason": pl.String,
    "effect": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "effect_pct": pl.Float64,
}
COUNTERFACTUAL_SCHEMA: dict[str, Any] = {
    "period": pl.Date,
    "observed": pl.Float64,
    "counterfactual": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}
EVENT_STUDY_SCHEMA: dict[str, Any] = {
    "event_time": pl.Int32,
    "att": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Parameters of one portfolio run; all but `pilot`, `workers` and `started_by` are recorded with the run.

    `pilot`: re-examine only this pilot's metrics; the rest of the portfolio is carried forward from the
    last finished run (a run always names the complete portfolio). `workers`: processes for estimation
    (1 = in this process); a pool is used only when at least `parallel_min_jobs` pilot-metrics need it.
    `contamination`: which other pilots disqualify a would-be control site: "any_pilot" (default: any
    other pilot treating it in the window) or "same_metric" (only one measured on the same metric).
    `force`: estimate every pilot-metric again even where its inputs did not change. `as_of`: the day the run
    takes as today (None: today in the product's zone, `clock.today`); a sum-aggregated metric's values for periods
    that have not ended by then are left out of its estimate (`read.split_open_periods`).
    """

    seed: int = 20250811
    discount_rate: float = 0.15
    horizon_years: int = 5
    n_draws: int = 20_000
    alpha: float = ALPHA
    method: str = "auto"
    control_group: str = "never_treated"
    contamination: str = "any_pilot"
    pilot: str | None = None
    workers: int = 2
    parallel_min_jobs: int = 8
    started_by: str = "cli"
    force: bool = False
    as_of: date | None = None

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHOD_CHOICES)
        check_choice("control_group", self.control_group, CONTROL_GROUPS)
        check_choice("contamination", self.contamination, CONTAMINATION)
        if self.workers < 1:
            raise ValueError(f"workers={self.workers!r} must be at least 1")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha={self.alpha!r} must lie strictly between 0 and 1")
        self.economics(self.seed)  # checks the discount rate, horizon and draws

    def parameters(self) -> dict[str, Any]:
        """What the run records in `estimate_runs.parameters` (JSON)."""
        return {
            "seed": self.seed,
            "discount_rate": self.discount_rate,
            "horizon_years": self.horizon_years,
            "n_draws": self.n_draws,
            "alpha": self.alpha,
            "method": self.method,
            "control_group": self.control_group,
            "contamination": self.contamination,
            "pilot": self.pilot,
            "force": self.force,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
        }

    def economics(self, seed: int) -> EconomicsParams:
        """Economics parameters with a pilot-metric's own seed."""
        return EconomicsParams(
            discount_rate=self.discount_rate, horizon_years=self.horizon_years, n_draws=self.n_draws, seed=seed
        )


@dataclass(frozen=True, slots=True)
class PilotMetric:
    """One pilot-metric of the portfolio with its pilot's costs and its metric's definition (None if unknown)."""

    pilot_code: str
    metric_code: str
    subsidiary_code: str
    capex_kzt: float
    opex_kzt_per_year: float
    frequency: str | None
    aggregation: str | None
    higher_is_better: bool | None
    value_kzt_per_unit: float | None
    min_value: float | None
    max_value: float | None
    first_go_live: date | None
    n_listed_controls: int

    @property
    def key(self) -> tuple[str, str]:
        """(pilot_code, metric_code)."""
        return (self.pilot_code, self.metric_code)

    @property
    def metric_value(self) -> MetricValue | None:
        """The metric's tenge value and direction, or None when the metric is not in the registry."""
        if self.frequency is None or self.value_kzt_per_unit is None or self.higher_is_better is None:
            return None
        return MetricValue(float(self.value_kzt_per_unit), bool(self.higher_is_better), self.frequency)

    @property
    def costs(self) -> PilotCosts:
        """The pilot's capex and opex per year (KZT)."""
        return PilotCosts(float(self.capex_kzt), float(self.opex_kzt_per_year))


@dataclass(frozen=True, slots=True)
class SiteRoles:
    """The sites of a pilot-metric panel: treated with go-live, controls, and controls excluded (by whom)."""

    treated: tuple[tuple[str, date], ...]
    controls: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]
    treated_touched_by: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RunSites:
    """The sites one pilot-metric was estimated with, as a run records them beside its result (migration 0010).

    `treated`: (site_code, go_live) by site code, narrowed by the runner to those the estimate reports it estimated
    (`run.used_sites`: not one left out for too little history, too many gaps or no post period); `controls`: the
    control sites left after excluding those another pilot touches (`of`), narrowed by the runner to those the
    estimate reports it used, by code (`run.used_sites`: none for an interrupted time series); `control_rule`:
    "listed" (the pilot names its controls) or "subsidiary_never_treated" (default): how the offered ones were chosen.
    """

    treated: tuple[tuple[str, date], ...]
    controls: tuple[str, ...]
    control_rule: str

    @classmethod
    def of(cls, roles: SiteRoles, n_listed_controls: int) -> RunSites:
        """The sites of `roles`, with the rule the controls were chosen by."""
        rule = "listed" if n_listed_controls else "subsidiary_never_treated"
        return cls(tuple(roles.treated), tuple(roles.controls), rule)


@dataclass(frozen=True, slots=True)
class EstimateJob:
    """Everything a worker needs to estimate one pilot-metric (picklable).

    `panel`: polars frame site_code (str), period (date), value (float), go_live (date, null for controls).
    `frequency`: the registry metric's ("daily" ... "yearly"): the estimator reads the periods by it, not by the
    spacing of the dates reported (a daily metric reported only on Mondays is not weekly); None: guessed.
    """

    pilot_code: str
    metric_code: str
    inputs_hash: str
    panel: pl.DataFrame
    seed: int
    method: str
    control_group: str
    context: dict[str, Any] = field(default_factory=dict)
    sites: RunSites | None = None  # recorded with the result; the estimator reads the panel, not this
    frequency: str | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    """The estimation part of one stored result (no q-value, grade or money: those are portfolio-level).

    Numbers as in `EffectResult`: effect, se and CI in metric units per treated site and period,
    `effect_pct` in percent of the counterfactual mean. Frames use the schemas of this module; when
    `frames_from_run` is set the frames are carried forward from that run in SQL and `robustness` and
    `event_study` are None here (the counterfactual is still loaded, for the realized gain). `sites`: the sites the
    estimate was made with (None: not known, a result carried forward from a run that did not record them).
    """

    pilot_code: str
    metric_code: str
    inputs_hash: str
    status: str
    reason: str | None = None
    method: str | None = None
    method_reason: str | None = None
    effect: float = math.nan
    se: float = math.nan
    effect_pct: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan
    pre_trend_p: float | None = None
    mde: float | None = None
    n_treated: int = 0
    n_controls: int = 0
    n_pre_periods: int = 0
    n_post_periods: int = 0
    diagnostics: dict[str, Any] = field(default_factory=dict)
    summary: str | None = None
    reused_from_run: int | None = None
    frames_from_run: int | None = None
    robustness: pl.DataFrame | None = None
    counterfactual: pl.DataFrame | None = None
    event_study: pl.DataFrame | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    sites: RunSites | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(pilot_code, metric_code)."""
        return (self.pilot_code, self.metric_code)


def derive_seed(seed: int, *parts: str) -> int:
    """A per-item seed from the run's seed and names: independent of order and of the process that uses it."""
    digest = hashlib.sha256("\x1f".join((str(seed), *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") >> 1
