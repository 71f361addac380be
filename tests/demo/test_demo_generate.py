"""The demo generator: determinism, the recorded truths against the effects actually applied, realism."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from pilot_roi.demo.generate import DemoData, generate, load_demo_registry, load_scenario, treatments
from pilot_roi.demo.truth import pilot_truths

SEED = 1234
KEYS = ["site_code", "metric_code", "period"]


@pytest.fixture(scope="module")
def with_effects() -> DemoData:
    return generate(seed=SEED)


@pytest.fixture(scope="module")
def without_effects() -> DemoData:
    return generate(seed=SEED, with_effects=False)


@pytest.fixture(scope="module")
def paired(with_effects: DemoData, without_effects: DemoData) -> pl.DataFrame:
    """Each observed cell with its value with and without the pilots' effects."""
    return with_effects.observations.join(
        without_effects.observations.rename({"value": "untreated"}), on=KEYS, how="full", coalesce=True
    )


def test_same_seed_gives_identical_frames(with_effects: DemoData) -> None:
    again = generate(seed=SEED)
    assert again.observations.equals(with_effects.observations)
    assert again.truths.equals(with_effects.truths)
    # bit for bit, not only equal as floats
    assert again.observations["value"].to_numpy().tobytes() == with_effects.observations["value"].to_numpy().tobytes()


def test_a_different_seed_gives_different_data(with_effects: DemoData) -> None:
    other = generate(seed=SEED + 1)
    assert not other.observations.equals(with_effects.observations)
    joined = with_effects.observations.join(other.observations, on=KEYS, suffix="_other")
    assert (joined["value"] != joined["value_other"]).mean() > 0.9


def test_the_default_seed_is_the_scenarios() -> None:
    assert generate().observations.equals(generate(seed=load_scenario().seed).observations)


def test_effects_change_nothing_but_treated_series_after_go_live(paired: pl.DataFrame) -> None:
    # same cells observed with and without effects: missing days do not depend on the pilots
    assert paired["value"].null_count() == 0 and paired["untreated"].null_count() == 0
    treated = pl.DataFrame(
        [(t.site_code, t.metric_code, t.go_live) for t in treatments(load_scenario(), load_demo_registry())],
        schema={"site_code": pl.String, "metric_code": pl.String, "go_live": pl.Date},
        orient="row",
    )
    cells = paired.join(treated, on=["site_code", "metric_code"], how="left")
    outside = cells.filter(pl.col("go_live").is_null() | (pl.col("period") < pl.col("go_live")))
    assert (outside["value"] == outside["untreated"]).all()


def test_recorded_truths_equal_the_mean_applied_difference(with_effects: DemoData, paired: pl.DataFrame) -> None:
    truths = with_effects.truths
    measured = (
        paired.join(truths.select("site_code", "metric_code", "go_live", "pilot_code"), on=["site_code", "metric_code"])
        .filter(pl.col("period") >= pl.col("go_live"))
        .group_by("pilot_code", "metric_code", "site_code")
        .agg(
            (pl.col("value") - pl.col("untreated")).mean().alias("measured"),
            pl.col("untreated").mean().alias("cf_mean"),
            pl.len().alias("n"),
        )
    )
    check = truths.join(measured, on=["pilot_code", "metric_code", "site_code"])
    assert check.height == truths.height
    # Same numbers summed in a different order: agreement to rounding error of doubles.
    np.testing.assert_allclose(check["measured"], check["true_effect"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(check["cf_mean"], check["counterfactual_mean"], rtol=1e-12)
    assert (check["n"] == check["n_post_periods"]).all()
    np.testing.assert_allclose(check["true_effect_pct"], 100 * check["true_effect"] / check["cf_mean"], rtol=1e-12)


def test_truth_kinds_have_the_right_sign(with_effects: DemoData) -> None:
    registry = load_demo_registry()
    higher = {m.code: m.higher_is_better for m in registry.metrics}
    per_pilot = pilot_truths(with_effects.truths)
    assert per_pilot.height == sum(len(p.metrics) for p in registry.pilots)
    for row in per_pilot.iter_rows(named=True):
        if row["kind"] == "null":
            assert row["true_effect"] == 0.0
            continue
        beneficial = row["true_effect"] > 0 if higher[row["metric_code"]] else row["true_effect"] < 0
        assert beneficial == (row["kind"] == "real"), row
        # Ramps, shutdowns and clipping shrink the effect the scenario asked for; the percentage is of the
        # counterfactual mean, which trend and season move up to ~15% away from the base level it was set on.
        design = with_effects.truths.filter(
            (pl.col("pilot_code") == row["pilot_code"]) & (pl.col("metric_code") == row["metric_code"])
        )["design_pct"][0]
        assert 0.5 * abs(design) <= abs(row["true_effect_pct"]) <= 1.15 * abs(design), row


def test_values_respect_metric_bounds(with_effects: DemoData) -> None:
    for metric in load_demo_registry().metrics:
        values = with_effects.observations.filter(pl.col("metric_code") == metric.code)["value"]
        assert values.len() > 0, metric.code
        if metric.min_value is not None:
            assert values.min() >= metric.min_value, metric.code  # type: ignore[operator]
        if metric.max_value is not None:
            assert values.max() <= metric.max_value, metric.code  # type: ignore[operator]


def test_data_look_like_production_data(with_effects: DemoData) -> None:
    scenario = load_scenario()
    obs = with_effects.observations
    metrics = {m.code: m for m in load_demo_registry().metrics}
    days = (scenario.end - scenario.start).days + 1
    daily = obs.filter(pl.col("metric_code").replace_strict({k: m.frequency for k, m in metrics.items()}) == "daily")
    per_series = daily.group_by("site_code", "metric_code").len()
    coverage = per_series["len"] / days
    # missing days exist, but only a few percent of them
    assert coverage.max() < 1.0 and coverage.min() > 0.9  # type: ignore[operator]
    # monthly metrics are stored on the first day of the month
    monthly = obs.filter(pl.col("metric_code").is_in(["outage_min", "aog_hours"]))
    assert monthly.height > 0 and (monthly["period"].dt.day() == 1).all()
    assert obs["period"].min() == scenario.start and obs["period"].max() <= scenario.end
    # planned shutdowns: a refinery's throughput drops far below its normal level on a few days
    anpz = obs.filter((pl.col("site_code") == "KMG-ANPZ") & (pl.col("metric_code") == "crude_processed_t"))
    low = (anpz["value"] < 0.5 * anpz["value"].median()).sum()  # type: ignore[operator]
    assert 0 < low < 0.05 * anpz.height
    # weekly cycle where the scenario has one: Sorting centres sort less on Sundays
    sorting = obs.filter(pl.col("metric_code") == "items_sorted").with_columns(
        pl.col("period").dt.weekday().alias("dow")
    )
    by_day = sorting.group_by("dow").agg(pl.col("value").mean()).sort("dow")["value"]
    assert by_day[6] < 0.85 * by_day[0]


def _residual(obs: pl.DataFrame, site: str, metric: str) -> pl.DataFrame:
    """Weekly mean of value / (trend x annual cycle of the scenario) - 1: what is left is noise and shocks."""
    scenario = load_scenario()
    profile = scenario.profiles[metric]
    s = obs.filter((pl.col("site_code") == site) & (pl.col("metric_code") == metric)).with_columns(
        ((pl.col("period") - scenario.start).dt.total_days()).alias("days"),
        pl.col("period").dt.ordinal_day().alias("doy"),
    )
    shape = (1 + profile.trend * pl.col("days") / 365.25) * (
        1 + profile.annual * (2 * np.pi * (pl.col("doy") - profile.peak_doy) / 365.25).cos()
    )
    s = s.with_columns((pl.col("value") / shape).alias("r"))
    s = s.with_columns((pl.col("r") / pl.col("r").median() - 1).alias("r")).filter(pl.col("r") > -0.5)  # shutdowns
    return s.group_by(pl.col("period").dt.truncate("1w")).agg(pl.col("r").mean()).sort("period")


def test_sites_of_a_subsidiary_share_shocks(with_effects: DemoData) -> None:
    # Controls are informative: once the deterministic trend and season are divided out, two sites of one
    # subsidiary still co-move (the subsidiary's common factor and shock episodes).
    obs = with_effects.observations.filter(pl.col("period") < date(2024, 1, 1))

    def corr(a: tuple[str, str], b: tuple[str, str]) -> float:
        joined = _residual(obs, *a).join(_residual(obs, *b), on="period")
        return float(np.corrcoef(joined["r"], joined["r_right"])[0, 1])

    same = corr(("QG-MAKAT", "gas_own_use_km3"), ("QG-SHYM", "gas_own_use_km3"))
    other = corr(("QG-MAKAT", "gas_own_use_km3"), ("KEGOC-AKT", "grid_loss_mwh"))
    assert same > 0.25
    assert same > other + 0.1
