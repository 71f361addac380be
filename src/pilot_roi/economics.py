"""Effect → tenge: annual gain, NPV, ROI and payback with intervals, and the realized gain to date.

Pure functions over numbers and frozen dataclasses; nothing here reads the warehouse.

Conventions (PRODUCT.md, "Economics"), stated once:

- **Sign.** Every amount is signed so that a *beneficial* change is positive: for a metric with
  `higher_is_better=False` (energy use, downtime) a fall of the metric is a gain.
- **Annual gain (KZT/year)** = effect per treated site and period × `value_kzt_per_unit` × periods per
  year (by the metric's frequency: daily 365, weekly 365/7, monthly 12, quarterly 4, yearly 1) ×
  number of treated sites.
- **NPV (KZT)** over `horizon_years` at `discount_rate`: the net annual cash flow (annual gain − opex)
  arrives at the end of each year 1..H and is discounted; capex is paid at time 0.
  NPV = (gain − opex) × A(r, H) − capex, with the annuity factor A(r, H) = Σ_{y=1..H} (1 + r)^−y.
- **Total cost (KZT)** = capex + opex × A(r, H) (the present value of what the pilot costs).
- **ROI** = NPV / total cost (a ratio: 0.5 means the pilot returns its present cost plus 50%);
  undefined (NaN) when the total cost is zero.
- **Payback (months)** = simple, undiscounted: capex / ((gain − opex) / 12); 0 when there is no
  capex and the net flow is positive; +inf ("never") when the net annual flow is not positive.
- **Intervals** come from the effect's sampling distribution, not from the point estimate alone:
  `n_draws` seeded draws of the effect from a two-piece normal centred on the estimate whose lower
  and upper halves are scaled to reproduce the reported 95% CI (a symmetric CI gives a plain normal;
  without a CI the standard error is used). Each draw goes through the same formulas; an interval is
  the 2.5th and 97.5th percentile of the results (payback by the inverted-CDF percentile, which stays
  defined when some draws never pay back). Monte Carlo error with 20,000 draws is about 1% of the
  interval's width in the tails.
- **Per pilot-metric**: the costs are the whole pilot's, so a pilot measured on two metrics shows each
  metric's NPV as if it alone had to pay for the pilot. Add gains across metrics before subtracting the
  costs once (`pilot_npv_kzt`) when a pilot-level figure is wanted.
- **Realized gain to date (KZT)** = Σ over post-go-live periods of (observed − counterfactual) for the
  mean treated site × number of treated sites × `value_kzt_per_unit`, signed as above.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

import numpy as np

Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

DAYS_PER_YEAR = 365.0
PERIODS_PER_YEAR: dict[str, float] = {
    "daily": DAYS_PER_YEAR,
    "weekly": DAYS_PER_YEAR / 7.0,
    "monthly": 12.0,
    "quarterly": 4.0,
    "yearly": 1.0,
}
_Z975 = 1.959963984540054  # standard normal 97.5th percentile


@dataclass(frozen=True, slots=True)
class EconomicsParams:
    """How effects are turned into money: discount rate (per year), horizon (years), interval draws and seed."""

    discount_rate: float = 0.15
    horizon_years: int = 5
    n_draws: int = 20_000
    seed: int = 20250811
    ci_level: float = 0.95

    def __post_init__(self) -> None:
        if not (math.isfinite(self.discount_rate) and self.discount_rate > -1.0):
            raise ValueError(f"discount_rate={self.discount_rate!r} must be a finite number above -1")
        if int(self.horizon_years) != self.horizon_years or self.horizon_years < 1:
            raise ValueError(f"horizon_years={self.horizon_years!r} must be a whole number of years ≥ 1")
        if self.n_draws < 100:
            raise ValueError(f"n_draws={self.n_draws!r} must be at least 100")
        if not 0.0 < self.ci_level < 1.0:
            raise ValueError(f"ci_level={self.ci_level!r} must lie strictly between 0 and 1")


@dataclass(frozen=True, slots=True)
class MetricValue:
    """What one unit of a metric is worth: KZT per unit, its direction and its frequency."""

    value_kzt_per_unit: float
    higher_is_better: bool
    frequency: str

    def __post_init__(self) -> None:
        if self.frequency not in PERIODS_PER_YEAR:
            raise ValueError(f"frequency={self.frequency!r} is not allowed; choose one of: {', '.join(FREQUENCIES)}")


@dataclass(frozen=True, slots=True)
class PilotCosts:
    """A pilot's costs in KZT: one-off capex at go-live and opex per year."""

    capex_kzt: float
    opex_kzt_per_year: float


@dataclass(frozen=True, slots=True)
class EffectEstimate:
    """An effect (metric units per treated site and period) with its uncertainty, as the estimator gave it."""

    effect: float
    se: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan


@dataclass(frozen=True, slots=True)
class Economics:
    """The money view of one pilot-metric. All amounts in KZT (signed: a gain is positive).

    `annual_gain_*` KZT/year; `npv_*` and `total_cost_kzt` KZT at present value; `roi_*` a ratio;
    `payback_*` months (inf = never pays back); `realized_gain_kzt` KZT to date (NaN when unknown).
    Interval bounds are NaN when the effect has no usable uncertainty.
    """

    annual_gain_kzt: float
    annual_gain_ci_low: float
    annual_gain_ci_high: float
    npv_kzt: float
    npv_ci_low: float
    npv_ci_high: float
    roi: float
    roi_ci_low: float
    roi_ci_high: float
    payback_months: float
    payback_ci_low: float
    payback_ci_high: float
    total_cost_kzt: float
    realized_gain_kzt: float = math.nan


def periods_per_year(frequency: str) -> float:
    """How many periods of `frequency` make a year (daily 365, weekly 365/7, monthly 12, quarterly 4, yearly 1)."""
    try:
        return PERIODS_PER_YEAR[frequency]
    except KeyError:
        raise ValueError(f"frequency={frequency!r} is not allowed; choose one of: {', '.join(FREQUENCIES)}") from None


def direction(higher_is_better: bool) -> float:
    """+1 when a rise of the metric is beneficial, −1 when a fall is."""
    return 1.0 if higher_is_better else -1.0


def annual_gain_kzt(effect: float, metric: MetricValue, n_treated: int) -> float:
    """Annual gain in KZT/year of an effect (metric units per treated site and period), beneficial = positive."""
    return float(_annual_gain(np.float64(effect), metric, n_treated))


def _annual_gain(effect: np.ndarray | np.floating, metric: MetricValue, n_treated: int) -> np.ndarray:
    factor = (
        direction(metric.higher_is_better)
        * metric.value_kzt_per_unit
        * periods_per_year(metric.frequency)
        * float(n_treated)
    )
    return np.asarray(effect, dtype=np.float64) * factor


def annuity_factor(discount_rate: float, horizon_years: int) -> float:
    """Σ_{y=1..H} (1 + r)^−y: the present value of 1 KZT received at the end of each of H years."""
    if discount_rate == 0.0:
        return float(horizon_years)
    years = np.arange(1, int(horizon_years) + 1, dtype=np.float64)
    return float(np.sum((1.0 + discount_rate) ** -years))


def total_cost_kzt(costs: PilotCosts, discount_rate: float = 0.15, horizon_years: int = 5) -> float:
    """Present value of the pilot's costs: capex + opex × annuity factor (KZT)."""
    return costs.capex_kzt + costs.opex_kzt_per_year * annuity_factor(discount_rate, horizon_years)


def npv_kzt(annual_gain: float, costs: PilotCosts, discount_rate: float = 0.15, horizon_years: int = 5) -> float:
    """NPV (KZT) of (annual gain − opex) at the end of each year 1..H, less capex at time 0."""
    return float(_npv(np.float64(annual_gain), costs, annuity_factor(discount_rate, horizon_years)))


def _npv(annual_gain: np.ndarray | np.floating, costs: PilotCosts, annuity: float) -> np.ndarray:
    return (np.asarray(annual_gain, dtype=np.float64) - costs.opex_kzt_per_year) * annuity - costs.capex_kzt


def roi(npv: float, total_cost: float) -> float:
    """NPV / total cost (ratio); NaN when the total cost is zero."""
    return float(_roi(np.float64(npv), total_cost))


def _roi(npv: np.ndarray | np.floating, total_cost: float) -> np.ndarray:
    if total_cost == 0.0:
        return np.full(np.shape(npv), np.nan)
    return np.asarray(npv, dtype=np.float64) / total_cost


def payback_months(annual_gain: float, costs: PilotCosts) -> float:
    """Simple payback in months: capex / monthly net gain; +inf when the net annual flow is not positive."""
    return float(_payback(np.float64(annual_gain), costs))


def _payback(annual_gain: np.ndarray | np.floating, costs: PilotCosts) -> np.ndarray:
    net = np.asarray(annual_gain, dtype=np.float64) - costs.opex_kzt_per_year
    out = np.full(net.shape, np.inf)
    positive = net > 0
    out[positive] = costs.capex_kzt / (net[positive] / 12.0)
    return out


def pilot_npv_kzt(
    annual_gains: Sequence[float], costs: PilotCosts, discount_rate: float = 0.15, horizon_years: int = 5
) -> float:
    """NPV of a pilot whose gains on several metrics add up, its costs counted once (KZT)."""
    return npv_kzt(float(np.sum(np.asarray(annual_gains, dtype=np.float64))), costs, discount_rate, horizon_years)


def effect_draws(estimate: EffectEstimate, n_draws: int, seed: int, ci_level: float = 0.95) -> np.ndarray | None:
    """`n_draws` seeded draws from the effect's sampling distribution, or None if it has no usable uncertainty.

    A two-piece normal centred on the estimate: below it the scale is (effect − ci_low)/z, above it
    (ci_high − effect)/z, with z the normal quantile of `ci_level`; so the draws' percentiles reproduce
    the reported CI, symmetric or not. Without a finite CI the standard error scales both halves.
    """
    effect = estimate.effect
    if not math.isfinite(effect):
        return None
    z = float(_normal_quantile(0.5 + ci_level / 2.0))
    if math.isfinite(estimate.ci_low) and math.isfinite(estimate.ci_high):
        lower = max(effect - estimate.ci_low, 0.0) / z
        upper = max(estimate.ci_high - effect, 0.0) / z
    elif math.isfinite(estimate.se) and estimate.se >= 0:
        lower = upper = estimate.se
    else:
        return None
    standard = np.random.default_rng(seed).standard_normal(int(n_draws))
    return np.where(standard < 0, effect + lower * standard, effect + upper * standard)


def _normal_quantile(p: float) -> float:
    if p == 0.975:
        return _Z975
    from scipy.stats import norm

    return float(norm.ppf(p))


def _interval(values: np.ndarray, ci_level: float, *, method: str = "linear") -> tuple[float, float]:
    alpha = 1.0 - ci_level
    low, high = np.quantile(values, [alpha / 2.0, 1.0 - alpha / 2.0], method=method)  # type: ignore[call-overload]
    return float(low), float(high)


def evaluate(
    estimate: EffectEstimate,
    metric: MetricValue,
    costs: PilotCosts,
    n_treated: int,
    params: EconomicsParams | None = None,
    *,
    realized_gain: float = math.nan,
) -> Economics:
    """Annual gain, NPV, ROI and payback of one pilot-metric with intervals from the effect's draws.

    `estimate.effect` is in metric units per treated site and period; `n_treated` is the number of
    treated sites the effect applies to. A non-finite effect gives NaN amounts (payback NaN too).
    """
    params = params or EconomicsParams()
    annuity = annuity_factor(params.discount_rate, params.horizon_years)
    cost = costs.capex_kzt + costs.opex_kzt_per_year * annuity
    nan = math.nan
    if not math.isfinite(estimate.effect):
        return Economics(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, cost, realized_gain)

    gain = float(_annual_gain(np.float64(estimate.effect), metric, n_treated))
    npv = float(_npv(np.float64(gain), costs, annuity))
    ratio = float(_roi(np.float64(npv), cost))
    payback = float(_payback(np.float64(gain), costs))

    draws = effect_draws(estimate, params.n_draws, params.seed, params.ci_level)
    if draws is None:
        return Economics(gain, nan, nan, npv, nan, nan, ratio, nan, nan, payback, nan, nan, cost, realized_gain)
    gains = _annual_gain(draws, metric, n_treated)
    npvs = _npv(gains, costs, annuity)
    g_lo, g_hi = _interval(gains, params.ci_level)
    n_lo, n_hi = _interval(npvs, params.ci_level)
    if cost == 0.0:
        r_lo = r_hi = nan
    else:
        r_lo, r_hi = _interval(_roi(npvs, cost), params.ci_level)
    p_lo, p_hi = _interval(_payback(gains, costs), params.ci_level, method="inverted_cdf")
    return Economics(gain, g_lo, g_hi, npv, n_lo, n_hi, ratio, r_lo, r_hi, payback, p_lo, p_hi, cost, realized_gain)


def sum_with_intervals(
    amounts: Iterable[tuple[float, float | None, float | None]],
) -> tuple[float, float | None, float | None]:
    """The sum of (value, ci_low, ci_high) amounts and its 95% interval: each side's distance from the value is
    added in quadrature (independent normal errors), so an asymmetric interval (from the effect's sampling draws)
    keeps its shape. A missing bound adds no width on its side; a sum of no bounds has none (None, None).
    One rule for every total of tenge amounts: the report's and the dashboard's headline alike."""
    total = var_low = var_high = 0.0
    with_interval = False
    for value, low, high in amounts:
        total += value
        if low is not None:
            var_low += (value - low) ** 2
            with_interval = True
        if high is not None:
            var_high += (high - value) ** 2
            with_interval = True
    if not with_interval:
        return total, None, None
    return total, total - math.sqrt(var_low), total + math.sqrt(var_high)


def period_start(day: date, frequency: str | None) -> date:
    """The first day of the `frequency` period that holds `day`, as the warehouse labels periods (PRODUCT.md:
    monthly and coarser on their first day, weekly on the Monday); `day` itself for daily or unknown data."""
    if frequency == "weekly":
        return date.fromordinal(day.toordinal() - day.weekday())
    if frequency == "monthly":
        return day.replace(day=1)
    if frequency == "quarterly":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if frequency == "yearly":
        return date(day.year, 1, 1)
    return day


def realized_gain_start(
    diagnostics: Mapping[str, Any] | None, registry_first_go_live: date, frequency: str | None = None
) -> date:
    """The first period whose gap counts as realized gain: the first treated period of the earliest go-live among
    the treated sites the estimate used (`design.first_go_live_used` in its diagnostics, ISO text: the label of
    the period that holds that go-live), never before the period that holds the registry's earliest go-live
    (`period_start` by the metric's `frequency`: a monthly pilot live from 15 June counts June, whose label is
    1 June); that period when the estimate does not say (runs stored before it did)."""
    floor = period_start(registry_first_go_live, frequency)
    design = (diagnostics or {}).get("design")
    used = design.get("first_go_live_used") if isinstance(design, Mapping) else None
    try:
        start = date.fromisoformat(str(used)[:10]) if used is not None else floor
    except ValueError:
        start = floor
    return max(start, floor)


def realized_gain_kzt(
    times: Sequence[date] | np.ndarray,
    observed: Sequence[float] | np.ndarray,
    counterfactual: Sequence[float] | np.ndarray,
    go_live: date | np.datetime64,
    metric: MetricValue,
    n_treated: int,
    shares: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Σ over periods at or after `go_live` of (observed − counterfactual) × value × treated sites (KZT, signed).

    `observed` and `counterfactual` are the mean treated site's series (as in `EffectResult.counterfactual`);
    periods where either is missing are skipped. For staggered pilots pass the earliest go-live.
    `shares`: the part of each period to count (a week that straddles New Year counts 2/7 in one year's
    report and 5/7 in the next); None counts every period whole. NaN when no post-go-live period has both values.
    """
    t = np.asarray(times, dtype="datetime64[D]")
    obs = np.asarray(observed, dtype=np.float64)
    cf = np.asarray(counterfactual, dtype=np.float64)
    if not (t.shape == obs.shape == cf.shape):
        raise ValueError("times, observed and counterfactual must have the same length")
    start = np.asarray(go_live, dtype="datetime64[D]")
    post = (t >= start) & np.isfinite(obs) & np.isfinite(cf)
    if not post.any():
        return math.nan
    share = np.ones_like(obs) if shares is None else np.asarray(shares, dtype=np.float64)
    gap = float(np.sum((obs[post] - cf[post]) * share[post]))
    return gap * direction(metric.higher_is_better) * metric.value_kzt_per_unit * float(n_treated)
