"""Every metric frequency end to end: weekly, quarterly and yearly pilots through the real CLI on real DuckDB files.

The demo portfolio has only daily and monthly metrics; these are the frequencies it leaves out. The portfolio (one
warehouse per test module, a second one for the go-live comparison) mixes them:

- subsidiary FRQ, sites S01-S08; P-W: weekly downtime (h, lower is better) at S01 and S02 from Wednesday
  14 May 2025 (the week of Monday 12 May), 12 h a week less; P-Q: quarterly output (kt, higher is better) at S03
  from 20 May 2024 (the quarter of 1 April), 40 kt more; P-Y: yearly emissions (t, lower is better) at S04 from
  1 July 2023 (the year 2023), 400 t less. All three list S05-S08 as controls.
- subsidiary FR2, sites T01-T03, no controls at all: P-WS, weekly downtime at T01 from Thursday 6 March 2025 and T02
  from Sunday 15 June 2025 (staggered); P-QI, quarterly output at T03 from 15 August 2024 (the quarter of 1 July).
- daily and monthly metrics too, without pilots: the labels of their periods are checked at ingestion.

What a user expects, and what is checked: ingestion takes correctly labelled periods (long and wide layouts) and
refuses wrong ones in their language, naming the right label; `estimate` picks a method and says why in the
frequency's words; annual gain = effect × value × periods per year (365/7, 4, 1) × treated sites; realized gain
counts the periods from the one that holds the go-live; a go-live inside a period gives the estimate of a go-live on
its first day; the year-end report (CSV, XLSX, PDF) and the dashboard's data agree with the `estimates` view; the
data-quality summary expects Mondays, quarter starts and 1 Januarys; too little data is `insufficient_data` in words.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import fastexcel
import numpy as np
import polars as pl
import pytest
import xlsxwriter
from test_metamorphic_e2e import estimate, ingest, new_warehouse, query

from pilot_roi import dashboard_queries as q
from pilot_roi.cli import main
from pilot_roi.economics import (
    PERIODS_PER_YEAR,
    MetricValue,
    annual_gain_kzt,
    period_start,
    realized_gain_start,
)
from pilot_roi.i18n import t
from pilot_roi.ingest.quality import quality_report
from pilot_roi.reports.tables import ESTIMATE_FIELDS
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

LANGS = ("ru", "kk", "en")
FREQUENCY_OF = {"downtime_h": "weekly", "output_kt": "quarterly", "emissions_t": "yearly"}
VALUE_KZT = {"downtime_h": 50_000.0, "output_kt": 2_000_000.0, "emissions_t": 10_000.0}
HIGHER_IS_BETTER = {"downtime_h": False, "output_kt": True, "emissions_t": False}


@dataclass(frozen=True)
class Pilot:
    """A pilot of the portfolio: its metric, treated sites with the go-live inside a period (`go_live`) and the
    first day of that period (`period`), and its listed controls."""

    code: str
    metric: str
    go_live: dict[str, date]
    period: dict[str, date]
    controls: tuple[str, ...]
    subsidiary: str


CONTROLS = ("S05", "S06", "S07", "S08")
PILOTS = (
    Pilot("P-W", "downtime_h", {"S01": date(2025, 5, 14), "S02": date(2025, 5, 14)},
          {"S01": date(2025, 5, 12), "S02": date(2025, 5, 12)}, CONTROLS, "FRQ"),
    Pilot("P-Q", "output_kt", {"S03": date(2024, 5, 20)}, {"S03": date(2024, 4, 1)}, CONTROLS, "FRQ"),
    Pilot("P-Y", "emissions_t", {"S04": date(2023, 7, 1)}, {"S04": date(2023, 1, 1)}, CONTROLS, "FRQ"),
    Pilot("P-WS", "downtime_h", {"T01": date(2025, 3, 6), "T02": date(2025, 6, 15)},
          {"T01": date(2025, 3, 3), "T02": date(2025, 6, 9)}, (), "FR2"),
    Pilot("P-QI", "output_kt", {"T03": date(2024, 8, 15)}, {"T03": date(2024, 7, 1)}, (), "FR2"),
)  # fmt: skip
BY_CODE = {p.code: p for p in PILOTS}
WITH_CONTROLS = ("P-W", "P-Q", "P-Y")

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(100)]  # Mondays, 1 Jan 2024 to 24 Nov 2025
QUARTERS = [date(2019 + i // 4, 3 * (i % 4) + 1, 1) for i in range(28)]  # Q1 2019 to Q4 2025
YEARS = [date(2011 + i, 1, 1) for i in range(15)]  # 2011 to 2025
PERIODS = {"downtime_h": WEEKS, "output_kt": QUARTERS, "emissions_t": YEARS}
SITES_OF = {"FRQ": [f"S{i:02d}" for i in range(1, 9)], "FR2": ["T01", "T02", "T03"]}


def _site_lines() -> str:
    return "\n".join(
        f'  - {{code: {s}, subsidiary: {sub}, name: {{ru: "Объект {s}", kk: "Нысан {s}", en: "Site {s}"}}}}'
        for sub, sites in SITES_OF.items()
        for s in sites
    )


def _pilot_lines(on_period_start: bool) -> str:
    out = []
    for p in PILOTS:
        days = p.period if on_period_start else p.go_live
        sites = ", ".join(f"{{site: {s}, go_live: {d.isoformat()}}}" for s, d in days.items())
        controls = f"\n    controls: [{', '.join(p.controls)}]" if p.controls else ""
        out.append(f"""  - code: {p.code}
    name: {{ru: "Пилот {p.code}", kk: "{p.code} пилоты", en: "Pilot {p.code}"}}
    subsidiary: {p.subsidiary}
    use_case: predictive_maintenance
    sites: [{sites}]{controls}
    metrics: [{p.metric}]
    capex_kzt: 30000000
    opex_kzt_per_year: 2000000""")
    return "\n".join(out)


def registry(on_period_start: bool = False) -> str:
    """The portfolio's registry; `on_period_start`: every go-live moved to the first day of the period holding it."""
    return f"""
data_start: 2010-01-01
subsidiaries:
  - {{code: FRQ, name: {{ru: "Частота", kk: "Жиілік", en: "Frequency"}}, sector: energy}}
  - {{code: FR2, name: {{ru: "Частота-2", kk: "Жиілік-2", en: "Frequency 2"}}, sector: energy}}
sites:
{_site_lines()}
metrics:
  - {{code: downtime_h, name: {{ru: "Простой", kk: "Тоқтап тұру", en: "Downtime"}}, unit: h, frequency: weekly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: {VALUE_KZT["downtime_h"]:.0f}, min_value: 0}}
  - {{code: output_kt, name: {{ru: "Выпуск", kk: "Өнім", en: "Output"}}, unit: kt, frequency: quarterly,
     aggregation: sum, higher_is_better: true, value_kzt_per_unit: {VALUE_KZT["output_kt"]:.0f}, min_value: 0}}
  - {{code: emissions_t, name: {{ru: "Выбросы", kk: "Шығарындылар", en: "Emissions"}}, unit: t, frequency: yearly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: {VALUE_KZT["emissions_t"]:.0f}, min_value: 0}}
  - {{code: energy_gj, name: {{ru: "Энергия", kk: "Энергия", en: "Energy"}}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}}
  - {{code: water_m3, name: {{ru: "Вода", kk: "Су", en: "Water"}}, unit: m3, frequency: monthly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 300, min_value: 0}}
pilots:
{_pilot_lines(on_period_start)}
"""


_EFFECT = {"downtime_h": -12.0, "output_kt": 40.0, "emissions_t": -400.0}
_LEVEL = {"downtime_h": 100.0, "output_kt": 500.0, "emissions_t": 8000.0}
_NOISE = {"downtime_h": 3.0, "output_kt": 8.0, "emissions_t": 60.0}
_WALK = {"downtime_h": 1.0, "output_kt": 4.0, "emissions_t": 30.0}


def observations(seed: int = 3) -> pl.DataFrame:
    """Level + a random walk the sites of a subsidiary share (none at FR2, whose pilots have no controls) + noise +
    the effect from the first treated period (the one that holds the go-live) on."""
    rng = np.random.default_rng(seed)
    frames = []
    for metric, periods in PERIODS.items():
        pilots = [p for p in PILOTS if p.metric == metric]
        for subsidiary in ("FRQ", "FR2"):
            in_sub = [p for p in pilots if p.subsidiary == subsidiary]
            if not in_sub:
                continue
            sites = [s for p in in_sub for s in p.period] + [s for s in in_sub[0].controls]
            walk = np.cumsum(rng.normal(0, _WALK[metric], len(periods))) if subsidiary == "FRQ" else 0.0
            for k, site in enumerate(sites):
                value = _LEVEL[metric] + 10.0 * k + walk + rng.normal(0, _NOISE[metric], len(periods))
                start = next((p.period[site] for p in in_sub if site in p.period), None)
                if start is not None:
                    value = value + _EFFECT[metric] * np.array([d >= start for d in periods])
                frames.append(
                    pl.DataFrame({"site_code": site, "metric_code": metric, "period": periods, "value": value})
                )
    return pl.concat(frames).with_columns(pl.col("value").round(6))


def cli_in(lang: str, warehouse: Path, *args: str) -> tuple[int, str]:
    """`pilot-roi --warehouse WAREHOUSE --lang LANG ARGS...` in this process: (exit code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--warehouse", str(warehouse), "--lang", lang, *args])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two estimated warehouses, the same file loaded into each: go-lives inside their periods ("mid") and on the
    first day of those periods ("start")."""
    folder = tmp_path_factory.mktemp("frequencies")
    data = folder / "all.csv"
    observations().write_csv(data)
    out = {}
    for name, on_start in (("mid", False), ("start", True)):
        path = new_warehouse(folder / name, registry(on_start))
        ingest(path, data)
        estimate(path)
        out[name] = path
    return out


@pytest.fixture(scope="module")
def blank_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portfolio's registry without a single observation."""
    return new_warehouse(tmp_path_factory.mktemp("labels") / "blank", registry())


@pytest.fixture
def blank(blank_file: Path, tmp_path: Path) -> Path:
    """A copy of the empty warehouse for this test: for what ingestion accepts and refuses."""
    target = tmp_path / "blank.duckdb"
    shutil.copyfile(blank_file, target)
    return target


def _results(warehouse: Path) -> dict[str, dict[str, Any]]:
    rows = query(warehouse, "SELECT * FROM estimate_results WHERE run_id = (SELECT max(run_id) FROM estimate_runs)")
    return {r["pilot_code"]: r for r in rows.to_dicts()}


def _counterfactual(warehouse: Path, pilot: str) -> pl.DataFrame:
    sql = (
        "SELECT period, observed, counterfactual FROM estimate_counterfactuals WHERE pilot_code = '{}' "
        "AND run_id = (SELECT max(run_id) FROM estimate_runs) ORDER BY period"
    )
    return query(warehouse, sql.format(pilot))


def _gap_kzt(path: pl.DataFrame, pilot: Pilot, n_treated: int, start: date, end: date | None = None) -> float:
    """Σ (observed − counterfactual) × direction × value × treated sites over the periods from `start` (to `end`)."""
    post = path.filter((pl.col("period") >= start) & (pl.col("period") <= (end or date.max)))
    sign = 1.0 if HIGHER_IS_BETTER[pilot.metric] else -1.0
    return float((post["observed"] - post["counterfactual"]).sum()) * sign * VALUE_KZT[pilot.metric] * n_treated


# --- 1. ingestion: correctly labelled periods load, wrong ones are refused in words ---------------------------


@pytest.mark.parametrize(
    ("metric", "site", "written", "stored"),
    [
        ("downtime_h", "S01", "2025-05-12", date(2025, 5, 12)),  # a Monday
        ("downtime_h", "S01", "12.05.2025", date(2025, 5, 12)),
        ("output_kt", "S03", "2024-04-01", date(2024, 4, 1)),
        ("output_kt", "S03", "01.10.2024", date(2024, 10, 1)),
        ("output_kt", "S03", "2024-07", date(2024, 7, 1)),  # the quarter's first month, as the warehouse labels it
        ("emissions_t", "S04", "2023", date(2023, 1, 1)),
        ("emissions_t", "S04", "01.01.2023", date(2023, 1, 1)),
        ("water_m3", "S05", "03.2024", date(2024, 3, 1)),
    ],
)
def test_a_correctly_labelled_period_loads_on_the_first_day_of_its_period(
    blank: Path, tmp_path: Path, metric: str, site: str, written: str, stored: date
) -> None:
    file = tmp_path / "one.csv"
    file.write_text(f"site_code,metric_code,period,value\n{site},{metric},{written},12.5\n", encoding="utf-8")
    code, out = cli_in("en", blank, "ingest", str(file), "--format", "json")
    document = json.loads(out)
    assert (code, document["status"], document["rows_inserted"]) == (0, "loaded", 1), document["errors"]
    assert query(blank, "SELECT site_code, metric_code, period, value FROM observations").rows() == [
        (site, metric, stored, 12.5)
    ]


_REFUSED = [
    # (metric, site, written, message key, detail): the period does not fit the metric's frequency
    ("downtime_h", "S01", "2025-05-14", "ingest.period_not_weekly", "2025-05-12"),  # a Wednesday
    ("downtime_h", "S01", "18.05.2025", "ingest.period_not_weekly", "2025-05-12"),  # a Sunday
    ("output_kt", "S03", "2024-02-01", "ingest.period_not_quarterly", "2024-01-01"),
    ("output_kt", "S03", "15.05.2024", "ingest.period_not_quarterly", "2024-04-01"),
    ("emissions_t", "S04", "2024-07-01", "ingest.period_not_yearly", "2024-01-01"),
    # a whole year or month given for a metric with shorter periods: its first day fits the grid, so before the fix
    # the year's (month's) total loaded silently as the value of 1 January's day, week, month or quarter
    ("output_kt", "S03", "2024", "ingest.period_year_for_quarterly", ""),
    ("water_m3", "S05", "2024", "ingest.period_year_for_monthly", ""),
    ("downtime_h", "S01", "2024", "ingest.period_year_for_weekly", ""),
    ("energy_gj", "S05", "2024", "ingest.period_year_for_daily", ""),
    ("downtime_h", "S01", "2024-01", "ingest.period_month_for_weekly", ""),  # 1 January 2024 is a Monday
    ("energy_gj", "S05", "03.2024", "ingest.period_month_for_daily", ""),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("metric", "site", "written", "key", "detail"), _REFUSED)
def test_a_wrongly_labelled_period_is_refused_in_words_and_nothing_loads(
    blank: Path, tmp_path: Path, lang: str, metric: str, site: str, written: str, key: str, detail: str
) -> None:
    file = tmp_path / "bad.csv"
    good = {"downtime_h": "2025-05-12", "output_kt": "2024-04-01", "emissions_t": "2023-01-01",
            "water_m3": "2024-05-01", "energy_gj": "2024-02-15"}[metric]  # fmt: skip
    file.write_text(
        f"site_code,metric_code,period,value\n{site},{metric},{good},10\n{site},{metric},{written},11\n",
        encoding="utf-8",
    )
    code, out = cli_in(lang, blank, "ingest", str(file), "--format", "json")
    document = json.loads(out)
    assert (code, document["status"], document["rows_inserted"], document["rows_rejected"]) == (1, "rejected", 0, 1)
    [error] = document["errors"]
    assert (error["line"], error["column"], error["value"]) == (3, "period", written)
    assert error["message"] == t(key, lang, value=written, detail=detail, column="period")
    assert written in error["message"] and "{" not in error["message"]
    assert query(blank, "SELECT count(*) AS n FROM observations")["n"][0] == 0


def test_wide_files_with_week_quarter_and_year_columns_load_as_the_long_file_does(blank: Path, tmp_path: Path) -> None:
    # the wide layout of each frequency as engineers write it: week columns dated on Mondays (dd.mm.yyyy, and as
    # Excel date cells), quarter columns on their first day or first month, year columns as the year alone
    weekly = tmp_path / "weekly.xlsx"
    mondays = [date(2025, 5, 12) + timedelta(weeks=i) for i in range(3)]
    workbook = xlsxwriter.Workbook(str(weekly))
    sheet = workbook.add_worksheet("Данные")
    day = workbook.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, ["Код объекта", "Код показателя"])
    for col, monday in enumerate(mondays, start=2):
        sheet.write_datetime(0, col, monday, day)
    sheet.write_row(1, 0, ["S01", "downtime_h", 101.5, 99.25, 98.0])
    workbook.close()
    quarterly = tmp_path / "quarterly.csv"
    quarterly.write_text("Нысан коды;Көрсеткіш коды;2024-01-01;04.2024;01.07.2024\nS03;output_kt;510,5;520;530\n",
                         encoding="utf-8")  # fmt: skip
    yearly = tmp_path / "yearly.csv"
    yearly.write_text("site_code,metric_code,2022,2023,2024\nS04,emissions_t,8100,8050.5,7700\n", encoding="utf-8")
    expected = {
        weekly.name: [("S01", "downtime_h", d, v) for d, v in zip(mondays, (101.5, 99.25, 98.0), strict=True)],
        quarterly.name: [("S03", "output_kt", date(2024, m, 1), v) for m, v in ((1, 510.5), (4, 520.0), (7, 530.0))],
        yearly.name: [("S04", "emissions_t", date(y, 1, 1), v) for y, v in ((2022, 8100.0), (2023, 8050.5),
                                                                            (2024, 7700.0))],
    }  # fmt: skip
    warehouse = blank
    for file in (weekly, quarterly, yearly):
        report = ingest(warehouse, file)
        assert (report["status"], report["rows_inserted"]) == ("loaded", 3), file.name
        sql = (
            "SELECT o.site_code, o.metric_code, o.period, o.value FROM observations AS o JOIN uploads AS u "
            f"USING (upload_id) WHERE u.file_name = '{file.name}' ORDER BY o.period"
        )
        assert query(warehouse, sql).rows() == expected[file.name], file.name

    wrong = tmp_path / "wide_wrong.csv"  # a Sunday among the weeks: the column is named
    wrong.write_text("site_code,metric_code,12.05.2025,18.05.2025\nS01,downtime_h,1,2\n", encoding="utf-8")
    code, out = cli_in("ru", warehouse, "ingest", str(wrong), "--format", "json")
    [error] = json.loads(out)["errors"]
    assert code == 1 and error["column"] == "18.05.2025"
    assert error["message"] == t("ingest.period_not_weekly", "ru", value="18.05.2025", detail="2025-05-12")


# --- 2. estimates: method, periods, money -------------------------------------------------------------------


def test_periods_per_year_are_the_calendars_and_a_weeks_gain_is_seven_days_gain() -> None:
    # PRODUCT.md: annual gain = effect per site-period × value × periods per year × treated sites. A year has
    # 365/7 = 52.14 weeks (not 52: that would price a weekly pilot 0.27% below the same pilot measured daily)
    assert PERIODS_PER_YEAR == {"daily": 365.0, "weekly": 365.0 / 7.0, "monthly": 12.0, "quarterly": 4.0,
                                "yearly": 1.0}  # fmt: skip
    daily = annual_gain_kzt(-3.0, MetricValue(50_000.0, False, "daily"), 2)
    weekly = annual_gain_kzt(-21.0, MetricValue(50_000.0, False, "weekly"), 2)
    assert weekly == pytest.approx(daily, rel=1e-15) and daily == pytest.approx(3.0 * 50_000.0 * 365.0 * 2)
    assert annual_gain_kzt(40.0, MetricValue(2e6, True, "quarterly"), 3) == 40.0 * 2e6 * 4 * 3
    assert annual_gain_kzt(-400.0, MetricValue(1e4, False, "yearly"), 1) == 400.0 * 1e4


_N_POST = {"P-W": 29, "P-Q": 7, "P-Y": 3, "P-QI": 6}  # periods from the one holding the go-live to the last
_N_PRE = {"P-W": 71, "P-Q": 21, "P-Y": 12, "P-QI": 22}
_WORD = {"downtime_h": "weeks", "output_kt": "quarters", "emissions_t": "years"}


@pytest.mark.parametrize("code", [p.code for p in PILOTS])
def test_each_frequency_is_estimated_from_the_period_holding_the_go_live_and_priced_by_its_periods_per_year(
    portfolio: dict[str, Path], code: str
) -> None:
    pilot = BY_CODE[code]
    row = _results(portfolio["mid"])[code]
    assert row["status"] == "ok", (row["reason"], row["summary"])
    assert row["frequency"] == FREQUENCY_OF[pilot.metric]
    assert row["n_treated"] == len(pilot.go_live)
    assert row["n_controls"] == len(pilot.controls)
    assert row["method"] == ("did" if pilot.controls else "its")
    if code in _N_POST:
        assert (row["n_pre_periods"], row["n_post_periods"]) == (_N_PRE[code], _N_POST[code])
    if pilot.controls:
        # the reason counts the periods in the frequency's own words, not as "periods"
        assert f"{_N_PRE[code]} {_WORD[pilot.metric]} before go-live" in row["method_reason"]
        assert row["grade"] == "demonstrated"
        sign = 1.0 if HIGHER_IS_BETTER[pilot.metric] else -1.0
        assert sign * row["effect"] > 0 and sign * row["ci_high" if sign < 0 else "ci_low"] > 0
    diagnostics = json.loads(row["diagnostics"])
    first = min(pilot.period.values())
    assert diagnostics["design"]["first_go_live_used"] == first.isoformat()

    # annual gain = effect × value × periods per year × treated sites, beneficial positive
    sign = 1.0 if HIGHER_IS_BETTER[pilot.metric] else -1.0
    per_year = PERIODS_PER_YEAR[FREQUENCY_OF[pilot.metric]]
    expected = sign * row["effect"] * VALUE_KZT[pilot.metric] * per_year * row["n_treated"]
    assert row["annual_gain_kzt"] == pytest.approx(expected, rel=1e-12)
    assert row["annual_gain_ci_low"] < row["annual_gain_kzt"] < row["annual_gain_ci_high"]

    # realized gain: the gap of every period from the one holding the earliest go-live, that period included
    path = _counterfactual(portfolio["mid"], code)
    start = realized_gain_start(diagnostics, min(pilot.go_live.values()), row["frequency"])
    assert start == first == period_start(min(pilot.go_live.values()), row["frequency"])
    assert row["realized_gain_kzt"] == pytest.approx(_gap_kzt(path, pilot, row["n_treated"], start), rel=1e-9)
    if code in _N_POST:
        assert path.filter(pl.col("period") >= start).height == _N_POST[code]
        # the period holding the go-live weighs: at least a fifth of an average post period's gap
        gap = _gap_kzt(path, pilot, row["n_treated"], first, first)
        assert abs(gap) > 0.2 * abs(row["realized_gain_kzt"]) / _N_POST[code]


def test_a_go_live_inside_a_week_quarter_or_year_gives_the_estimate_of_a_go_live_on_its_first_day(
    portfolio: dict[str, Path],
) -> None:
    mid, start = _results(portfolio["mid"]), _results(portfolio["start"])
    assert sorted(mid) == sorted(start) == sorted(BY_CODE)
    same = ("status", "method", "method_reason", "effect", "se", "ci_low", "ci_high", "p_value", "effect_pct",
            "pre_trend_p", "mde", "grade", "n_treated", "n_controls", "n_pre_periods", "n_post_periods",
            "annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high", "npv_kzt", "roi", "payback_months",
            "realized_gain_kzt")  # fmt: skip
    for code in BY_CODE:
        for column in same:
            assert mid[code][column] == start[code][column], (code, column)
        assert _counterfactual(portfolio["mid"], code).equals(_counterfactual(portfolio["start"], code)), code
    gains = {}
    for name, warehouse in portfolio.items():
        con = connect(warehouse, read_only=True)
        try:
            gains[name] = q.realized_gain(con)
        finally:
            con.close()
    assert gains["mid"].equals(gains["start"])


# --- 3. the year-end report and the dashboard say what the estimates view says ------------------------------


def _headers() -> dict[str, str]:
    return {f.id: f.column("en").header for f in ESTIMATE_FIELDS}


_VIEW_COLUMNS = ("effect", "ci_low", "ci_high", "annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high",
                 "npv_kzt", "roi", "payback_months")  # fmt: skip


@pytest.mark.parametrize("year", [2024, 2025])
def test_the_year_report_in_csv_xlsx_and_pdf_agrees_with_the_estimates_view_and_counts_the_years_periods(
    portfolio: dict[str, Path], tmp_path: Path, year: int
) -> None:
    warehouse = portfolio["mid"]
    view = {r["pilot_code"]: r for r in query(warehouse, "SELECT * FROM estimates").to_dicts()}
    results = _results(warehouse)
    headers = _headers()
    files = {}
    for fmt in ("csv", "xlsx", "pdf"):
        files[fmt] = tmp_path / f"report_{year}.{fmt}"
        code, _ = cli_in("en", warehouse, "report", "--year", str(year), "--format", fmt, "--out", str(files[fmt]))
        assert code == 0, fmt
    assert files["pdf"].read_bytes()[:5] == b"%PDF-"
    with files["csv"].open(encoding="utf-8-sig", newline="") as fh:
        from_csv = {r[headers["pilot_code"]]: r for r in csv.DictReader(fh)}
    numbers = {headers[c]: "float" for c in (*_VIEW_COLUMNS, "realized_gain_year", "realized_gain_to_date")}
    workbook = fastexcel.read_excel(files["xlsx"].read_bytes())
    name = t("report.section.estimates", "en")[:31]
    sheet = workbook.load_sheet(name, header_row=3, dtypes=numbers).to_polars()
    from_xlsx = {r[headers["pilot_code"]]: r for r in sheet.to_dicts()}

    # a pilot is in the year's report once its first go-live is on or before 31 December (P-W, P-WS: 2025)
    live = {p.code for p in PILOTS if min(p.go_live.values()) <= date(year, 12, 31)}
    assert set(from_csv) == set(from_xlsx) == live
    for code in live:
        pilot, want = BY_CODE[code], view[code]
        for column in _VIEW_COLUMNS:
            if not math.isfinite(want[column]):  # a payback that never comes is written in words
                continue
            assert float(from_csv[code][headers[column]]) == want[column], (code, column)
            assert from_xlsx[code][headers[column]] == pytest.approx(want[column], rel=5e-16), (code, column)
        row = results[code]
        path = _counterfactual(warehouse, code)
        start = max(min(pilot.period.values()), date(year, 1, 1))
        in_year = path.filter((pl.col("period") >= start) & (pl.col("period") <= date(year, 12, 31)))
        realized_year = from_csv[code][headers["realized_gain_year"]]
        if in_year.height == 0:
            assert realized_year == ""
            continue
        expected = _gap_kzt(path, pilot, row["n_treated"], start, date(year, 12, 31))
        assert float(realized_year) == pytest.approx(expected, rel=1e-9), code
        assert from_xlsx[code][headers["realized_gain_year"]] == pytest.approx(expected, rel=1e-9), code
        assert float(from_csv[code][headers["realized_gain_to_date"]]) == row["realized_gain_kzt"]
    # a reviewer can redo every annual gain from the report's own columns: effect × value × periods × sites
    for code in live:
        got = from_csv[code]
        metric = BY_CODE[code].metric
        assert got[headers["frequency"]] == t(f"dash.admin.form.frequency.{FREQUENCY_OF[metric]}", "en")
        sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
        redone = (sign * float(got[headers["effect"]]) * float(got[headers["value_kzt_per_unit"]])
                  * float(got[headers["periods_per_year"]]) * float(got[headers["n_treated"]]))  # fmt: skip
        assert redone == pytest.approx(float(got[headers["annual_gain_kzt"]]), rel=1e-12), code
    pdf_text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True).stdout
    assert " ".join(t("report.col.gain_terms", "en").split()) in " ".join(pdf_text.split())
    # the yearly pilot counts one period a year, the quarterly one the year's quarters from its go-live's
    if year == 2024:
        assert _counterfactual(warehouse, "P-Y").filter(pl.col("period").dt.year() == 2024).height == 1
        quarters = _counterfactual(warehouse, "P-Q").filter(
            (pl.col("period") >= date(2024, 4, 1)) & (pl.col("period").dt.year() == 2024)
        )
        assert quarters["period"].to_list() == [date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1)]


def test_the_dashboard_shows_the_runs_numbers_and_realized_gain_from_the_period_holding_the_go_live(
    portfolio: dict[str, Path],
) -> None:
    warehouse = portfolio["mid"]
    results = _results(warehouse)
    con = connect(warehouse, read_only=True)
    try:
        monthly = q.realized_gain(con)
        pages = {}
        for code in BY_CODE:
            pilot_row = q.pilot(con, code, "en")
            assert pilot_row is not None
            pages[code] = (pilot_row, q.pilot_estimates(con, code, "en").row(0, named=True))
        board = q.portfolio(con, "en").to_dicts()
    finally:
        con.close()
    demonstrated = [r for r in results.values() if r["grade"] == "demonstrated"]
    assert {r["pilot_code"] for r in demonstrated} >= set(WITH_CONTROLS)
    assert float(monthly["gain_kzt"].sum()) == pytest.approx(sum(r["realized_gain_kzt"] for r in demonstrated),
                                                             rel=1e-12)  # fmt: skip
    # each month of the chart: the gaps of the periods that start in it (a year's gap in January)
    expected: dict[date, float] = {}
    for r in demonstrated:
        pilot = BY_CODE[r["pilot_code"]]
        path = _counterfactual(warehouse, pilot.code).filter(pl.col("period") >= min(pilot.period.values()))
        for period in path["period"].to_list():
            month = period.replace(day=1)
            expected[month] = expected.get(month, 0.0) + _gap_kzt(path, pilot, r["n_treated"], period, period)
    assert monthly["month"].to_list() == sorted(expected)
    for month, gain in zip(monthly["month"].to_list(), monthly["gain_kzt"].to_list(), strict=True):
        assert gain == pytest.approx(expected[month], rel=1e-9, abs=1e-6), month
    assert monthly.filter(pl.col("month") < date(2023, 1, 1)).height == 0  # P-Y: from 2023, not 2024

    for code, (pilot_row, estimate_row) in pages.items():
        pilot, run_row = BY_CODE[code], results[code]
        assert pilot_row["first_go_live"] == min(pilot.go_live.values())
        assert estimate_row["frequency"] == FREQUENCY_OF[pilot.metric]
        for column in ("effect", "annual_gain_kzt", "realized_gain_kzt", "n_treated", "method", "grade"):
            assert estimate_row[column] == run_row[column], (code, column)
        # the chart's go-live line and the realized gain start at the period holding the go-live
        start = realized_gain_start(json.loads(estimate_row["diagnostics"]), pilot_row["first_go_live"],
                                    estimate_row["frequency"])  # fmt: skip
        assert start == min(pilot.period.values()), code
    for row in board:
        assert row["annual_gain_kzt"] == results[row["pilot_code"]]["annual_gain_kzt"]


# --- 4. too little data: insufficient_data in words, never a number -----------------------------------------


def test_too_few_weeks_quarters_or_years_give_insufficient_data_in_words_and_no_number(tmp_path: Path) -> None:
    # P-W: data end in the week of go-live (one post week; two needed); P-QI: two quarters before go-live and no
    # controls (the own-history forecast needs eight); P-Y: the yearly data start in the go-live's year (no pre-period)
    rng = np.random.default_rng(9)
    frames = []
    spans = {
        "P-W": [date(2025, 1, 6) + timedelta(weeks=i) for i in range(19)],  # to Monday 12 May 2025
        "P-QI": QUARTERS[-8:],  # Q1 2024 ..
        "P-Y": YEARS[-3:],  # 2023 ..
    }
    for code, periods in spans.items():
        pilot = BY_CODE[code]
        for site in [*pilot.go_live, *pilot.controls]:
            value = _LEVEL[pilot.metric] + rng.normal(0, _NOISE[pilot.metric], len(periods))
            frames.append(pl.DataFrame({"site_code": site, "metric_code": pilot.metric, "period": periods,
                                        "value": value}))  # fmt: skip
    data = tmp_path / "short.csv"
    pl.concat(frames).with_columns(pl.col("value").round(6)).write_csv(data)
    warehouse = new_warehouse(tmp_path / "short", registry())
    ingest(warehouse, data)
    estimate(warehouse)
    results = _results(warehouse)
    reasons = {
        "P-W": "insufficient_post_periods",
        "P-QI": "insufficient_pre_periods",
        "P-Y": "insufficient_pre_periods",
    }
    for code, reason in reasons.items():
        row = results[code]
        assert (row["status"], row["reason"], row["grade"]) == ("insufficient_data", reason, "insufficient_data"), code
        for column in ("effect", "ci_low", "ci_high", "p_value", "annual_gain_kzt", "npv_kzt", "realized_gain_kzt"):
            assert row[column] is None or math.isnan(row[column]), (code, column)
    for lang in LANGS:
        code, text = cli_in(lang, warehouse, "estimate", "--workers", "1", "--force")
        assert code == 0 and "Traceback" not in text
        for pilot_code, reason in reasons.items():
            line = next(x for x in text.splitlines() if x.startswith(f"{pilot_code} /"))
            assert t(f"estimation.reason.{reason}", lang) in line, (lang, line)


# --- 5. the data-quality summary expects Mondays, quarter starts and 1 Januarys ------------------------------


def test_the_quality_summary_counts_expected_and_missing_periods_by_frequency(tmp_path: Path) -> None:
    weeks = [d for i, d in enumerate(WEEKS[:10]) if i not in (3, 4)]  # 22 and 29 January 2024 missing
    quarters = [date(2023, 1, 1), date(2023, 4, 1), date(2023, 10, 1), date(2024, 1, 1)]  # Q3 2023 missing
    years = [date(2018, 1, 1), date(2019, 1, 1), date(2022, 1, 1)]  # 2020 and 2021 missing
    rows = ([("S01", "downtime_h", d, 10.0 + i) for i, d in enumerate(weeks)]
            + [("S03", "output_kt", d, 500.0 + i) for i, d in enumerate(quarters)]
            + [("S04", "emissions_t", d, 8000.0 + i) for i, d in enumerate(years)])  # fmt: skip
    data = tmp_path / "gaps.csv"
    pl.DataFrame(rows, schema=["site_code", "metric_code", "period", "value"], orient="row").write_csv(data)
    warehouse = new_warehouse(tmp_path / "gaps", registry())
    ingest(warehouse, data)

    want = {  # (site, metric): (expected, missing periods)
        ("S01", "downtime_h"): (10, [date(2024, 1, 22), date(2024, 1, 29)]),
        ("S03", "output_kt"): (5, [date(2023, 7, 1)]),
        ("S04", "emissions_t"): (5, [date(2020, 1, 1), date(2021, 1, 1)]),
    }
    con = connect(warehouse, read_only=True)
    try:
        live = quality_report(con)
        summary = con.sql("SELECT site_code, metric_code, frequency, n_observed, n_expected, n_missing "
                          "FROM quality_pair_summary ORDER BY ALL").pl()  # fmt: skip
        monthly = con.sql("SELECT * FROM quality_monthly_summary ORDER BY ALL").pl()
        page = q.quality(con, "FRQ")
    finally:
        con.close()
    for (site, metric), (n_expected, missing) in want.items():
        [stored] = summary.filter((pl.col("site_code") == site) & (pl.col("metric_code") == metric)).to_dicts()
        assert stored["frequency"] == FREQUENCY_OF[metric]
        assert (stored["n_expected"], stored["n_missing"]) == (n_expected, len(missing)), (site, metric)
        [report] = live.coverage.filter(pl.col("metric_code") == metric).to_dicts()
        assert (report["n_expected"], report["n_missing"]) == (n_expected, len(missing)), metric
        gaps = live.missing.filter(pl.col("metric_code") == metric)["period"].to_list()
        assert gaps == missing, metric
        [shown] = page.missing.filter(pl.col("metric_code") == metric).to_dicts()
        assert shown["n_missing"] == len(missing)
    # a quarter or a year is expected once, in the month it starts: never "2 of 3 months missing"
    for metric, months in (("output_kt", {1, 4, 7, 10}), ("emissions_t", {1})):
        rows_of = monthly.filter(pl.col("metric_code") == metric)
        assert set(rows_of["month"].dt.month().to_list()) <= months
        assert set(rows_of["n_expected"].to_list()) == {1}
    weekly = monthly.filter(pl.col("metric_code") == "downtime_h")
    assert dict(
        zip(weekly["month"].to_list(), zip(weekly["n_expected"], weekly["n_observed"], strict=True), strict=True)
    ) == {date(2024, 1, 1): (5, 3), date(2024, 2, 1): (4, 4), date(2024, 3, 1): (1, 1)}
    coverage = page.coverage.filter(pl.col("site_code") == "S03")
    assert coverage.filter(pl.col("month") == date(2023, 7, 1))["coverage"].to_list() == [0.0]
    assert coverage.filter(pl.col("month") != date(2023, 7, 1))["coverage"].unique().to_list() == [1.0]


# --- 6. a yearly or quarterly pilot with one or two controls: the calendar position does not move it ---------

_FEW_CONTROLS = """
data_start: 2000-01-01
subsidiaries:
  - {{code: FEW, name: {{ru: "Мало", kk: "Аз", en: "Few"}}, sector: energy}}
sites:
{sites}
metrics:
  - {{code: emissions_t, name: {{ru: "Выбросы", kk: "Шығарындылар", en: "Emissions"}}, unit: t, frequency: yearly,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 10000, min_value: 0}}
  - {{code: output_kt, name: {{ru: "Выпуск", kk: "Өнім", en: "Output"}}, unit: kt, frequency: quarterly,
     aggregation: sum, higher_is_better: true, value_kzt_per_unit: 2000000, min_value: 0}}
pilots:
  - code: P-YH
    name: {{ru: "Годовой", kk: "Жылдық", en: "Yearly"}}
    subsidiary: FEW
    use_case: energy_optimization
    sites: [{{site: F01, go_live: {year_go_live}}}]
    controls: [F02, F03]
    metrics: [emissions_t]
    capex_kzt: 10000000
    opex_kzt_per_year: 0
  - code: P-QH
    name: {{ru: "Квартальный", kk: "Тоқсандық", en: "Quarterly"}}
    subsidiary: FEW
    use_case: process_optimization
    sites: [{{site: F04, go_live: {quarter_go_live}}}]
    controls: [F05, F06]
    metrics: [output_kt]
    capex_kzt: 10000000
    opex_kzt_per_year: 0
"""


def test_a_yearly_or_quarterly_pilot_with_two_controls_gives_the_same_estimate_wherever_the_leap_years_fall(
    tmp_path: Path,
) -> None:
    # one treated site and two controls: intervals from the treated-minus-control series (HAR), whose annual
    # harmonics were computed from the day of the year. Years and quarters labelled on their first day drift by a
    # quarter of a day a year against that phase, so the harmonics became a spurious leap-year regressor (and sin
    # of the second harmonic on quarters a near-zero column): the same yearly pilot two years later had a 95% CI
    # of [-34.2, 53.9] instead of [-12.2, 31.9], and the same quarterly pilot a different effect
    sites = "\n".join(
        f'  - {{code: F0{i}, subsidiary: FEW, name: {{ru: "Объект {i}", kk: "Нысан {i}", en: "Site {i}"}}}}'
        for i in range(1, 7)
    )
    rng = np.random.default_rng(21)
    shapes = {}
    for metric, n, first_post, level, effect, noise in (("emissions_t", 15, 12, 8000.0, -400.0, 60.0),
                                                        ("output_kt", 28, 21, 500.0, 40.0, 8.0)):  # fmt: skip
        walk = np.cumsum(rng.normal(0, noise, n))
        shapes[metric] = [level + 10.0 * k + walk + rng.normal(0, noise, n) + effect * (np.arange(n) >= first_post)
                          * (k == 0) for k in range(3)]  # fmt: skip
    results = {}
    for shift in (0, 2):  # the same series two years later
        years = [date(2008 + shift + i, 1, 1) for i in range(15)]
        quarters = [date(2015 + shift + i // 4, 3 * (i % 4) + 1, 1) for i in range(28)]
        frames = []
        for metric, periods, names in (("emissions_t", years, ("F01", "F02", "F03")),
                                       ("output_kt", quarters, ("F04", "F05", "F06"))):  # fmt: skip
            for site, values in zip(names, shapes[metric], strict=True):
                frames.append(pl.DataFrame({"site_code": site, "metric_code": metric, "period": periods,
                                            "value": values}))  # fmt: skip
        folder = tmp_path / f"shift{shift}"
        yaml = _FEW_CONTROLS.format(sites=sites, year_go_live=date(2020 + shift, 7, 1).isoformat(),
                                    quarter_go_live=date(2020 + shift, 5, 20).isoformat())  # fmt: skip
        warehouse = new_warehouse(folder, yaml)
        data = folder / "few.csv"
        pl.concat(frames).with_columns(pl.col("value").round(6)).write_csv(data)
        ingest(warehouse, data)
        estimate(warehouse)
        results[shift] = _results(warehouse)
    for code in ("P-YH", "P-QH"):
        before, after = results[0][code], results[2][code]
        assert before["status"] == "ok" and before["method"] == "did", before["reason"]
        # since 2026-11-28 yearly and quarterly series take GLS with AR(1) errors, whose seasons follow the grid
        assert "treated-minus-control series" in json.loads(before["diagnostics"])["inference"]
        assert (before["n_pre_periods"], before["n_post_periods"]) == (after["n_pre_periods"], after["n_post_periods"])
        for column in ("effect", "ci_low", "ci_high", "p_value", "annual_gain_kzt", "annual_gain_ci_low",
                       "annual_gain_ci_high"):  # fmt: skip
            assert after[column] == pytest.approx(before[column], rel=1e-9, abs=1e-9), (code, column)
        warnings = json.loads(before["diagnostics"]).get("warnings", [])
        assert not [w for w in warnings if "rank-deficient" in w], (code, warnings)
