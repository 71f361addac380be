"""A pilot that goes live in the middle of a month: the month that holds the go-live is its first treated month.

The warehouse stores monthly values on the first day of the month (PRODUCT.md). Before this rule a go-live on
17 June 2024 mapped to July, the first label at or after it, so June, half of it with the pilot live, entered the
pre-period the counterfactual is fitted on, and its gap was not counted as realized gain. Two warehouses that
differ only in the go-live's day within June (the 1st against the 17th) must now give the same estimate, the same
counterfactual path and the same realized gain (June included) through the CLI, the dashboard's realized-gain
mart and the year-end report.

The portfolio: one subsidiary, six sites, a monthly energy metric (lower is better) from January 2022 to
December 2024, one pilot on S01 and S02 that cuts energy by 60 GJ a month from June 2024; S03-S06 are controls.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_metamorphic_e2e import cli, estimate, ingest, new_warehouse, query

from pilot_roi import dashboard_queries as q
from pilot_roi.i18n import t
from pilot_roi.reports.tables import ESTIMATE_FIELDS
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

SITES = [f"S{i:02d}" for i in range(1, 7)]
MONTHS = [date(2022 + i // 12, i % 12 + 1, 1) for i in range(36)]
JUNE = date(2024, 6, 1)
ENERGY_KZT = 4200.0

_SITE_LINES = "\n".join(
    f'  - {{code: {s}, subsidiary: MTA, name: {{ru: "Объект {s}", kk: "Нысан {s}", en: "Site {s}"}}}}' for s in SITES
)


def registry(go_live: date) -> str:
    return f"""
data_start: 2022-01-01
subsidiaries:
  - {{code: MTA, name: {{ru: "Метаморф", kk: "Метаморф", en: "Metamorph"}}, sector: energy}}
sites:
{_SITE_LINES}
metrics:
  - {{code: energy_gj, name: {{ru: "Энергия", kk: "Энергия", en: "Energy use"}}, unit: GJ, frequency: monthly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: {ENERGY_KZT}, min_value: 0}}
pilots:
  - code: P-M
    name: {{ru: "Пилот М", kk: "М пилоты", en: "Pilot M"}}
    subsidiary: MTA
    use_case: energy_optimization
    sites: [{{site: S01, go_live: {go_live.isoformat()}}}, {{site: S02, go_live: {go_live.isoformat()}}}]
    metrics: [energy_gj]
    capex_kzt: 30000000
    opex_kzt_per_year: 2000000
"""


def observations(seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 5.0, len(MONTHS)))
    frames = []
    for k, site in enumerate(SITES):
        value = 3000.0 + 40.0 * k + common + rng.normal(0, 12.0, len(MONTHS))
        if site in ("S01", "S02"):
            value = value - 60.0 * np.array([m >= JUNE for m in MONTHS])
        frames.append(pl.DataFrame({"site_code": site, "metric_code": "energy_gj", "period": MONTHS, "value": value}))
    return pl.concat(frames).with_columns(pl.col("value").round(6))


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two estimated warehouses, the same file loaded into each: go-live on 1 June and on 17 June."""
    folder = tmp_path_factory.mktemp("mid_period")
    data = folder / "energy.csv"
    observations().write_csv(data)
    out = {}
    for name, day in (("first", date(2024, 6, 1)), ("mid", date(2024, 6, 17))):
        path = new_warehouse(folder / name, registry(day))
        ingest(path, data)
        estimate(path)
        out[name] = path
    return out


_SAME = ("status", "method", "effect", "se", "ci_low", "ci_high", "p_value", "effect_pct", "pre_trend_p", "mde",
         "grade", "n_treated", "n_controls", "n_pre_periods", "n_post_periods", "annual_gain_kzt",
         "annual_gain_ci_low", "annual_gain_ci_high", "npv_kzt", "roi", "payback_months",
         "realized_gain_kzt")  # fmt: skip


def test_a_go_live_in_mid_june_gives_the_estimate_of_a_go_live_on_the_1st(warehouses: dict[str, Path]) -> None:
    first, mid = (query(warehouses[k], "SELECT * FROM estimate_results").to_dicts() for k in ("first", "mid"))
    assert len(first) == len(mid) == 1
    assert first[0]["status"] == "ok" and first[0]["n_post_periods"] == 7  # June to December
    for column in _SAME:
        assert mid[0][column] == first[0][column], column
    paths = [
        query(warehouses[k], "SELECT period, observed, counterfactual FROM estimate_counterfactuals ORDER BY period")
        for k in ("first", "mid")
    ]
    assert paths[0].equals(paths[1])


def test_realized_gain_counts_the_go_live_month(warehouses: dict[str, Path]) -> None:
    path = query(warehouses["mid"], "SELECT period, observed, counterfactual FROM estimate_counterfactuals")
    sql = "SELECT realized_gain_kzt, n_treated, grade FROM estimate_results"
    row = query(warehouses["mid"], sql).row(0, named=True)
    assert row["grade"] == "demonstrated"

    def gain_from(start: date) -> float:
        post = path.filter(pl.col("period") >= start)
        return float((post["counterfactual"] - post["observed"]).sum()) * ENERGY_KZT * row["n_treated"]

    assert row["realized_gain_kzt"] == pytest.approx(gain_from(JUNE), rel=1e-12)
    assert abs(gain_from(JUNE) - gain_from(date(2024, 7, 1))) > 0.05 * abs(gain_from(JUNE))  # June weighs

    monthly = {}
    for name, wh in warehouses.items():
        con = connect(wh, read_only=True)
        try:
            monthly[name] = q.realized_gain(con)
        finally:
            con.close()
    assert monthly["mid"].equals(monthly["first"])
    assert monthly["mid"]["month"].min() == JUNE
    assert float(monthly["mid"]["gain_kzt"].sum()) == pytest.approx(row["realized_gain_kzt"], rel=1e-12)


def test_the_year_report_counts_june_as_realized_in_2024(warehouses: dict[str, Path], tmp_path: Path) -> None:
    headers = {f.id: f.column("en").header for f in ESTIMATE_FIELDS}
    rows = {}
    for name, wh in warehouses.items():
        out = tmp_path / f"{name}.csv"
        code, _ = cli(wh, "report", "--year", "2024", "--format", "csv", "--out", str(out))
        assert code == 0
        with out.open(encoding="utf-8-sig", newline="") as fh:
            rows[name] = list(csv.DictReader(fh))
    assert len(rows["mid"]) == len(rows["first"]) == 1
    year = t("report.col.realized_year", "en")
    realized = query(warehouses["mid"], "SELECT realized_gain_kzt FROM estimate_results").item()
    for name in ("first", "mid"):
        assert float(rows[name][0][year]) == pytest.approx(realized, rel=1e-12)  # every post month is in 2024
    for column in ("effect", "ci_low", "ci_high", "annual_gain_kzt", "npv_kzt"):
        assert rows["mid"][0][headers[column]] == rows["first"][0][headers[column]], column


def test_the_pilot_page_marks_and_counts_from_june(warehouses: dict[str, Path]) -> None:
    # the pilot page's chart line and its realized gain start where the run's do (dashboards.pages.pilot.chart_go_live
    # reads the frequency the run priced with from the page's mart)
    from pilot_roi.economics import realized_gain_start

    con = connect(warehouses["mid"], read_only=True)
    try:
        pilot = q.pilot(con, "P-M", "en")
        row = q.pilot_estimates(con, "P-M", "en").row(0, named=True)
    finally:
        con.close()
    assert pilot is not None and pilot["first_go_live"] == date(2024, 6, 17)
    assert row["frequency"] == "monthly"
    diagnostics = json.loads(row["diagnostics"])
    assert diagnostics["design"]["first_go_live_used"] == "2024-06-01"
    assert realized_gain_start(diagnostics, pilot["first_go_live"], row["frequency"]) == JUNE
