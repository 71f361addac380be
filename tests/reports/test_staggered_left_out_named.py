"""A staggered DiD's report names the treated sites the estimate left out, as it does for an interrupted time series
and a synthetic control (tests/reports/test_treated_used.py): the run stores them with why, the XLSX's diagnostics
sheet lists them, the per pilot-metric table (CSV, XLSX) lists only the treated sites used, and the checks in words say
which were left out. Before, a staggered estimate only counted them ("Sites excluded (other pilots, gaps): 2").

The panel of tests/estimation/test_staggered_left_out.py, through the real CLI: one pilot P-S at S01-S04 (go-lives 1
March, 1 April, 15 January, 28 May 2024) on daily energy; S03 has 14 days before its go-live (too few), S04 4 days
after (too few); S05-S07, the subsidiary's never-treated sites, are the default controls.
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "estimation"))

from test_metamorphic_e2e import _csv_table, _xlsx_table, cli, estimate, ingest, new_warehouse, query
from test_staggered_left_out import GO_LIVE, LEFT_OUT, SITES, USED, panel

from pilot_roi.i18n import t
from pilot_roi.reports import assemble_report
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect

LANGS = ("ru", "en")
KEY = ("P-S", "energy_gj")

_SITE_LINES = "\n".join(
    f'  - {{code: {s}, subsidiary: MTA, name: {{ru: "Объект {s}", kk: "Нысан {s}", en: "Site {s}"}}}}' for s in SITES
)
_PILOT_SITES = ", ".join(f"{{site: {s}, go_live: {d.isoformat()}}}" for s, d in GO_LIVE.items())
REGISTRY = f"""
data_start: 2023-01-01
subsidiaries:
  - {{code: MTA, name: {{ru: "Метаморф", kk: "Метаморф", en: "Metamorph"}}, sector: energy}}
sites:
{_SITE_LINES}
metrics:
  - {{code: energy_gj, name: {{ru: "Энергия", kk: "Энергия", en: "Energy use"}}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}}
pilots:
  - code: P-S
    name: {{ru: "Пилот С", kk: "С пилоты", en: "Pilot S"}}
    subsidiary: MTA
    use_case: energy_optimization
    sites: [{_PILOT_SITES}]
    metrics: [energy_gj]
    capex_kzt: 50000000
    opex_kzt_per_year: 5000000
"""


@pytest.fixture(scope="module")
def estimated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The panel loaded from one CSV and estimated once: (warehouse, run id)."""
    folder = tmp_path_factory.mktemp("staggered_left_out")
    warehouse = new_warehouse(folder / "wh", REGISTRY)
    path = folder / "energy.csv"
    panel().select("site_code", pl.lit("energy_gj").alias("metric_code"), "period", pl.col("value").round(6)).write_csv(
        path
    )
    ingest(warehouse, path)
    run = estimate(warehouse)
    assert run["n_estimated"] == 1 and run["n_errors"] == 0
    return warehouse, int(run["run_id"])


@pytest.fixture(scope="module")
def reports(estimated: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """The run's 2024 report as CSV and XLSX in Russian and English: (format, lang) -> file."""
    folder, out = tmp_path_factory.mktemp("staggered_left_out_reports"), {}
    for fmt in ("csv", "xlsx"):
        for lang in LANGS:
            out[fmt, lang] = folder / f"report_{lang}.{fmt}"
            code, _ = cli(estimated[0], "report", "--year", "2024", "--format", fmt, "--lang", lang,
                          "--out", str(out[fmt, lang]), "--run", str(estimated[1]))  # fmt: skip
            assert code == 0, (fmt, lang)
    return out


def used_cell() -> str:
    return "; ".join(f"{site} ({GO_LIVE[site].isoformat()})" for site in USED)


def test_the_run_stores_the_sites_left_out_with_why_and_records_only_those_used(estimated: tuple[Path, int]) -> None:
    warehouse, run_id = estimated
    (row,) = query(
        warehouse,
        f"SELECT method, n_treated, treated_sites, diagnostics FROM estimate_results WHERE run_id = {run_id:d}",
    ).to_dicts()
    diagnostics = json.loads(row["diagnostics"])
    assert row["method"] == "staggered_did"
    assert diagnostics["excluded_treated"] == LEFT_OUT
    assert [s["site_code"] for s in row["treated_sites"]] == list(USED) and row["n_treated"] == len(USED)


@pytest.mark.parametrize("lang", LANGS)
def test_the_xlsx_diagnostics_name_each_site_left_out_with_why_and_the_tables_list_only_those_used(
    reports: dict[tuple[str, str], Path], lang: str
) -> None:
    col = {key: t(f"report.col.{key}", lang) for key in ("pilot_code", "metric_code", "diagnostic", "value")}
    sheet = _xlsx_table(reports["xlsx", lang], t("report.section.diagnostics", lang)).to_dicts()
    named = {
        r[col["diagnostic"]].removeprefix("excluded_treated."): r[col["value"]]
        for r in sheet
        if (r[col["pilot_code"]], r[col["metric_code"]]) == KEY and r[col["diagnostic"]].startswith("excluded_treated.")
    }
    assert named == LEFT_OUT
    estimates = _xlsx_table(reports["xlsx", lang], t("report.section.estimates", lang)).to_dicts()
    (xlsx_row,) = estimates
    (csv_row,) = _csv_table(reports["csv", lang])
    for row in (xlsx_row, csv_row):
        assert row[t("report.col.treated_sites", lang)] == used_cell()


@pytest.mark.parametrize("lang", LANGS)
def test_the_checks_in_words_name_the_sites_left_out(estimated: tuple[Path, int], lang: str) -> None:
    con = connect(estimated[0], read_only=True)
    try:
        report = assemble_report(con, 2024, estimated[1])
    finally:
        con.close()
    ((metric,),) = [p.metrics for p in report.pilots]
    sentence = t("dash.diag.left_out_treated", lang, sites="S03, S04")
    assert sentence in [line.get(lang) for line in metric.checks_in_words]
    assert escape(sentence) in build_html(report, lang)  # the PDF's words
