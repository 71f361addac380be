"""The seeded generator of synthetic production data for the demo warehouse.

Pure: a `Scenario` (scenario.yaml) and a `Registry` (registry.yaml) in, polars frames out. The same seed
gives the same frames bit for bit: every random draw comes from a `numpy.random.default_rng` seeded by
(seed, a CRC-32 of the codes involved), so a series does not depend on which other series exist, and the
draws never depend on whether the pilots' effects are applied.

The model of one series is in the header of scenario.yaml.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml
from scipy.signal import lfilter

from pilot_roi.demo.truth import KINDS, TRUTH_SCHEMA, series_truth
from pilot_roi.registry import Registry, parse_registry

_HERE = Path(__file__).resolve().parent
REGISTRY_PATH = _HERE / "registry.yaml"
SCENARIO_PATH = _HERE / "scenario.yaml"

OBSERVATION_SCHEMA = {"site_code": pl.String, "metric_code": pl.String, "period": pl.Date, "value": pl.Float64}

# Autocorrelation of the subsidiary-wide factor (per day, per month): slow-moving, so it shows in controls.
_COMMON_AR = {"daily": 0.97, "monthly": 0.6}
# Weekday pattern of the weekly cycle (Monday first), times the profile's `weekly`: mean zero.
_WEEK = np.array([0.44, 0.44, 0.44, 0.44, 0.44, -1.0, -1.2])


@dataclass(frozen=True, slots=True)
class Profile:
    """How a metric's series move; shares are of the site's base level (see scenario.yaml)."""

    noise_cv: float
    ar: float
    weekly: float
    annual: float
    peak_doy: float
    trend: float
    common_cv: float
    shocks_per_year: float
    shock_size: float
    shutdowns_per_year: float
    shutdown_factor: float
    decimals: int


@dataclass(frozen=True, slots=True)
class MissingSpec:
    """How often values are missing: isolated days, multi-day export gaps, months."""

    daily_rate: float
    gaps_per_year: float
    gap_days: tuple[int, int]
    monthly_rate: float


@dataclass(frozen=True, slots=True)
class PilotEffect:
    """The true effect of one pilot: `pct` per metric, in percent of each treated site's base level."""

    pilot_code: str
    kind: str
    ramp_days: int
    pct: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything the generator needs beyond the registry: window, seed, profiles, levels, effects."""

    start: date
    end: date
    seed: int
    missing: MissingSpec
    profiles: dict[str, Profile]
    levels: dict[tuple[str, str], float]
    effects: dict[str, PilotEffect]


@dataclass(frozen=True, slots=True)
class Treatment:
    """One treated series: pilot, metric, site, go-live, kind and effect (percent of base level)."""

    pilot_code: str
    metric_code: str
    site_code: str
    go_live: date
    kind: str
    pct: float
    ramp_days: int


@dataclass(frozen=True, slots=True)
class DemoData:
    """The generated data.

    `observations`: site_code, metric_code, period (date), value (float64); one row per observed period,
    missing periods absent. `truths`: one row per treated (pilot, metric, site), columns of TRUTH_SCHEMA.
    """

    observations: pl.DataFrame
    truths: pl.DataFrame


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _profile(raw: dict[str, Any]) -> Profile:
    values = {k: float(v) for k, v in raw.items() if k != "decimals"}
    return Profile(decimals=int(raw["decimals"]), **values)


def parse_scenario(doc: dict[str, Any]) -> Scenario:
    """A `Scenario` from the parsed scenario.yaml document."""
    missing = doc["missing"]
    return Scenario(
        start=_day(doc["start"]),
        end=_day(doc["end"]),
        seed=int(doc["seed"]),
        missing=MissingSpec(
            daily_rate=float(missing["daily_rate"]),
            gaps_per_year=float(missing["gaps_per_year"]),
            gap_days=(int(missing["gap_days"][0]), int(missing["gap_days"][1])),
            monthly_rate=float(missing["monthly_rate"]),
        ),
        profiles={code: _profile(p) for code, p in doc["profiles"].items()},
        levels={(site, metric): float(level) for site, row in doc["levels"].items() for metric, level in row.items()},
        effects={
            code: PilotEffect(
                code, str(e["kind"]), int(e["ramp_days"]), tuple((m, float(v)) for m, v in e["pct"].items())
            )
            for code, e in doc["effects"].items()
        },
    )


@cache
def load_scenario(path: Path = SCENARIO_PATH) -> Scenario:
    """The demo scenario shipped with the package (or the one at `path`)."""
    return parse_scenario(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def load_demo_registry(path: Path = REGISTRY_PATH) -> Registry:
    """The validated demo registry shipped with the package (or the one at `path`)."""
    return parse_registry(yaml.safe_load(path.read_text(encoding="utf-8")))


def treatments(scenario: Scenario, registry: Registry) -> list[Treatment]:
    """Every treated series with its true effect; ValueError if the scenario and the registry disagree.

    Each pilot metric needs an effect, each treated (site, metric) a series, and no series may be
    treated by two pilots (the truth of each would be ambiguous).
    """
    problems: list[str] = []
    out: list[Treatment] = []
    seen: dict[tuple[str, str], str] = {}
    for pilot in registry.pilots:
        effect = scenario.effects.get(pilot.code)
        if effect is None:
            problems.append(f"{pilot.code}: no effect in the scenario")
            continue
        if effect.kind not in KINDS:
            problems.append(f"{pilot.code}: kind {effect.kind!r} not one of {KINDS}")
        pct = dict(effect.pct)
        if set(pct) != set(pilot.metrics):
            problems.append(f"{pilot.code}: effect metrics {sorted(pct)} != pilot metrics {list(pilot.metrics)}")
        for metric in pilot.metrics:
            for treated in pilot.sites:
                key = (treated.site, metric)
                if key not in scenario.levels:
                    problems.append(f"{pilot.code}: no series for {treated.site} / {metric}")
                if key in seen:
                    problems.append(f"{pilot.code}: {treated.site} / {metric} already treated by {seen[key]}")
                seen[key] = pilot.code
                out.append(Treatment(pilot.code, metric, treated.site, treated.go_live, effect.kind,
                                     pct.get(metric, 0.0), effect.ramp_days))  # fmt: skip
    for site, metric in scenario.levels:
        if metric not in scenario.profiles:
            problems.append(f"levels.{site}.{metric}: no profile")
    if problems:
        raise ValueError("demo scenario does not match the registry: " + "; ".join(problems))
    return out


def _key(*parts: str) -> list[int]:
    return [zlib.crc32(p.encode("utf-8")) for p in parts]


def periods(start: date, end: date, frequency: str) -> np.ndarray:
    """The periods of the window as datetime64[D]: every day, or the first day of every month."""
    if frequency == "daily":
        return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    if frequency == "monthly":
        months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
        return months.astype("datetime64[D]")
    raise ValueError(f"the demo generator makes daily and monthly series, not {frequency}")


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) path with marginal standard deviation `sd`."""
    eps = rng.standard_normal(n)
    eps[0] /= max(np.sqrt(1.0 - phi * phi), 1e-6)  # start in the stationary distribution
    return np.asarray(lfilter([sd * np.sqrt(1.0 - phi * phi)], [1.0, -phi], eps))


def _episodes(rng: np.random.Generator, n: int, rate: float, length: tuple[int, int]) -> np.ndarray:
    """A boolean mask of Poisson(rate) episodes with uniform starts and lengths in `length`."""
    mask = np.zeros(n, dtype=bool)
    count = int(rng.poisson(rate))
    starts = rng.integers(0, n, size=count)
    lengths = rng.integers(length[0], length[1] + 1, size=count)
    for s, ln in zip(starts, lengths, strict=True):
        mask[s : s + ln] = True
    return mask


def common_factor(scenario: Scenario, seed: int, subsidiary: str, metric: str, frequency: str) -> np.ndarray:
    """The factor shared by a subsidiary's sites for one metric (share of level, mean about zero)."""
    profile = scenario.profiles[metric]
    when = periods(scenario.start, scenario.end, frequency)
    n = len(when)
    rng = np.random.default_rng([seed, *_key("common", subsidiary, metric)])
    factor = _ar1(rng, n, _COMMON_AR[frequency], profile.common_cv)
    per_year = 365.25 if frequency == "daily" else 12.0
    shock_len = (5, 20) if frequency == "daily" else (1, 2)
    years = n / per_year
    count = int(rng.poisson(profile.shocks_per_year * years))
    starts = rng.integers(0, n, size=count)
    lengths = rng.integers(shock_len[0], shock_len[1] + 1, size=count)
    sizes = profile.shock_size * rng.uniform(0.6, 1.2, size=count)
    for s, ln, size in zip(starts, lengths, sizes, strict=True):
        factor[s : s + ln] += size
    return factor


def _bounds(metric_bounds: tuple[float | None, float | None], values: np.ndarray) -> np.ndarray:
    low, high = metric_bounds
    return np.clip(values, low if low is not None else -np.inf, high if high is not None else np.inf)


@dataclass(frozen=True, slots=True)
class Series:
    """One generated series: periods, counterfactual and actual values (rounded), and which are observed."""

    periods: np.ndarray
    untreated: np.ndarray
    treated: np.ndarray
    observed: np.ndarray


def generate_series(
    scenario: Scenario,
    seed: int,
    site: str,
    metric: str,
    frequency: str,
    bounds: tuple[float | None, float | None],
    common: np.ndarray,
    treatment: Treatment | None,
) -> Series:
    """One site's series of one metric, without and with the pilot's effect, on the same random draws."""
    profile = scenario.profiles[metric]
    level = scenario.levels[(site, metric)]
    when = periods(scenario.start, scenario.end, frequency)
    n = len(when)
    daily = frequency == "daily"
    rng = np.random.default_rng([seed, *_key("series", site, metric)])
    days = (when - np.datetime64(scenario.start, "D")).astype(np.int64)
    mid = days + (0 if daily else 14)
    years = mid / 365.25
    doy = (when - when.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + (0 if daily else 14)
    annual = 1.0 + profile.annual * np.cos(2.0 * np.pi * (doy - profile.peak_doy) / 365.25)
    if daily:
        weekday = (when.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        weekly = 1.0 + profile.weekly * _WEEK[weekday]
    else:
        weekly = np.ones(n)
    size = 1.0 + rng.normal(0.0, 0.03)  # a site's own scale drift around its registered level
    noise = _ar1(rng, n, profile.ar if daily else profile.ar / 2, profile.noise_cv)
    base = level * size * (1.0 + profile.trend * years) * weekly * annual * (1.0 + common) + level * noise

    shutdown = np.ones(n)
    if daily and profile.shutdowns_per_year > 0:
        stops = _episodes(rng, n, profile.shutdowns_per_year * n / 365.25, (3, 8))
        shutdown[stops] = profile.shutdown_factor
    if daily:
        observed = rng.random(n) >= scenario.missing.daily_rate
        observed &= ~_episodes(rng, n, scenario.missing.gaps_per_year * n / 365.25, scenario.missing.gap_days)
    else:
        observed = rng.random(n) >= scenario.missing.monthly_rate

    effect = np.zeros(n)
    if treatment is not None and treatment.pct != 0.0:
        since = (when - np.datetime64(treatment.go_live, "D")).astype(np.int64)
        span = 1 if daily else 30
        ramp = np.ones(n) if treatment.ramp_days <= 0 else np.minimum(1.0, (since + span) / treatment.ramp_days)
        effect = np.where(since >= 0, treatment.pct / 100.0 * level * ramp, 0.0)

    decimals = profile.decimals
    untreated = np.round(_bounds(bounds, base * shutdown), decimals)
    treated = np.round(_bounds(bounds, (base + effect) * shutdown), decimals)
    return Series(when, untreated, treated, observed)


def generate(
    scenario: Scenario | None = None,
    registry: Registry | None = None,
    *,
    seed: int | None = None,
    with_effects: bool = True,
) -> DemoData:
    """The demo observations (with or without the pilots' effects) and the recorded true effects.

    `seed` defaults to the scenario's. With `with_effects=False` the observations are the counterfactual:
    the same draws, the same missing periods, no pilot effect; `truths` is the same in both cases.
    """
    scenario = scenario or load_scenario()
    registry = registry or load_demo_registry()
    seed = scenario.seed if seed is None else int(seed)
    by_series = {(t.site_code, t.metric_code): t for t in treatments(scenario, registry)}
    owner = {s.code: s.subsidiary for s in registry.sites}
    metrics = {m.code: m for m in registry.metrics}

    commons: dict[tuple[str, str], np.ndarray] = {}
    chunks: list[pl.DataFrame] = []
    truth_rows: list[dict[str, Any]] = []
    for site, metric in sorted(scenario.levels):
        spec = metrics[metric]
        key = (owner[site], metric)
        if key not in commons:
            commons[key] = common_factor(scenario, seed, owner[site], metric, spec.frequency)
        treatment = by_series.get((site, metric))
        series = generate_series(
            scenario, seed, site, metric, spec.frequency, (spec.min_value, spec.max_value), commons[key], treatment
        )
        values = series.treated if with_effects else series.untreated
        keep = series.observed
        chunks.append(
            pl.DataFrame(
                {
                    "site_code": np.full(int(keep.sum()), site, dtype=object),
                    "metric_code": np.full(int(keep.sum()), metric, dtype=object),
                    "period": series.periods[keep],
                    "value": values[keep],
                },
                schema=OBSERVATION_SCHEMA,
            )
        )
        if treatment is not None:
            truth = series_truth(series.periods, series.untreated, series.treated, series.observed, treatment.go_live)
            truth_rows.append(
                {
                    "pilot_code": treatment.pilot_code,
                    "metric_code": metric,
                    "site_code": site,
                    "go_live": treatment.go_live,
                    "kind": treatment.kind,
                    "true_effect": truth.effect,
                    "true_effect_pct": truth.effect_pct,
                    "n_post_periods": truth.n_post,
                    "counterfactual_mean": truth.counterfactual_mean,
                    "design_pct": treatment.pct,
                    "ramp_days": treatment.ramp_days,
                    "seed": seed,
                }
            )
    observations = pl.concat(chunks, how="vertical")
    truths = pl.DataFrame(truth_rows, schema=TRUTH_SCHEMA).sort("pilot_code", "metric_code", "site_code")
    return DemoData(observations=observations, truths=truths)
