"""The runner estimates each metric at its registry frequency, not at the one the spacing of its dates suggests.

A site that reports a daily metric only on Mondays sends dates seven days apart. Read from the dates, the metric is
weekly: a go-live on Wednesday 31 July then counts Monday 29 July, a day wholly before the go-live, as the first
treated period (the week that holds the go-live), and the six missing days of every week go unnoticed. The registry
says the metric is daily, and the runner passes that on: 29 July stays in the pre-period, and six days in seven
missing is what the estimate reports (`too_many_gaps`), not a number graded as if the series were complete.

The portfolio, built through the real CLI: subsidiary MON, sites S01-S08; one pilot on S01 and S02 from Wednesday
31 July 2024, on two metrics that receive the very same values, dated on the 42 Mondays from 1 January 2024: a
daily one (energy_gj) and a weekly one (energy_wk). Their results differ only by what the registry says.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from test_metamorphic_e2e import estimate, ingest, new_warehouse, query

from pilot_roi.runner import EstimateJob
from pilot_roi.runner.worker import run_job

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

SITES = [f"S{i:02d}" for i in range(1, 9)]
MONDAYS = [date(2024, 1, 1) + timedelta(weeks=k) for k in range(42)]
GO_LIVE = date(2024, 7, 31)  # a Wednesday
MONDAY_BEFORE = date(2024, 7, 29)
N_BEFORE = sum(day < GO_LIVE for day in MONDAYS)  # 31, Monday 29 July included

_SITE_LINES = "\n".join(
    f'  - {{code: {s}, subsidiary: MON, name: {{ru: "Объект {s}", kk: "Нысан {s}", en: "Site {s}"}}}}' for s in SITES
)
REGISTRY = f"""
data_start: 2024-01-01
subsidiaries:
  - {{code: MON, name: {{ru: "Понедельник", kk: "Дүйсенбі", en: "Monday"}}, sector: energy}}
sites:
{_SITE_LINES}
metrics:
  - {{code: energy_gj, name: {{ru: "Энергия", kk: "Энергия", en: "Energy use"}}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}}
  - {{code: energy_wk, name: {{ru: "Энергия за неделю", kk: "Апталық энергия", en: "Weekly energy use"}}, unit: GJ,
     frequency: weekly, aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}}
pilots:
  - code: P-MON
    name: {{ru: "Пилот П", kk: "Д пилоты", en: "Pilot M"}}
    subsidiary: MON
    use_case: energy_optimization
    sites: [{{site: S01, go_live: {GO_LIVE.isoformat()}}}, {{site: S02, go_live: {GO_LIVE.isoformat()}}}]
    metrics: [energy_gj, energy_wk]
    capex_kzt: 30000000
    opex_kzt_per_year: 2000000
"""


def observations(seed: int = 17) -> pl.DataFrame:
    """One value per site and Monday (a shared random walk, the site's level, noise; 40 GJ less at S01 and S02 on
    the Mondays after the go-live), sent under both metric codes."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 5.0, len(MONDAYS)))
    live = np.array([day >= GO_LIVE for day in MONDAYS])
    frames = []
    for k, site in enumerate(SITES):
        value = 1000.0 + 15.0 * k + common + rng.normal(0, 8.0, len(MONDAYS)) - 40.0 * live * (site in ("S01", "S02"))
        for metric in ("energy_gj", "energy_wk"):
            frames.append(pl.DataFrame({"site_code": site, "metric_code": metric, "period": MONDAYS, "value": value}))
    return pl.concat(frames).with_columns(pl.col("value").round(6))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The estimate rows of the run, by metric code, with their diagnostics read."""
    folder = tmp_path_factory.mktemp("given_frequency")
    warehouse = new_warehouse(folder / "wh", REGISTRY)
    data = folder / "mondays.csv"
    observations().write_csv(data)
    ingest(warehouse, data)
    estimate(warehouse)
    rows = query(warehouse, "SELECT * FROM estimate_results ORDER BY metric_code").to_dicts()
    grades = dict(query(warehouse, "SELECT metric_code, grade FROM estimates").rows())
    return {
        row["metric_code"]: {
            **row,
            "diagnostics": json.loads(row["diagnostics"]),
            "view_grade": grades[row["metric_code"]],
        }
        for row in rows
    }


def test_the_monday_before_the_go_live_is_untreated_for_the_daily_metric(results: dict[str, dict[str, Any]]) -> None:
    daily = results["energy_gj"]
    design = daily["diagnostics"]["design"]
    # 29 July is the 31st pre-period day; read as weekly it was the first treated week (n_pre 30, n_post 12)
    assert (daily["n_pre_periods"], daily["n_post_periods"]) == (N_BEFORE, len(MONDAYS) - N_BEFORE) == (31, 11)
    assert daily["diagnostics"]["method_choice"]["n_pre"] == N_BEFORE
    assert f"{N_BEFORE} days before go-live" in daily["method_reason"]
    assert (design["frequency"], design["frequency_source"]) == ("daily", "stated")


def test_a_daily_metric_reported_on_mondays_only_is_insufficient_not_graded(results: dict[str, dict[str, Any]]) -> None:
    daily = results["energy_gj"]
    calendar_days = (MONDAYS[-1] - MONDAYS[0]).days + 1
    assert (daily["status"], daily["reason"]) == ("insufficient_data", "too_many_gaps")
    assert daily["diagnostics"]["design"]["gap_share"] == round(1 - len(MONDAYS) / calendar_days, 4)
    assert daily["diagnostics"]["design"]["missing_periods"] == calendar_days - len(MONDAYS)
    assert daily["grade"] == daily["view_grade"] == "insufficient_data"
    assert daily["annual_gain_kzt"] is None and daily["realized_gain_kzt"] is None


def test_the_same_dates_as_a_weekly_metric_treat_the_week_that_holds_the_go_live(
    results: dict[str, dict[str, Any]],
) -> None:
    weekly = results["energy_wk"]
    design = weekly["diagnostics"]["design"]
    assert weekly["status"] == "ok" and weekly["frequency"] == "weekly"
    assert (design["frequency"], design["gap_share"]) == ("weekly", 0.0)
    assert design["first_go_live_used"] == MONDAY_BEFORE.isoformat()  # the week of Monday 29 July
    assert (weekly["n_pre_periods"], weekly["n_post_periods"]) == (N_BEFORE - 1, len(MONDAYS) - N_BEFORE + 1)
    assert f"{N_BEFORE - 1} weeks before go-live" in weekly["method_reason"]
    assert design["frequency_source"] == "stated"  # the only difference from a run that guessed it


def test_a_job_whose_dates_contradict_its_frequency_is_an_error_row_that_says_why() -> None:
    # what a warehouse loaded before ingestion checked period labels could hold: a weekly metric dated on Sundays
    sundays = (
        observations()
        .filter(pl.col("metric_code") == "energy_wk")
        .with_columns(
            pl.col("period") - timedelta(days=1),
            go_live=pl.when(pl.col("site_code").is_in(["S01", "S02"])).then(pl.lit(GO_LIVE)).otherwise(None),
        )
    )
    panel = sundays.select("site_code", "period", "value", "go_live")
    job = EstimateJob("P-MON", "energy_wk", "hash", panel, seed=1, method="auto", control_group="never_treated",
                      frequency="weekly")  # fmt: skip
    result = run_job(job)
    assert (result.status, result.method) == ("error", None) and math.isnan(result.effect)
    assert result.reason == (
        f"invalid_panel: period: {len(MONDAYS)} period(s) do not start a week, e.g. 2023-12-31: with the frequency "
        '"weekly" each period is labelled by its first day, a Monday, as the warehouse stores them. Label the periods '
        "so, or leave the frequency out to have it read from the dates."
    )
    assert run_job(replace(job, frequency=None)).status == "ok"  # guessed, as before: the runner always states it
