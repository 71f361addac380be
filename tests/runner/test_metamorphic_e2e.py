"""End-to-end metamorphic checks: relations between runs of the real CLI on real DuckDB files that must hold.

An auditor does not know the true effect of a pilot, but knows what must *not* move it: the same rows delivered
in another order, split into two files, as XLSX instead of CSV, uploaded twice, or restated to the same values
must give the same estimates bit for bit; a tenge value or a discount rate must move only the money, exactly as
PRODUCT.md's formulas say; a restatement of one site must re-estimate only what reads that site; an unchanged
warehouse must estimate nothing new; and the year-end report must say what the public views say.

Every step goes through `pilot_roi.cli.main` (the console script's entry point) on a warehouse in a temporary
folder. The portfolio is small so that one estimate run takes about a second: one subsidiary (MTA), six sites,
two daily metrics over January-May 2024, and two pilots:
- P-A: S01 and S02 from 2024-04-01, on energy (lower is better, falls by 40 GJ) and output (higher is better,
  rises by 6 t); default controls, which leave out S03 (P-B treats it): S04-S06.
- P-B: S03 from 2024-04-15, on energy, no effect; listed controls S04-S06.
Values carry 12 decimals, as numbers computed in a spreadsheet (a mean, a unit conversion) do.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import fastexcel
import numpy as np
import polars as pl
import pytest

from pilot_roi.cli import main
from pilot_roi.economics import annuity_factor
from pilot_roi.i18n import t
from pilot_roi.reports.tables import ESTIMATE_FIELDS
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

SITES = [f"S{i:02d}" for i in range(1, 7)]
START = date(2024, 1, 1)
N_DAYS = 152  # January to May 2024
GO_LIVE = {"S01": date(2024, 4, 1), "S02": date(2024, 4, 1), "S03": date(2024, 4, 15)}
EFFECT = {"energy_gj": -40.0, "output_t": 6.0}
LEVEL = {"energy_gj": 1000.0, "output_t": 300.0}
ENERGY_KZT, OUTPUT_KZT = 4200.0, 15000.0
CAPEX = {"P-A": 50_000_000.0, "P-B": 20_000_000.0}
OPEX = {"P-A": 5_000_000.0, "P-B": 1_000_000.0}
KEYS = [("P-A", "energy_gj"), ("P-A", "output_t"), ("P-B", "energy_gj")]

_SITE_LINES = "\n".join(
    f'  - {{code: {s}, subsidiary: MTA, name: {{ru: "Объект {s}", kk: "Нысан {s}", en: "Site {s}"}}}}' for s in SITES
)


def registry_yaml(energy_kzt: float = ENERGY_KZT, output_kzt: float = OUTPUT_KZT) -> str:
    """The portfolio's registry, with the two metrics' tenge values as given."""
    return f"""
data_start: 2023-01-01
subsidiaries:
  - {{code: MTA, name: {{ru: "Метаморф", kk: "Метаморф", en: "Metamorph"}}, sector: energy}}
sites:
{_SITE_LINES}
metrics:
  - {{code: energy_gj, name: {{ru: "Энергия", kk: "Энергия", en: "Energy use"}}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: {energy_kzt}, min_value: 0}}
  - {{code: output_t, name: {{ru: "Выпуск", kk: "Өнім", en: "Output"}}, unit: t, frequency: daily,
     aggregation: sum, higher_is_better: true, value_kzt_per_unit: {output_kzt}, min_value: 0}}
pilots:
  - code: P-A
    name: {{ru: "Пилот А", kk: "А пилоты", en: "Pilot A"}}
    subsidiary: MTA
    use_case: energy_optimization
    sites: [{{site: S01, go_live: 2024-04-01}}, {{site: S02, go_live: 2024-04-01}}]
    metrics: [energy_gj, output_t]
    capex_kzt: {CAPEX["P-A"]:.0f}
    opex_kzt_per_year: {OPEX["P-A"]:.0f}
  - code: P-B
    name: {{ru: "Пилот Б", kk: "Б пилоты", en: "Pilot B"}}
    subsidiary: MTA
    use_case: process_optimization
    sites: [{{site: S03, go_live: 2024-04-15}}]
    controls: [S04, S05, S06]
    metrics: [energy_gj]
    capex_kzt: {CAPEX["P-B"]:.0f}
    opex_kzt_per_year: {OPEX["P-B"]:.0f}
"""


def observations(seed: int = 7) -> pl.DataFrame:
    """Daily values per site and metric: level + a shared random walk + noise + the pilot's effect after go-live."""
    rng = np.random.default_rng(seed)
    days = [START + timedelta(days=i) for i in range(N_DAYS)]
    frames = []
    for metric in ("energy_gj", "output_t"):
        common = np.cumsum(rng.normal(0, 2.0, N_DAYS))
        for k, site in enumerate(SITES):
            value = LEVEL[metric] + 15.0 * k + common + rng.normal(0, 10.0, N_DAYS)
            if site in ("S01", "S02"):
                value = value + EFFECT[metric] * np.array([d >= GO_LIVE[site] for d in days])
            frames.append(pl.DataFrame({"site_code": site, "metric_code": metric, "period": days, "value": value}))
    # 12 decimals: 16 significant digits, which CSV (shortest repr) and XLSX (xlsxwriter's %.16G) both keep exactly
    return pl.concat(frames).with_columns(pl.col("value").round(12))


# --- the CLI, in this process --------------------------------------------------------------------------------


def cli(warehouse: Path, *args: str) -> tuple[int, str]:
    """Run `pilot-roi --warehouse WAREHOUSE ARGS...` in this process: (exit code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--warehouse", str(warehouse), "--lang", "en", *args])
    return code, out.getvalue()


def new_warehouse(folder: Path, registry: str | None = None) -> Path:
    """`init` and `registry load` in a new folder; the warehouse path."""
    folder.mkdir(parents=True)
    path = folder / "wh.duckdb"
    yaml_file = folder / "registry.yaml"
    yaml_file.write_text(registry or registry_yaml(), encoding="utf-8")
    assert cli(path, "init")[0] == 0
    assert cli(path, "registry", "load", str(yaml_file))[0] == 0
    return path


def ingest(warehouse: Path, file: Path) -> dict[str, Any]:
    """`ingest FILE --format json`, which must not be refused."""
    code, out = cli(warehouse, "ingest", str(file), "--format", "json")
    document = json.loads(out)
    assert code == 0, document["errors"][:3]
    return dict(document)


def estimate(warehouse: Path, *flags: str) -> dict[str, Any]:
    """`estimate --format json` in this process (one worker); the document."""
    code, out = cli(warehouse, "estimate", "--format", "json", "--workers", "1", *flags)
    assert code == 0, out
    return dict(json.loads(out))


# --- what a run stored ---------------------------------------------------------------------------------------

_FRAMES = ("estimate_counterfactuals", "estimate_robustness", "estimate_event_study")


@dataclass(frozen=True)
class Stored:
    """Every stored number of one run: its result rows and its frames, without the run's own ids."""

    results: pl.DataFrame
    frames: dict[str, pl.DataFrame]

    def row(self, key: tuple[str, str]) -> dict[str, Any]:
        """The result row of (pilot, metric)."""
        rows = self.results.filter((pl.col("pilot_code") == key[0]) & (pl.col("metric_code") == key[1])).to_dicts()
        assert len(rows) == 1, key
        return rows[0]


def stored(warehouse: Path, run_id: int) -> Stored:
    """Read back what run `run_id` stored (read-only)."""
    con = connect(warehouse, read_only=True)
    try:
        results = con.sql(
            "SELECT * EXCLUDE (run_id, reused_from_run) FROM estimate_results WHERE run_id = $run "
            "ORDER BY pilot_code, metric_code",
            params={"run": run_id},
        ).pl()
        frames = {}
        for table in _FRAMES:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "run_id"]
            frames[table] = con.sql(
                f"SELECT {', '.join(columns)} FROM {table} WHERE run_id = $run ORDER BY ALL", params={"run": run_id}
            ).pl()
    finally:
        con.close()
    return Stored(results, frames)


def differences(a: Stored, b: Stored) -> list[str]:
    """Where two runs' stored numbers differ, bit for bit (NaN and NULL equal themselves); [] when identical."""
    out = []
    if a.results.shape != b.results.shape:
        return [f"results: {a.results.shape} != {b.results.shape}"]
    for column in a.results.columns:
        if not a.results[column].equals(b.results[column], null_equal=True):
            out.append(f"results.{column}: {a.results[column].to_list()} != {b.results[column].to_list()}")
    for table in _FRAMES:
        if not a.frames[table].equals(b.frames[table], null_equal=True):
            out.append(f"{table}: {a.frames[table].height} rows differ")
    return out


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    """A read-only query, as an auditor runs it on the file."""
    con = connect(warehouse, read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


# --- fixtures ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The portfolio loaded from one CSV and estimated once."""

    files: Path
    warehouse: Path
    run: dict[str, Any]
    stored: Stored


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same observations delivered in every way the checks need."""
    folder = tmp_path_factory.mktemp("metamorphic_files")
    data = observations()
    data.write_csv(folder / "all.csv")
    data.sample(fraction=1.0, shuffle=True, seed=3).write_csv(folder / "shuffled.csv")
    data.write_excel(folder / "all.xlsx", worksheet="data")
    march = pl.col("period") >= date(2024, 3, 1)
    data.filter(~march).write_csv(folder / "before_march.csv")
    data.filter(march).write_csv(folder / "from_march.csv")
    some_sites = pl.col("site_code").is_in(["S01", "S03", "S05"])
    data.filter(some_sites).write_csv(folder / "sites_135.csv")
    data.filter(~some_sites).write_csv(folder / "sites_246.csv")
    return folder


@pytest.fixture(scope="module")
def baseline(files: Path, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """One CSV loaded, one run estimated."""
    warehouse = new_warehouse(tmp_path_factory.mktemp("metamorphic") / "baseline")
    assert ingest(warehouse, files / "all.csv")["rows_inserted"] == len(SITES) * 2 * N_DAYS
    run = estimate(warehouse)
    assert run["n_estimated"] == len(KEYS) and run["n_errors"] == 0
    result = Baseline(files, warehouse, run, stored(warehouse, run["run_id"]))
    assert [(r["pilot_code"], r["metric_code"]) for r in result.stored.results.to_dicts()] == KEYS
    assert all(r["status"] == "ok" for r in result.stored.results.to_dicts())
    return result


@pytest.fixture
def baseline_copy(baseline: Baseline, tmp_path: Path) -> Iterator[Path]:
    """A copy of the estimated baseline warehouse (with its registry file beside it) for one test to change."""
    target = tmp_path / "wh.duckdb"
    shutil.copyfile(baseline.warehouse, target)
    yield target


# --- 1. the same data delivered differently ------------------------------------------------------------------

DELIVERIES = {
    "rows shuffled": ["shuffled.csv"],
    "xlsx instead of csv": ["all.xlsx"],
    "split by date": ["before_march.csv", "from_march.csv"],
    "split by date, later file first": ["from_march.csv", "before_march.csv"],
    "split by site": ["sites_135.csv", "sites_246.csv"],
    "split by site, other file first": ["sites_246.csv", "sites_135.csv"],
    "uploaded twice": ["all.csv", "all.csv"],
    "restated to the same values (shuffled csv, then xlsx)": ["all.csv", "shuffled.csv", "all.xlsx"],
}


@pytest.mark.parametrize("names", list(DELIVERIES.values()), ids=list(DELIVERIES))
def test_the_same_rows_delivered_differently_give_the_same_estimates_bit_for_bit(
    names: list[str], baseline: Baseline, tmp_path: Path
) -> None:
    warehouse = new_warehouse(tmp_path / "wh")
    reports = [ingest(warehouse, baseline.files / name) for name in names]
    assert sum(r["rows_inserted"] for r in reports) == len(SITES) * 2 * N_DAYS
    assert all(r["rows_updated"] == 0 for r in reports), "the same values must not restate anything"
    assert query(warehouse, "SELECT count(*) AS n FROM observation_history WHERE valid_to IS NOT NULL")["n"][0] == 0
    run = estimate(warehouse)
    assert differences(stored(warehouse, run["run_id"]), baseline.stored) == []
    assert run["data_version"] == baseline.run["data_version"]


def test_an_identical_upload_after_a_run_changes_nothing_and_estimates_nothing(
    baseline: Baseline, baseline_copy: Path
) -> None:
    for name in ("all.csv", "shuffled.csv", "all.xlsx"):
        report = ingest(baseline_copy, baseline.files / name)
        assert report["status"] == "unchanged", name
        assert (report["rows_inserted"], report["rows_updated"]) == (0, 0)
    run = estimate(baseline_copy)
    assert (run["n_estimated"], run["n_reused"]) == (0, len(KEYS))
    assert differences(stored(baseline_copy, run["run_id"]), baseline.stored) == []


# --- 2. tenge values, discount rate and horizon move only the money ------------------------------------------

_ESTIMATION_COLUMNS = ("inputs_hash", "status", "method", "effect", "se", "effect_pct", "ci_low", "ci_high",
                       "p_value", "q_value", "pre_trend_p", "mde", "grade", "n_treated", "n_controls")  # fmt: skip
_MONEY = ("annual_gain_kzt", "annual_gain_ci_low", "annual_gain_ci_high", "realized_gain_kzt")


def test_doubling_every_tenge_value_doubles_every_gain_and_moves_npv_as_the_formula_says(
    baseline: Baseline, baseline_copy: Path
) -> None:
    doubled = baseline_copy.with_name("doubled.yaml")
    doubled.write_text(registry_yaml(2 * ENERGY_KZT, 2 * OUTPUT_KZT), encoding="utf-8")
    assert cli(baseline_copy, "registry", "load", str(doubled))[0] == 0
    run = estimate(baseline_copy)
    assert (run["n_estimated"], run["n_reused"]) == (0, len(KEYS)), "tenge values are not estimation inputs"
    after = stored(baseline_copy, run["run_id"])
    annuity = annuity_factor(0.15, 5)
    for key in KEYS:
        old, new = baseline.stored.row(key), after.row(key)
        for column in _ESTIMATION_COLUMNS:
            assert new[column] == old[column], (key, column)
        for column in _MONEY:  # a gain is effect × value × 365 × sites: doubling the value doubles it exactly
            assert new[column] == 2 * old[column], (key, column)
        pilot = key[0]
        cost = CAPEX[pilot] + OPEX[pilot] * annuity
        for column, gain in (("npv_kzt", "annual_gain_kzt"), ("npv_ci_low", "annual_gain_ci_low"),
                             ("npv_ci_high", "annual_gain_ci_high")):  # fmt: skip
            expected = (new[gain] - OPEX[pilot]) * annuity - CAPEX[pilot]
            assert new[column] == pytest.approx(expected, rel=1e-12, abs=1e-3), (key, column)  # rounding only
        assert new["roi"] == pytest.approx(new["npv_kzt"] / cost, rel=1e-12)
        net = new["annual_gain_kzt"] - OPEX[pilot]
        assert new["payback_months"] == (CAPEX[pilot] / (net / 12.0) if net > 0 else math.inf)


@pytest.mark.parametrize(("rate", "horizon"), [(0.08, 5), (0.15, 10), (0.0, 3)])
def test_discount_rate_and_horizon_change_npv_and_roi_as_the_formulas_say_and_nothing_else(
    rate: float, horizon: int, baseline: Baseline, baseline_copy: Path
) -> None:
    run = estimate(baseline_copy, "--discount-rate", str(rate), "--horizon-years", str(horizon))
    assert (run["n_estimated"], run["n_reused"]) == (0, len(KEYS))
    assert (run["parameters"]["discount_rate"], run["parameters"]["horizon_years"]) == (rate, horizon)
    after = stored(baseline_copy, run["run_id"])
    annuity = annuity_factor(rate, horizon)
    assert annuity == pytest.approx(horizon if rate == 0 else (1 - (1 + rate) ** -horizon) / rate, rel=1e-14)
    for key in KEYS:
        old, new = baseline.stored.row(key), after.row(key)
        for column in (*_ESTIMATION_COLUMNS, *_MONEY, "payback_months"):
            assert new[column] == old[column], (key, column)
        pilot = key[0]
        for column, gain in (("npv_kzt", "annual_gain_kzt"), ("npv_ci_low", "annual_gain_ci_low"),
                             ("npv_ci_high", "annual_gain_ci_high")):  # fmt: skip
            expected = (old[gain] - OPEX[pilot]) * annuity - CAPEX[pilot]
            assert new[column] == pytest.approx(expected, rel=1e-12, abs=1e-3), (key, column)
        assert new["roi"] == pytest.approx(new["npv_kzt"] / (CAPEX[pilot] + OPEX[pilot] * annuity), rel=1e-12)


# --- 3. a restatement of one site re-estimates only what reads it --------------------------------------------


def test_restating_one_treated_sites_values_reestimates_only_its_pilot_metric_and_lineage_shows_it(
    baseline: Baseline, baseline_copy: Path, tmp_path: Path
) -> None:
    may = observations().filter(
        (pl.col("site_code") == "S01") & (pl.col("metric_code") == "energy_gj") & (pl.col("period") >= date(2024, 5, 1))
    )
    restated = tmp_path / "s01_energy_may_restated.csv"
    may.with_columns(pl.col("value") - 25.0).write_csv(restated)
    report = ingest(baseline_copy, restated)
    assert (report["status"], report["rows_inserted"], report["rows_updated"]) == ("loaded", 0, may.height)

    code, text = cli(baseline_copy, "estimate", "--workers", "1")
    assert code == 0
    run_id = int(query(baseline_copy, "SELECT max(run_id) AS r FROM estimate_runs")["r"][0])
    assert text.splitlines()[0] == t(
        "estimate.run_done", "en", run_id=run_id, n=3, estimated=1, reused=2, not_estimated=0, errors=0,
        insufficient=0, seconds=text.splitlines()[0].rsplit(" ", 2)[-2],
    )  # fmt: skip
    after = stored(baseline_copy, run_id)
    changed = after.row(("P-A", "energy_gj"))
    assert changed["inputs_hash"] != baseline.stored.row(("P-A", "energy_gj"))["inputs_hash"]
    assert changed["effect"] < baseline.stored.row(("P-A", "energy_gj"))["effect"]  # 25 GJ less on 31 of 61 days
    reused = query(baseline_copy, f"SELECT pilot_code, metric_code, reused_from_run FROM estimate_results "
                                  f"WHERE run_id = {run_id} ORDER BY ALL").rows()  # fmt: skip
    assert reused == [("P-A", "energy_gj", None), ("P-A", "output_t", baseline.run["run_id"]),
                      ("P-B", "energy_gj", baseline.run["run_id"])]  # fmt: skip
    for key in (("P-A", "output_t"), ("P-B", "energy_gj")):
        old, new = baseline.stored.row(key), after.row(key)
        # q-values (and so grades) are the portfolio's: they may move with P-A/energy's p-value; nothing else may
        for column in set(old) - {"q_value", "grade", "grade_reason"}:
            assert new[column] == old[column] or (new[column] != new[column] and old[column] != old[column]), (
                key,
                column,
            )

    history = query(
        baseline_copy,
        "SELECT h.site_code, h.metric_code, count(*) AS n, min(u.file_name) AS replaced_by "
        "FROM observation_history AS h JOIN observations AS o USING (site_code, metric_code, period) "
        "JOIN uploads AS u ON u.upload_id = o.upload_id WHERE h.valid_to IS NOT NULL GROUP BY ALL",
    )
    assert history.rows() == [("S01", "energy_gj", may.height, restated.name)]
    out = tmp_path / "report.xlsx"
    assert cli(baseline_copy, "report", "--year", "2024", "--format", "xlsx", "--out", str(out))[0] == 0
    sheet = _xlsx_table(out, t("report.section.restatements", "en"))
    assert sheet.height == 1
    row = sheet.row(0, named=True)
    files_named = (row[t("report.col.file", "en")], row[t("report.col.superseded_by_file", "en")])
    assert files_named == ("all.csv", restated.name)
    assert row[t("report.col.n_values", "en")] == may.height


# --- 4. an unchanged warehouse estimates nothing new; --force reproduces the numbers -------------------------


def test_a_second_run_reuses_everything_and_force_reproduces_it_bit_for_bit(
    baseline: Baseline, baseline_copy: Path
) -> None:
    again = estimate(baseline_copy)
    assert (again["n_estimated"], again["n_reused"], again["n_not_estimated"]) == (0, len(KEYS), 0)
    assert all(e["reused_from_run"] == baseline.run["run_id"] for e in again["estimates"])
    assert differences(stored(baseline_copy, again["run_id"]), baseline.stored) == []
    assert again["data_version"] == baseline.run["data_version"]

    forced = estimate(baseline_copy, "--force")
    assert (forced["n_estimated"], forced["n_reused"]) == (len(KEYS), 0)
    assert all(e["reused_from_run"] is None for e in forced["estimates"])
    assert differences(stored(baseline_copy, forced["run_id"]), baseline.stored) == []


# --- 5. the report says what the public views say ------------------------------------------------------------

# the per pilot-metric table's columns that the `estimates` view also has (the view's name on the right)
_VIEW_COLUMNS = ("effect", "effect_pct", "ci_low", "ci_high", "p_value", "q_value", "annual_gain_kzt",
                 "annual_gain_ci_low", "annual_gain_ci_high", "npv_kzt", "roi", "payback_months")  # fmt: skip


def _headers(lang: str) -> dict[str, str]:
    """Column id -> the per pilot-metric table's header in `lang`."""
    return {f.id: f.column(lang).header for f in ESTIMATE_FIELDS}


def _xlsx_table(path: Path, sheet: str, numbers: tuple[str, ...] = ()) -> pl.DataFrame:
    """A section sheet of the report XLSX: title, status, a blank row, then the header (row 4).

    `numbers`: headers of columns to read as numbers. A column where words stand for a number that does not exist
    (a payback that never comes: "never pays back") would otherwise be inferred as text, its numbers cut to 10
    significant digits by fastexcel; read as numbers, such a cell is null.
    """
    workbook = fastexcel.read_excel(path.read_bytes())
    name = next(n for n in workbook.sheet_names if n == sheet[:31])
    dtypes: Any = {header: "float" for header in numbers} or None
    return workbook.load_sheet(name, header_row=3, dtypes=dtypes).to_polars()


def _csv_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _report_rows(warehouse: Path, folder: Path, *flags: str) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """`report --year 2024` as CSV and as XLSX (en): the per pilot-metric rows of each."""
    out = {}
    for fmt in ("csv", "xlsx"):
        out[fmt] = folder / f"report.{fmt}"
        code, _ = cli(warehouse, "report", "--year", "2024", "--format", fmt, "--out", str(out[fmt]), *flags)
        assert code == 0
    numbers = tuple(_headers("en")[column] for column in _VIEW_COLUMNS)
    return _csv_table(out["csv"]), _xlsx_table(out["xlsx"], t("report.section.estimates", "en"), numbers).to_dicts()


def test_the_reports_csv_and_xlsx_figures_equal_the_public_estimates_view(
    baseline: Baseline, baseline_copy: Path, tmp_path: Path
) -> None:
    view = query(baseline_copy, "SELECT * FROM estimates ORDER BY pilot_code, metric_code").to_dicts()
    assert [(r["pilot_code"], r["metric_code"]) for r in view] == KEYS
    assert {r["run_id"] for r in view} == {baseline.run["run_id"]}
    headers = _headers("en")
    csv_rows, xlsx_rows = _report_rows(baseline_copy, tmp_path)
    assert len(csv_rows) == len(xlsx_rows) == len(view)
    for want, from_csv, from_xlsx in zip(view, csv_rows, xlsx_rows, strict=True):
        key = (want["pilot_code"], want["metric_code"])
        for source in (from_csv, from_xlsx):
            assert (source[headers["pilot_code"]], source[headers["metric_code"]]) == key
            assert source[headers["grade"]] == t(f"report.grade.{want['grade']}", "en")
            assert source[headers["method"]] == t(f"report.method.{want['method']}", "en")
        assert from_csv[t("report.repro.run_id", "en")] == str(want["run_id"])
        for column in _VIEW_COLUMNS:
            expected = want[column]
            if not math.isfinite(expected):  # a payback that never comes: see the test below
                continue
            # CSV writes repr: the very same double. XLSX keeps 16 significant digits (xlsxwriter's %.16G), so
            # a double that needs 17 comes back within half a unit of the 16th digit: 5e-16 relative at most.
            assert float(from_csv[headers[column]]) == expected, (key, column, "csv")
            assert from_xlsx[headers[column]] == pytest.approx(expected, rel=5e-16, abs=0), (key, column, "xlsx")

    summary = _xlsx_table(tmp_path / "report.xlsx", t("report.section.summary", "en"))
    demonstrated = [r for r in view if r["grade"] == "demonstrated"]
    gain = summary.filter(pl.col("id") == "demonstrated_annual_gain").row(0, named=True)[t("report.col.value", "en")]
    assert gain == pytest.approx(sum(r["annual_gain_kzt"] for r in demonstrated), rel=1e-15)


def test_a_payback_that_never_comes_reads_as_never_in_the_report(
    baseline: Baseline, baseline_copy: Path, tmp_path: Path
) -> None:
    never = query(baseline_copy, "SELECT pilot_code, metric_code FROM estimates WHERE payback_months = 'inf'").rows()
    assert never == [("P-B", "energy_gj")]  # P-B's energy use does not fall: its net flow is negative
    csv_rows, _ = _report_rows(baseline_copy, tmp_path)
    [row] = [r for r in csv_rows if r[_headers("en")["pilot_code"]] == "P-B"]
    assert row[_headers("en")["payback_months"]] != ""


def test_a_report_of_an_earlier_run_does_not_change_when_a_tenge_value_changes_later(
    baseline: Baseline, baseline_copy: Path, tmp_path: Path
) -> None:
    run = str(baseline.run["run_id"])
    before, _ = _report_rows(baseline_copy, tmp_path, "--run", run)
    doubled = baseline_copy.with_name("doubled.yaml")
    doubled.write_text(registry_yaml(2 * ENERGY_KZT, 2 * OUTPUT_KZT), encoding="utf-8")
    assert cli(baseline_copy, "registry", "load", str(doubled))[0] == 0
    after, _ = _report_rows(baseline_copy, tmp_path, "--run", run)
    headers = _headers("en")
    for old, new in zip(before, after, strict=True):
        # every post-go-live period of this portfolio lies in 2024: the year's realized gain is the run's to date
        assert new[headers["realized_gain_year"]] == new[headers["realized_gain_to_date"]]
        assert new[headers["realized_gain_year"]] == old[headers["realized_gain_year"]]
