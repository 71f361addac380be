"""A report of run N lists the sites run N used (migration 0010), whatever the registry says later.

Every step goes through the real CLI (`pilot_roi.cli.main`) on DuckDB files in temporary folders, with the small
portfolio of tests/runner/test_metamorphic_e2e.py: one subsidiary (MTA), sites S01-S06, daily data January-May 2024;
P-A treats S01 and S02 from 2024-04-01 with default controls (S04-S06: P-B treats S03), P-B treats S03 from
2024-04-15 with listed controls S04-S06. After run 1 an admin moves P-A to S01 alone from 2024-03-15 with listed
controls S05 and S06, and P-B's go-live to 2025-01-15 with S04 as its only control. The report of run 1 (CSV, XLSX
and the PDF's design table) must still list what run 1 used, while a new run's report lists the new sites; a result
carried forward keeps the sites of the estimate it carries; a row stored before runs recorded their sites reports the
registry's, and says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))

from test_metamorphic_e2e import (
    _csv_table,
    _xlsx_table,
    cli,
    estimate,
    ingest,
    new_warehouse,
    observations,
    query,
    registry_yaml,
)

from pilot_roi.i18n import t
from pilot_roi.resources import migrations_dir
from pilot_roi.warehouse import connect, migrate

pytest.importorskip("pilot_roi.estimation.api", reason="estimate_effect is not installed yet")

KEYS = [("P-A", "energy_gj"), ("P-A", "output_t"), ("P-B", "energy_gj")]
# (treated sites with go-live, control sites, listed?) per pilot: as run 1 used them, and as the registry says later
FIRST = {
    "P-A": ((("S01", "2024-04-01"), ("S02", "2024-04-01")), ("S04", "S05", "S06"), False),
    "P-B": ((("S03", "2024-04-15"),), ("S04", "S05", "S06"), True),
}
LATER = {
    "P-A": ((("S01", "2024-03-15"),), ("S05", "S06"), True),
    "P-B": ((("S03", "2025-01-15"),), ("S04",), True),
}
SITE_COLUMNS = ("treated_sites", "control_sites", "control_rule")


def later_registry(pilots: tuple[str, ...] = ("P-A", "P-B")) -> str:
    """The registry after the admin's change of `pilots` (the others as before)."""
    text = registry_yaml()
    if "P-A" in pilots:
        old = "    sites: [{site: S01, go_live: 2024-04-01}, {site: S02, go_live: 2024-04-01}]\n"
        assert text.count(old) == 1
        text = text.replace(old, "    sites: [{site: S01, go_live: 2024-03-15}]\n    controls: [S05, S06]\n")
    if "P-B" in pilots:
        old = "    sites: [{site: S03, go_live: 2024-04-15}]\n    controls: [S04, S05, S06]\n"
        assert text.count(old) == 1
        text = text.replace(old, "    sites: [{site: S03, go_live: 2025-01-15}]\n    controls: [S04]\n")
    return text


def load_registry(warehouse: Path, text: str) -> None:
    """`registry load` of `text`, which must be accepted."""
    path = warehouse.with_name("later.yaml")
    path.write_text(text, encoding="utf-8")
    assert cli(warehouse, "registry", "load", str(path))[0] == 0


def report_files(warehouse: Path, folder: Path, run_id: int, year: int = 2024) -> dict[str, Path]:
    """`report --run RUN --year YEAR` as CSV, XLSX and PDF (en) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in ("csv", "xlsx", "pdf"):
        out[fmt] = folder / f"report.{fmt}"
        code, _ = cli(warehouse, "report", "--year", str(year), "--format", fmt, "--out", str(out[fmt]),
                      "--run", str(run_id))  # fmt: skip
        assert code == 0, fmt
    return out


def treated_text(treated: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(f"{site} ({go_live})" for site, go_live in treated)


def csv_sites(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(pilot, metric) -> (treated sites cell, control sites cell) of the report's CSV."""
    head = {
        key: t(f"report.col.{key}", "en") for key in ("pilot_code", "metric_code", "treated_sites", "control_sites")
    }
    return {
        (row[head["pilot_code"]], row[head["metric_code"]]): (row[head["treated_sites"]], row[head["control_sites"]])
        for row in _csv_table(path)
    }


def xlsx_design(path: Path) -> dict[str, tuple[Any, ...]]:
    """pilot -> (treated sites with go-live, control sites, recorded by the run?) from the XLSX's design sheet."""
    rows = _xlsx_table(path, t("report.pilot.design", "en")).to_dicts()
    treated_label, controls_label = t("report.pilot.treated", "en"), t("report.pilot.controls", "en")
    out: dict[str, tuple[Any, ...]] = {}
    for pilot in sorted({r[t("report.col.pilot_code", "en")] for r in rows}):
        mine = [r for r in rows if r[t("report.col.pilot_code", "en")] == pilot]
        role, site, go_live = (t(key, "en") for key in ("report.pilot.design", "report.col.site", "report.col.go_live"))
        out[pilot] = (
            tuple((r[site], str(r[go_live])[:10]) for r in mine if r[role] == treated_label),
            tuple(r[site] for r in mine if r[role] == controls_label),
            {r[t("report.col.sites_recorded", "en")] for r in mine},
        )
    return out


def pdf_text(path: Path) -> str:
    """The PDF's text, whitespace collapsed (table cells wrap)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def pdf_design(text: str, pilot: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The treated sites (with go-live) and control sites of the PDF's design table of `pilot`."""
    name = {"P-A": "Pilot A", "P-B": "Pilot B"}[pilot]
    section = text.rsplit(f"{pilot} — {name}", 1)[1]
    treated_label, controls_label = t("report.pilot.treated", "en"), t("report.pilot.controls", "en")
    match = re.search(rf"{treated_label} (.*?) {controls_label} (.*?) {t('report.pilot.metrics', 'en')} ", section)
    assert match, section[:500]
    treated = tuple(re.findall(r"\((S\d\d), (\d{4}-\d\d-\d\d)\)", match.group(1)))
    controls = tuple(re.findall(r"\((S\d\d)\)", match.group(2)))
    return treated, controls


def expected_csv(design: dict[str, tuple[Any, ...]], keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    return {(p, m): (treated_text(design[p][0]), "; ".join(design[p][1])) for p, m in keys}


def stored_sites(warehouse: Path, run_id: int) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(pilot, metric) -> the sites run `run_id` recorded: ((site, go-live ISO), ...), (controls, ...), rule."""
    frame = query(
        warehouse,
        f"SELECT pilot_code, metric_code, {', '.join(SITE_COLUMNS)} FROM estimate_results WHERE run_id = {run_id:d} "
        "ORDER BY pilot_code, metric_code",
    )
    out = {}
    for r in frame.to_dicts():
        treated = None if r["treated_sites"] is None else tuple(
            (s["site_code"], s["go_live"].isoformat()) for s in r["treated_sites"]
        )  # fmt: skip
        controls = None if r["control_sites"] is None else tuple(r["control_sites"])
        out[(r["pilot_code"], r["metric_code"])] = (treated, controls, r["control_rule"])
    return out


def _rule(listed: bool) -> str:
    return "listed" if listed else "subsidiary_never_treated"


@pytest.fixture(scope="module")
def estimated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The portfolio loaded and estimated once: (warehouse, run id)."""
    folder = tmp_path_factory.mktemp("run_sites")
    warehouse = new_warehouse(folder / "baseline")
    observations().write_csv(folder / "all.csv")
    ingest(warehouse, folder / "all.csv")
    run = estimate(warehouse)
    assert run["n_estimated"] == len(KEYS) and run["n_errors"] == 0
    return warehouse, int(run["run_id"])


@pytest.fixture
def warehouse(estimated: tuple[Path, int], tmp_path: Path) -> Path:
    """A private copy of the estimated warehouse."""
    target = tmp_path / "wh" / "wh.duckdb"
    target.parent.mkdir()
    shutil.copyfile(estimated[0], target)
    return target


def test_a_run_records_the_sites_it_estimated_each_pilot_metric_with(estimated: tuple[Path, int]) -> None:
    warehouse, run_id = estimated
    recorded = stored_sites(warehouse, run_id)
    assert recorded == {(p, m): (FIRST[p][0], FIRST[p][1], _rule(FIRST[p][2])) for p, m in KEYS}


def test_the_report_of_an_earlier_run_lists_the_sites_it_used_after_the_registry_changes(
    estimated: tuple[Path, int], warehouse: Path, tmp_path: Path
) -> None:
    first = estimated[1]
    before = report_files(warehouse, tmp_path / "before", first)
    assert csv_sites(before["csv"]) == expected_csv(FIRST, KEYS)

    load_registry(warehouse, later_registry())
    assert query(warehouse, "SELECT count(*) AS n FROM pilot_treated_sites WHERE pilot_code = 'P-A'")["n"][0] == 1
    after = report_files(warehouse, tmp_path / "after", first)
    # the per pilot-metric table is the same file: the sites, the figures, the pilots in the year (P-B went live in
    # 2024 for run 1, though the registry now says 2025)
    assert after["csv"].read_bytes() == before["csv"].read_bytes()
    assert csv_sites(after["csv"]) == expected_csv(FIRST, KEYS)
    design = xlsx_design(after["xlsx"])
    yes = t("report.yes", "en")
    assert design == {p: (FIRST[p][0], FIRST[p][1], {yes}) for p in FIRST}
    assert xlsx_design(before["xlsx"]) == design
    text = pdf_text(after["pdf"])
    for pilot in FIRST:
        assert pdf_design(text, pilot) == FIRST[pilot][:2], pilot
    assert t("report.pilot.controls_default", "en") in text  # P-A's controls were its default ones in run 1
    assert "registry listed them" not in text

    # a new run estimates with the new sites, and its report lists them: P-B is no longer live in 2024
    run = estimate(warehouse)
    second = int(run["run_id"])
    assert (run["n_estimated"], run["n_reused"]) == (len(KEYS), 0)
    assert stored_sites(warehouse, second) == {(p, m): (LATER[p][0], LATER[p][1], "listed") for p, m in KEYS}
    new_2024 = report_files(warehouse, tmp_path / "new_2024", second)
    assert csv_sites(new_2024["csv"]) == expected_csv(LATER, KEYS[:2])
    assert xlsx_design(new_2024["xlsx"]) == {"P-A": (LATER["P-A"][0], LATER["P-A"][1], {yes})}
    text = pdf_text(new_2024["pdf"])
    assert pdf_design(text, "P-A") == LATER["P-A"][:2]
    assert "P-B — Pilot B" not in text
    new_2025 = report_files(warehouse, tmp_path / "new_2025", second, year=2025)
    assert csv_sites(new_2025["csv"]) == expected_csv(LATER, KEYS)
    text = pdf_text(new_2025["pdf"])
    for pilot in LATER:
        assert pdf_design(text, pilot) == LATER[pilot][:2], pilot

    # and the report of run 1 is still what it was
    again = report_files(warehouse, tmp_path / "again", first)
    assert again["csv"].read_bytes() == before["csv"].read_bytes()
    assert xlsx_design(again["xlsx"]) == design


def test_the_lineage_of_an_earlier_run_lists_the_uploads_of_the_sites_it_used(
    estimated: tuple[Path, int], warehouse: Path, tmp_path: Path
) -> None:
    first = estimated[1]
    # S02 sends a second file after run 1 (its own values, so they are not in force when run 1 started)
    values = query(warehouse, "SELECT site_code, metric_code, period, value * 1.01 AS value FROM observations "
                              "WHERE site_code = 'S02' ORDER BY ALL")  # fmt: skip
    values.write_csv(tmp_path / "s02.csv")
    ingest(warehouse, tmp_path / "s02.csv")
    load_registry(warehouse, later_registry())
    run = estimate(warehouse)
    uploads_sheet = t("report.section.lineage", "en")
    file_column = t("report.col.file", "en")
    old = _xlsx_table(report_files(warehouse, tmp_path / "old", first)["xlsx"], uploads_sheet).to_dicts()
    new = _xlsx_table(report_files(warehouse, tmp_path / "new", int(run["run_id"]))["xlsx"], uploads_sheet).to_dicts()
    assert [r[file_column] for r in old] == ["all.csv"]  # run 1 started before s02.csv
    # run 2 no longer uses S02 (P-A dropped it, and it is no control): its restated values are behind no figure
    assert [r[file_column] for r in new] == ["all.csv"]
    rows = t("report.col.rows_current", "en")
    assert new[0][rows] < old[0][rows]


def test_the_lineage_of_an_earlier_run_lists_the_uploads_of_a_metric_dropped_since(tmp_path: Path) -> None:
    # energy and output come in two files; after run 1 the admin drops output_t from P-A (and no pilot measures it)
    warehouse = new_warehouse(tmp_path / "wh")
    for metric in ("energy_gj", "output_t"):
        observations().filter(pl.col("metric_code") == metric).write_csv(tmp_path / f"{metric}.csv")
        ingest(warehouse, tmp_path / f"{metric}.csv")
    first = int(estimate(warehouse)["run_id"])
    load_registry(warehouse, registry_yaml().replace("metrics: [energy_gj, output_t]", "metrics: [energy_gj]"))
    assert query(warehouse, "SELECT count(*) AS n FROM pilot_metrics WHERE metric_code = 'output_t'")["n"][0] == 0
    second = int(estimate(warehouse)["run_id"])
    sheet, file_column = t("report.section.lineage", "en"), t("report.col.file", "en")

    def lineage(run_id: int) -> list[str]:
        report = report_files(warehouse, tmp_path / f"run{run_id}", run_id)
        return [r[file_column] for r in _xlsx_table(report["xlsx"], sheet).to_dicts()]

    assert csv_sites(report_files(warehouse, tmp_path / "csv", first)["csv"]).keys() == set(KEYS)
    assert lineage(first) == ["energy_gj.csv", "output_t.csv"]  # before: energy_gj.csv alone, by today's registry
    assert lineage(second) == ["energy_gj.csv"]  # run 2 estimated no output figure


def test_a_result_carried_forward_keeps_the_sites_of_the_estimate_it_carries(
    estimated: tuple[Path, int], warehouse: Path, tmp_path: Path
) -> None:
    first = estimated[1]
    load_registry(warehouse, later_registry())
    # only P-A is re-examined: P-B's result is carried forward from run 1 as it is, estimated with run 1's sites
    run = estimate(warehouse, "--pilot", "P-A")
    second = int(run["run_id"])
    assert (run["n_estimated"], run["n_reused"]) == (2, 1)
    recorded = stored_sites(warehouse, second)
    assert recorded[("P-B", "energy_gj")] == stored_sites(warehouse, first)[("P-B", "energy_gj")]
    assert recorded[("P-A", "energy_gj")] == (LATER["P-A"][0], LATER["P-A"][1], "listed")
    files = report_files(warehouse, tmp_path / "second", second)
    assert csv_sites(files["csv"]) == {**expected_csv(LATER, KEYS[:2]), **expected_csv(FIRST, KEYS[2:])}
    text = pdf_text(files["pdf"])
    assert pdf_design(text, "P-A") == LATER["P-A"][:2]
    assert pdf_design(text, "P-B") == FIRST["P-B"][:2]


def test_unchanged_inputs_are_still_carried_forward_with_the_same_sites(
    estimated: tuple[Path, int], warehouse: Path
) -> None:
    first = estimated[1]
    run = estimate(warehouse)
    assert (run["n_estimated"], run["n_reused"]) == (0, len(KEYS))
    assert stored_sites(warehouse, int(run["run_id"])) == stored_sites(warehouse, first)


def _forget_sites(warehouse: Path, run_id: int) -> None:
    """Make run `run_id`'s rows look as stored before migration 0010 (no sites recorded)."""
    con = connect(warehouse)
    try:
        con.execute(f"UPDATE estimate_results SET {', '.join(f'{c} = NULL' for c in SITE_COLUMNS)} WHERE run_id = ?",
                    [run_id])  # fmt: skip
    finally:
        con.close()


def test_a_run_stored_before_runs_recorded_their_sites_reports_the_registrys_and_says_so(
    estimated: tuple[Path, int], warehouse: Path, tmp_path: Path
) -> None:
    first = estimated[1]
    recorded = report_files(warehouse, tmp_path / "recorded", first)
    _forget_sites(warehouse, first)
    assert set(stored_sites(warehouse, first).values()) == {(None, None, None)}
    old = report_files(warehouse, tmp_path / "old", first)
    # the registry has not changed: the same sites, the same figures; only the design sheet says whence
    assert old["csv"].read_bytes() == recorded["csv"].read_bytes()
    no = t("report.no", "en")
    assert xlsx_design(old["xlsx"]) == {p: (FIRST[p][0], FIRST[p][1], {no}) for p in FIRST}
    text = pdf_text(old["pdf"])
    assert " ".join(t("report.pilot.sites_from_registry", "en", run=first).split()) in text
    for pilot in FIRST:
        assert pdf_design(text, pilot) == FIRST[pilot][:2], pilot

    # with nothing recorded, the report can only follow the registry (as rows stored before 0009 follow its prices)
    load_registry(warehouse, later_registry(("P-A",)))
    later = report_files(warehouse, tmp_path / "later", first)
    assert csv_sites(later["csv"]) == {**expected_csv(LATER, KEYS[:2]), **expected_csv(FIRST, KEYS[2:])}
    assert pdf_design(pdf_text(later["pdf"]), "P-A") == LATER["P-A"][:2]


def test_a_result_carried_forward_from_before_0010_gets_the_sites_its_unchanged_inputs_name(
    estimated: tuple[Path, int], warehouse: Path
) -> None:
    first = estimated[1]
    _forget_sites(warehouse, first)
    run = estimate(warehouse)  # nothing changed: every estimate is carried forward, and the inputs hash names the sites
    assert (run["n_estimated"], run["n_reused"]) == (0, len(KEYS))
    assert stored_sites(warehouse, int(run["run_id"])) == {
        (p, m): (FIRST[p][0], FIRST[p][1], _rule(FIRST[p][2])) for p, m in KEYS
    }
    # while a result carried forward without a check of its inputs (another pilot re-examined) stays unknown
    _forget_sites(warehouse, int(run["run_id"]))
    third = estimate(warehouse, "--pilot", "P-B")
    sites = stored_sites(warehouse, int(third["run_id"]))
    assert sites[("P-A", "energy_gj")] == sites[("P-A", "output_t")] == (None, None, None)
    assert sites[("P-B", "energy_gj")] == (FIRST["P-B"][0], FIRST["P-B"][1], "listed")


def test_migration_0010_keeps_earlier_results_with_no_sites(tmp_path: Path) -> None:
    old_set = tmp_path / "old_migrations"
    old_set.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if not path.name.startswith("0010_"):
            shutil.copy(path, old_set / path.name)
    con = connect(tmp_path / "w.duckdb", create=True)
    try:
        migrate(con, folder=old_set)
        con.execute("INSERT INTO estimate_runs (status, data_version, code_version, parameters, started_by) "
                    "VALUES ('finished', 'd', 'c', '{}', 'test')")  # fmt: skip
        con.execute(
            "INSERT INTO estimate_results (run_id, pilot_code, metric_code, inputs_hash, status, grade, capex_kzt) "
            "VALUES (1, 'P', 'm', 'h', 'ok', 'promising', 5.0)"
        )
        assert migrate(con) == 1
        assert con.execute(f"SELECT capex_kzt, {', '.join(SITE_COLUMNS)} FROM estimate_results").fetchall() == [
            (5.0, None, None, None)
        ]
        assert migrate(con) == 0
    finally:
        con.close()


def test_the_pdf_names_a_metrics_own_sites_where_the_run_used_others_than_the_pilots(
    estimated: tuple[Path, int],
) -> None:
    # e.g. a control that another pilot touches within one metric's window only: the pilot lists every site of its
    # metrics, and the metric says which of them it was estimated with
    from dataclasses import replace

    from pilot_roi.reports import assemble_report
    from pilot_roi.reports.to_pdf import build_html

    con = connect(estimated[0], read_only=True)
    try:
        report = assemble_report(con, 2024, estimated[1])
    finally:
        con.close()
    pilot = next(p for p in report.pilots if p.code == "P-A")
    energy, output = pilot.metrics
    assert energy.treated_sites == output.treated_sites == pilot.treated_sites
    assert energy.controls == output.controls == pilot.controls
    controls_row = re.compile(re.escape(t("report.pilot.controls", "en")) + r"</td><td>([^<]*)</td>")
    assert len(controls_row.findall(build_html(report, "en"))) == len(report.pilots)  # the design tables only

    fewer = replace(energy, controls=pilot.controls[1:])
    changed = replace(report, pilots=tuple(replace(p, metrics=(fewer, output)) if p is pilot else p
                                           for p in report.pilots))  # fmt: skip
    rows = controls_row.findall(build_html(changed, "en"))
    assert len(rows) == len(report.pilots) + 1
    assert rows[1] == "Site S05 (S05), Site S06 (S06)"  # after P-A's design table, in its energy section
