"""A figure rests only on the sites its estimate read: the control sites a run records for each pilot-metric, and its
report lists (design, per pilot-metric table, sources and lineage), are those the primary estimate reports it used.

Every step goes through the real CLI on DuckDB files in temporary folders, with the small portfolio of
tests/runner/test_metamorphic_e2e.py (one subsidiary MTA, sites S01-S06, daily data January-May 2024; P-A treats S01
and S02 from 2024-04-01 on energy and output with default controls, S04-S06 since P-B treats S03; P-B treats S03 from
2024-04-15 on energy with listed controls S04-S06), the control sites' values cut and sent in files of their own:
- S04-S06 stopped sending output at the end of February (controls_output.csv): no control reports output on both sides
  of P-A's go-live, so P-A's output is an interrupted time series of S01 and S02's own history and reads no control;
- S06 stopped sending energy in mid-March (s06_energy.csv): the energy DiDs of P-A and P-B compare with S04 and S05.
Before, the run recorded every control offered (S04-S06) for all three, and the report listed them, with their files.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))

from test_metamorphic_e2e import _csv_table, _xlsx_table, cli, estimate, ingest, new_warehouse, observations, query

from pilot_roi.i18n import t
from pilot_roi.reports import assemble_report
from pilot_roi.reports.to_pdf import build_html
from pilot_roi.warehouse import connect

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

LANGS = ("ru", "kk", "en")
KEYS = [("P-A", "energy_gj"), ("P-A", "output_t"), ("P-B", "energy_gj")]
# (primary method, control sites it used) per pilot-metric
USED = {
    ("P-A", "energy_gj"): ("did", ("S04", "S05")),
    ("P-A", "output_t"): ("its", ()),
    ("P-B", "energy_gj"): ("did", ("S04", "S05")),
}
OFFERED = ("S04", "S05", "S06")  # P-A's default controls (S03 is P-B's), P-B's listed ones
OWN_HISTORY = "report.pilot.controls_none_own_history"
SITE_WORD = {"ru": "Объект", "kk": "Нысан", "en": "Site"}  # the sites' names in the registry: "Site S04", ...
FILES = ("treated.csv", "controls_energy.csv", "s06_energy.csv", "controls_output.csv")
# the files each figure rests on: those with values at its treated sites and the controls its estimate used
SOURCES = {
    ("P-A", "energy_gj"): ("treated.csv", "controls_energy.csv"),
    ("P-A", "output_t"): ("treated.csv",),
    ("P-B", "energy_gj"): ("treated.csv", "controls_energy.csv"),
}


def split_files(folder: Path) -> list[Path]:
    """The portfolio's values in the four files of FILES (see the module doc), written to `folder`."""
    values = observations()
    site, metric, period = pl.col("site_code"), pl.col("metric_code"), pl.col("period")
    parts = {
        "treated.csv": site.is_in(["S01", "S02", "S03"]),
        "controls_energy.csv": site.is_in(["S04", "S05"]) & (metric == "energy_gj"),
        "s06_energy.csv": (site == "S06") & (metric == "energy_gj") & (period < date(2024, 3, 16)),
        "controls_output.csv": site.is_in(list(OFFERED)) & (metric == "output_t") & (period < date(2024, 3, 1)),
    }
    paths = []
    for name in FILES:
        path = folder / name
        values.filter(parts[name]).write_csv(path)
        paths.append(path)
    return paths


def estimate_files(folder: Path, files: list[Path]) -> tuple[Path, int]:
    """A new warehouse in `folder` loaded from `files` and estimated once: (warehouse, run id)."""
    warehouse = new_warehouse(folder / "wh")
    for path in files:
        ingest(warehouse, path)
    run = estimate(warehouse)
    assert run["n_estimated"] == len(KEYS) and run["n_errors"] == 0
    return warehouse, int(run["run_id"])


def report_editions(
    warehouse: Path, run_id: int, folder: Path, editions: list[tuple[str, str]]
) -> dict[tuple[str, str], Path]:
    """Run `run_id`'s 2024 report written by the CLI in each (format, lang) of `editions`: (format, lang) -> file."""
    out = {}
    for fmt, lang in editions:
        out[fmt, lang] = folder / f"report_{lang}.{fmt}"
        code, _ = cli(warehouse, "report", "--year", "2024", "--format", fmt, "--lang", lang,
                      "--out", str(out[fmt, lang]), "--run", str(run_id))  # fmt: skip
        assert code == 0, (fmt, lang)
    return out


CSV_AND_XLSX = [*(("csv", lang) for lang in LANGS), *(("xlsx", lang) for lang in LANGS)]


@pytest.fixture(scope="module")
def estimated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The portfolio loaded from its four files and estimated once: (warehouse, run id)."""
    folder = tmp_path_factory.mktemp("controls_used")
    return estimate_files(folder, split_files(folder))


@pytest.fixture(scope="module")
def reports(estimated: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """The run's 2024 report as CSV and XLSX in every language, and as a PDF in English: (format, lang) -> file."""
    folder = tmp_path_factory.mktemp("controls_used_reports")
    return report_editions(*estimated, folder, [*CSV_AND_XLSX, ("pdf", "en")])


def recorded(warehouse: Path, run_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(pilot, metric) -> what run `run_id` stored of it: method, controls (code list and count), rule, diagnostics."""
    frame = query(
        warehouse,
        "SELECT pilot_code, metric_code, method, control_sites, control_rule, n_controls, diagnostics "
        f"FROM estimate_results WHERE run_id = {run_id:d} ORDER BY pilot_code, metric_code",
    )
    return {
        (r["pilot_code"], r["metric_code"]): {
            **r,
            "control_sites": None if r["control_sites"] is None else tuple(r["control_sites"]),
            "diagnostics": json.loads(r["diagnostics"]),
        }
        for r in frame.to_dicts()
    }


def used_controls(warehouse: Path, run_id: int) -> dict[tuple[str, str], tuple[str, tuple[str, ...] | None]]:
    """(pilot, metric) -> (method, the control sites run `run_id` recorded)."""
    return {key: (r["method"], r["control_sites"]) for key, r in recorded(warehouse, run_id).items()}


def column(lang: str, key: str) -> str:
    return t(f"report.col.{key}", lang)


def csv_rows(path: Path, lang: str) -> dict[tuple[str, str], dict[str, str]]:
    """(pilot, metric) -> the row of the report's CSV."""
    return {(r[column(lang, "pilot_code")], r[column(lang, "metric_code")]): r for r in _csv_table(path)}


def source_file_names(cell: str) -> tuple[str, ...]:
    """The file names of a source-files cell ("4: a.csv; 7: b.csv")."""
    return tuple(part.split(": ", 1)[1] for part in cell.split("; ") if part)


def controls_cell(key: tuple[str, str], lang: str) -> str:
    """What the control-sites cell of a pilot-metric must say: its controls by code, or in words that it has none."""
    return "; ".join(USED[key][1]) or t(OWN_HISTORY, lang)


def test_the_run_records_the_control_sites_each_primary_estimate_used(estimated: tuple[Path, int]) -> None:
    warehouse, run_id = estimated
    rows = recorded(warehouse, run_id)
    assert used_controls(warehouse, run_id) == USED
    for key, row in rows.items():
        assert row["n_controls"] == len(USED[key][1]), key
        assert row["diagnostics"]["control_sites"] == list(USED[key][1]), key  # what the estimate reported
        # what the pilot-metric was offered stays on record beside it: the rule that chose them and the candidates
        assert row["diagnostics"]["controls"] == list(OFFERED), key
    assert {key: row["control_rule"] for key, row in rows.items()} == {
        ("P-A", "energy_gj"): "subsidiary_never_treated",
        ("P-A", "output_t"): "subsidiary_never_treated",
        ("P-B", "energy_gj"): "listed",
    }


@pytest.mark.parametrize("lang", LANGS)
def test_the_csv_lists_the_controls_used_and_says_in_words_that_the_its_used_none(
    reports: dict[tuple[str, str], Path], lang: str
) -> None:
    rows = csv_rows(reports["csv", lang], lang)
    assert set(rows) == set(KEYS)
    for key, row in rows.items():
        assert row[column(lang, "method")] == t(f"report.method.{USED[key][0]}", lang), key
        assert row[column(lang, "control_sites")] == controls_cell(key, lang), key
        assert source_file_names(row[column(lang, "source_files")]) == SOURCES[key], key
    assert rows["P-A", "output_t"][column(lang, "n_controls")] == "0"


@pytest.mark.parametrize("lang", LANGS)
def test_the_xlsx_design_sheet_lists_each_metrics_controls_and_says_the_its_has_none(
    reports: dict[tuple[str, str], Path], lang: str
) -> None:
    design = _xlsx_table(reports["xlsx", lang], t("report.pilot.design", lang)).to_dicts()
    role, site, name, metrics = (
        t("report.pilot.design", lang),
        column(lang, "site"),
        column(lang, "site_name"),
        t("report.pilot.metrics", lang),
    )
    treated, controls = t("report.pilot.treated", lang), t("report.pilot.controls", lang)
    shown = {
        (r[column(lang, "pilot_code")], "treated" if r[role] == treated else "controls", r[site], r[metrics])
        for r in design
    }
    assert shown == {
        ("P-A", "treated", "S01", "energy_gj; output_t"),
        ("P-A", "treated", "S02", "energy_gj; output_t"),
        ("P-A", "controls", "S04", "energy_gj"),
        ("P-A", "controls", "S05", "energy_gj"),
        ("P-A", "controls", None, "output_t"),  # no site: the words say what the ITS compared with
        ("P-B", "treated", "S03", "energy_gj"),
        ("P-B", "controls", "S04", "energy_gj"),
        ("P-B", "controls", "S05", "energy_gj"),
    }
    words = [r[name] for r in design if r[site] is None]
    assert words == [t(OWN_HISTORY, lang)]
    assert all(r[role] == controls for r in design if r[site] is None)


@pytest.mark.parametrize("lang", LANGS)
def test_the_xlsx_traces_each_figure_to_the_files_of_the_sites_its_estimate_read(
    reports: dict[tuple[str, str], Path], lang: str
) -> None:
    path = reports["xlsx", lang]
    estimates = _xlsx_table(path, t("report.section.estimates", lang)).to_dicts()
    cells = {(r[column(lang, "pilot_code")], r[column(lang, "metric_code")]): r for r in estimates}
    for key in KEYS:
        assert cells[key][column(lang, "control_sites")] == controls_cell(key, lang), key
        assert source_file_names(cells[key][column(lang, "source_files")]) == SOURCES[key], key
    sources = _xlsx_table(path, t("report.section.sources", lang)).to_dicts()
    by_key: dict[tuple[str, str], list[str]] = {}
    for r in sources:
        by_key.setdefault((r[column(lang, "pilot_code")], r[column(lang, "metric_code")]), []).append(
            r[column(lang, "file")]
        )
    assert {key: tuple(files) for key, files in by_key.items()} == SOURCES
    # the lineage lists the uploads behind some figure: not S06's energy nor the controls' output, which none read
    lineage = _xlsx_table(path, t("report.section.lineage", lang)).to_dicts()
    assert [r[column(lang, "file")] for r in lineage] == ["treated.csv", "controls_energy.csv"]


@pytest.mark.parametrize("lang", LANGS)
def test_the_pdf_says_the_its_metric_uses_no_control_sites(estimated: tuple[Path, int], lang: str) -> None:
    con = connect(estimated[0], read_only=True)
    try:
        report = assemble_report(con, 2024, estimated[1])
    finally:
        con.close()
    html = build_html(report, lang)
    controls = escape(t("report.pilot.controls", lang))
    start = html.index('id="pilot-P-A"')
    pilot_a = html[start : html.index('id="pilot-P-B"')]
    rows = [row.split("</td>")[0] for row in pilot_a.split(f"<td>{controls}</td><td>")[1:]]
    # P-A's design table (the sites of both its metrics), then its output section: no controls, in words
    assert rows == [
        f"{escape(t('report.pilot.controls_default', lang))}: {SITE_WORD[lang]} S04 (S04), {SITE_WORD[lang]} S05 (S05)",
        escape(t(OWN_HISTORY, lang)),
    ]
    assert pilot_a.index(f"<td>{controls}</td><td>{rows[1]}</td>") > pilot_a.index("(output_t,")
    assert "(S06)" not in html  # listed nowhere as a site of the design (the checks in words say it was left out)


def test_the_pdf_renders(reports: dict[tuple[str, str], Path]) -> None:
    assert reports["pdf", "en"].read_bytes().startswith(b"%PDF")


def test_a_result_carried_forward_keeps_the_controls_its_estimate_used(
    estimated: tuple[Path, int], tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh.duckdb"
    warehouse.write_bytes(estimated[0].read_bytes())
    again = estimate(warehouse)  # nothing changed: every result is carried forward, with its estimate's controls
    assert (again["n_estimated"], again["n_reused"]) == (0, len(KEYS))
    assert used_controls(warehouse, int(again["run_id"])) == USED
    only_b = estimate(warehouse, "--pilot", "P-B")  # P-A's results carried forward without a check of their inputs
    assert used_controls(warehouse, int(only_b["run_id"])) == USED


def test_rows_of_an_earlier_run_keep_the_controls_they_recorded(estimated: tuple[Path, int], tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    warehouse.write_bytes(estimated[0].read_bytes())
    first = estimated[1]
    # as a run before runs recorded the controls used stored its ITS row: every control offered
    con = connect(warehouse)
    try:
        con.execute(
            "UPDATE estimate_results SET control_sites = ? WHERE run_id = ? AND pilot_code = 'P-A' "
            "AND metric_code = 'output_t'",
            [list(OFFERED), first],
        )
    finally:
        con.close()
    report = tmp_path / "old.csv"
    assert (
        cli(warehouse, "report", "--year", "2024", "--format", "csv", "--out", str(report), "--run", str(first))[0] == 0
    )
    row = csv_rows(report, "en")["P-A", "output_t"]
    assert row[column("en", "control_sites")] == "; ".join(OFFERED)  # the report says what that run recorded
    assert "controls_output.csv" in source_file_names(row[column("en", "source_files")])

    later = int(estimate(warehouse, "--force")["run_id"])  # a new run records its own, and rewrites no earlier row
    assert used_controls(warehouse, later) == USED
    assert used_controls(warehouse, first)["P-A", "output_t"] == ("its", OFFERED)
