"""A figure rests only on the treated sites its estimate read: the treated sites a run records for each pilot-metric,
and its report lists (design, per pilot-metric table, sources and lineage), are those the primary estimate reports it
used, each with its go-live; one it left out is said in words beside the estimate's checks, not listed as a site.

The portfolio of tests/reports/test_controls_used.py (P-A treats S01 and S02 from 2024-04-01 on energy and output, P-B
treats S03 from 2024-04-15 on energy; the controls stopped sending output at the end of February, so P-A's output is an
interrupted time series), with S02's output in a file of its own that starts a week before its go-live
(s02_output.csv): too little history for the forecast, which rests on S01 alone. Before, the run recorded S01 and S02
for P-A's output, and the report listed S02 and its file as behind that figure.
"""

from __future__ import annotations

import sys
from datetime import date
from html import escape
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_controls_used import (
    CSV_AND_XLSX,
    LANGS,
    column,
    csv_rows,
    estimate_files,
    recorded,
    report_editions,
    source_file_names,
)
from test_metamorphic_e2e import _xlsx_table, observations, query

from pilot_roi.i18n import t
from pilot_roi.reports import assemble_report
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

KEYS = [("P-A", "energy_gj"), ("P-A", "output_t"), ("P-B", "energy_gj")]
GO_LIVE = {"S01": date(2024, 4, 1), "S02": date(2024, 4, 1), "S03": date(2024, 4, 15)}
# (primary method, treated sites it used) per pilot-metric
USED = {
    ("P-A", "energy_gj"): ("did", ("S01", "S02")),
    ("P-A", "output_t"): ("its", ("S01",)),
    ("P-B", "energy_gj"): ("did", ("S03",)),
}
FILES = ("treated.csv", "s02_output.csv", "controls_energy.csv", "controls_output.csv")
SOURCES = {
    ("P-A", "energy_gj"): ("treated.csv", "controls_energy.csv"),
    ("P-A", "output_t"): ("treated.csv",),
    ("P-B", "energy_gj"): ("treated.csv", "controls_energy.csv"),
}


def split_files(folder: Path) -> list[Path]:
    """The portfolio's values in the four files of FILES (see the module doc), written to `folder`."""
    values = observations()
    site, metric, period = pl.col("site_code"), pl.col("metric_code"), pl.col("period")
    s02_output = (site == "S02") & (metric == "output_t")
    parts = {
        "treated.csv": site.is_in(["S01", "S02", "S03"]) & ~s02_output,
        "s02_output.csv": s02_output & (period >= date(2024, 3, 25)),  # a week of history: too little
        "controls_energy.csv": site.is_in(["S04", "S05", "S06"]) & (metric == "energy_gj"),
        "controls_output.csv": site.is_in(["S04", "S05", "S06"]) & (metric == "output_t") & (period < date(2024, 3, 1)),
    }
    paths = []
    for name in FILES:
        path = folder / name
        values.filter(parts[name]).write_csv(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def estimated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The portfolio loaded from its four files and estimated once: (warehouse, run id)."""
    folder = tmp_path_factory.mktemp("treated_used")
    return estimate_files(folder, split_files(folder))


@pytest.fixture(scope="module")
def reports(estimated: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """The run's 2024 report as CSV and XLSX in every language: (format, lang) -> file."""
    return report_editions(*estimated, tmp_path_factory.mktemp("treated_used_reports"), CSV_AND_XLSX)


def treated_cell(key: tuple[str, str]) -> str:
    return "; ".join(f"{site} ({GO_LIVE[site].isoformat()})" for site in USED[key][1])


def test_the_run_records_the_treated_sites_each_primary_estimate_used(estimated: tuple[Path, int]) -> None:
    warehouse, run_id = estimated
    rows = recorded(warehouse, run_id)
    assert set(rows) == set(KEYS)
    for key, row in rows.items():
        assert row["method"] == USED[key][0], key
        assert row["diagnostics"]["treated_sites"] == list(USED[key][1]), key  # what the estimate reported
    output = rows["P-A", "output_t"]
    assert output["diagnostics"]["excluded_treated"] == {"S02": "insufficient_pre_periods"}
    stored = query(
        warehouse,
        "SELECT pilot_code, metric_code, treated_sites FROM estimate_results "
        f"WHERE run_id = {run_id:d} ORDER BY pilot_code, metric_code",
    ).to_dicts()
    assert {(r["pilot_code"], r["metric_code"]): [(s["site_code"], s["go_live"]) for s in r["treated_sites"]]
            for r in stored} == {key: [(s, GO_LIVE[s]) for s in used] for key, (_, used) in USED.items()}  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_the_csv_lists_only_the_treated_sites_used_and_their_files(
    reports: dict[tuple[str, str], Path], lang: str
) -> None:
    rows = csv_rows(reports["csv", lang], lang)
    assert set(rows) == set(KEYS)
    for key, row in rows.items():
        assert row[column(lang, "treated_sites")] == treated_cell(key), key
        assert source_file_names(row[column(lang, "source_files")]) == SOURCES[key], key


@pytest.mark.parametrize("lang", LANGS)
def test_the_xlsx_design_lineage_and_sources_leave_the_site_out_of_the_figure_it_did_not_serve(
    reports: dict[tuple[str, str], Path], lang: str
) -> None:
    path = reports["xlsx", lang]
    design = _xlsx_table(path, t("report.pilot.design", lang)).to_dicts()
    role, metrics = t("report.pilot.design", lang), t("report.pilot.metrics", lang)
    treated = {
        (r[column(lang, "pilot_code")], r[column(lang, "site")], r[metrics])
        for r in design
        if r[role] == t("report.pilot.treated", lang)
    }
    # S02 is P-A's for energy only: the output figure does not rest on it
    assert treated == {("P-A", "S01", "energy_gj; output_t"), ("P-A", "S02", "energy_gj"), ("P-B", "S03", "energy_gj")}
    estimates = _xlsx_table(path, t("report.section.estimates", lang)).to_dicts()
    cells = {(r[column(lang, "pilot_code")], r[column(lang, "metric_code")]): r for r in estimates}
    for key in KEYS:
        assert cells[key][column(lang, "treated_sites")] == treated_cell(key), key
    sources = _xlsx_table(path, t("report.section.sources", lang)).to_dicts()
    by_key: dict[tuple[str, str], list[str]] = {}
    for r in sources:
        by_key.setdefault((r[column(lang, "pilot_code")], r[column(lang, "metric_code")]), []).append(
            r[column(lang, "file")]
        )
    assert {key: tuple(files) for key, files in by_key.items()} == SOURCES
    lineage = _xlsx_table(path, t("report.section.lineage", lang)).to_dicts()
    assert "s02_output.csv" not in [r[column(lang, "file")] for r in lineage]  # no figure read it


@pytest.mark.parametrize("lang", LANGS)
def test_the_pdf_lists_the_output_figures_treated_site_and_says_the_other_was_left_out(
    estimated: tuple[Path, int], lang: str
) -> None:
    con = connect(estimated[0], read_only=True)
    try:
        report = assemble_report(con, 2024, estimated[1])
    finally:
        con.close()
    (pilot_a,) = [p for p in report.pilots if p.code == "P-A"]
    output = next(m for m in pilot_a.metrics if m.metric_code == "output_t")
    assert [s.site_code for s in output.treated_sites] == ["S01"]
    assert [s.site_code for s in pilot_a.treated_sites] == ["S01", "S02"]  # S02 still serves the energy figure
    left_out = t("dash.diag.left_out_treated", lang, sites="S02")
    assert left_out in [line.get(lang) for line in output.checks_in_words]
    html = build_html(report, lang)
    section = html[html.index('id="pilot-P-A"') : html.index('id="pilot-P-B"')]
    output_part = section[section.index("(output_t,") :]
    treated_word = escape(t("report.pilot.treated", lang))
    row = output_part.split(f"<td>{treated_word}</td><td>")[1].split("</td>")[0]
    assert "(S01, " in row and "S02" not in row  # the output figure's own treated sites: S01 alone
    assert escape(left_out) in output_part
