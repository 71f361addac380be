"""A reviewer traces and recomputes the report's figures from the report alone.

- Every pilot-metric names the uploads its estimate rests on (upload, file, SHA-256, values), in the PDF under the
  metric, on an XLSX sheet and in a CSV column; the counts are those of its own metric at its own sites, in force when
  the run started, so a restatement after the run leaves an earlier run's report naming the earlier file.
- The CSV alone recomputes annual gain, NPV, ROI and payback (PRODUCT.md's formulas), the sign of the gain included.
- Audit events are in the reader's words in the XLSX, beside their code, as in the PDF.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from report_fixtures import Built, restate, write_run

from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, YearReport, assemble_report
from pilot_roi.reports.tables import ESTIMATE_FIELDS
from pilot_roi.warehouse import connect

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"


def _pdf_text(path: Path) -> str:
    if not Path(PDFTOTEXT).exists():
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _values_at(con: duckdb.DuckDBPyConnection, metric: str, sites: list[str]) -> dict[int, int]:
    rows = con.execute(
        "SELECT upload_id, count(*) FROM observations WHERE metric_code = ? AND list_contains(?, site_code) "
        "GROUP BY upload_id",
        [metric, sites],
    ).fetchall()
    return {int(u): int(n) for u, n in rows}


def test_each_estimate_names_its_upload_files_with_the_values_it_used(
    report: YearReport, ro: duckdb.DuckDBPyConnection
):
    uploads = {u.upload_id: u for u in report.lineage.uploads}
    for p in report.pilots:
        for m in p.metrics:
            sites = [s.site_code for s in (*m.treated_sites, *m.controls)]
            expected = _values_at(ro, m.metric_code, sites)
            assert {s.upload_id: s.n_values for s in m.sources} == expected, (p.code, m.metric_code)
            for s in m.sources:  # the same file and hash as the lineage table the PDF prints
                assert (s.file_name, s.sha256) == (uploads[s.upload_id].file_name, uploads[s.upload_id].sha256)


def test_the_pdf_xlsx_and_csv_name_each_estimates_files(report: YearReport, tmp_path: Path):
    RENDERERS["pdf"](report, "ru", tmp_path / "r.pdf")
    flat = "".join(_pdf_text(tmp_path / "r.pdf").split())
    RENDERERS["xlsx"](report, "ru", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)[t("report.section.sources", "ru")[:31]]
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0] is not None]
    RENDERERS["csv"](report, "ru", tmp_path / "r.csv")
    body = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))[1:]
    files_col = [f.id for f in ESTIMATE_FIELDS].index("source_files")
    csv_files = {(r[0], r[4]): r[files_col] for r in body}
    sources = [(p.code, m.metric_code, s) for p in report.pilots for m in p.metrics for s in m.sources]
    assert sources
    for pilot, metric, s in sources:
        # the PDF, under the metric: "№4 KMG_metrics_2023_2025.csv: 1 234" (pdftotext may wrap a long file name)
        assert "".join(f"№{s.upload_id} {s.file_name}: {s.n_values:,}".replace(",", "\u00a0").split()) in flat
        assert (pilot, metric, s.upload_id, s.file_name.lstrip("'"), s.sha256, s.n_values) in {
            (r[0], r[1], r[2], str(r[3]).lstrip("'"), r[4], r[5]) for r in rows
        }
        assert f"{s.upload_id}: " in csv_files[pilot, metric]


def test_an_earlier_runs_report_names_the_files_in_force_when_it_ran(fresh: Built):
    restate(fresh.path, "P000-S0", "energy_gj", 1.2)  # after run 1: restated.csv replaces these values
    con = connect(fresh.path)
    try:
        new_run = write_run(con, seed=8)
        earlier, later = assemble_report(con, 2025, fresh.run_id), assemble_report(con, 2025, new_run)
        n_restated = con.execute("SELECT count(*) FROM upload_log WHERE file_name = 'restated.csv'").fetchone()
        restated = con.execute(
            "SELECT count(*) FROM observations o JOIN upload_log u USING (upload_id) WHERE u.file_name = 'restated.csv'"
        ).fetchone()[0]
    finally:
        con.close()
    assert n_restated == (1,) and restated > 0

    def files(report: YearReport) -> dict[str, int]:
        metric = next(m for p in report.pilots if p.code == "P000" for m in p.metrics if m.metric_code == "energy_gj")
        return {s.file_name: s.n_values for s in metric.sources}

    assert "restated.csv" not in files(earlier)
    assert files(later)["restated.csv"] == restated
    assert sum(files(later).values()) == sum(files(earlier).values())  # the same values, from other files
    # a pilot-metric that does not use P000-S0 names no restated file in either run
    others = [m for p in later.pilots if p.code != "P000" for m in p.metrics]
    assert others and all(s.file_name != "restated.csv" for m in others for s in m.sources)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_csv_alone_recomputes_gain_npv_roi_and_payback(report: YearReport, lang: str, tmp_path: Path):
    """PRODUCT.md: annual gain = effect × value per unit × periods per year × treated sites, signed so that a gain is
    positive; NPV = (gain − opex) × annuity − capex; ROI = NPV / (capex + opex × annuity); payback = capex / monthly
    net gain. Before, the CSV had neither the sign, the costs nor the discount rate and horizon."""
    out = tmp_path / "r.csv"
    RENDERERS["csv"](report, lang, out)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    ids = [f.id for f in ESTIMATE_FIELDS]
    assert len(header) == len(ids) + 5
    rate_at = header.index(t("report.repro.discount_rate", lang))
    horizon_at = header.index(t("report.repro.horizon", lang))
    checked = 0
    for row in body:
        cell = dict(zip(ids, row, strict=False))
        if not cell["effect"]:
            continue
        gain = (
            float(cell["effect"])
            * float(cell["value_kzt_per_unit"])
            * float(cell["periods_per_year"])
            * int(cell["n_treated"])
            * int(cell["gain_sign"])
        )
        assert gain == pytest.approx(float(cell["annual_gain_kzt"]), rel=1e-12)
        rate, horizon = float(row[rate_at]), int(row[horizon_at])
        annuity = sum((1 + rate) ** -year for year in range(1, horizon + 1))
        capex, opex = float(cell["capex"]), float(cell["opex_per_year"])
        npv = (gain - opex) * annuity - capex
        assert npv == pytest.approx(float(cell["npv_kzt"]), rel=1e-9, abs=1e-3)
        assert npv / (capex + opex * annuity) == pytest.approx(float(cell["roi"]), rel=1e-9)
        payback = capex / ((gain - opex) / 12) if gain > opex else math.inf
        if cell["payback_months"]:  # "inf" reads as infinity; the fixture's runner stored "never" as NULL (empty)
            assert payback == pytest.approx(float(cell["payback_months"]), rel=1e-9)
        else:
            assert math.isinf(payback)
        checked += 1
    assert checked >= 5
    signs = {cell[[f.id for f in ESTIMATE_FIELDS].index("gain_sign")] for cell in body}
    assert signs == {"1", "-1"}  # the fixture has metrics of both directions


def test_audit_events_are_in_the_readers_words_beside_their_code_in_the_xlsx(report: YearReport, tmp_path: Path):
    """The PDF's appendix said "Загрузка файла"; the XLSX sheet of the same edition only "upload"."""
    RENDERERS["xlsx"](report, "ru", tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    audit = list(wb[t("report.section.audit", "ru")[:31]].iter_rows(min_row=4, values_only=True))
    code_at, words_at = audit[0].index(t("report.col.event", "ru")), audit[0].index(t("report.col.event_text", "ru"))
    pairs = {(r[code_at], r[words_at]) for r in audit[1:] if r[0] is not None}
    assert ("upload", t("dash.audit.action.upload", "ru")) in pairs
    assert ("registry_load", t("dash.audit.action.registry_load", "ru")) in pairs


def test_the_design_sheet_heads_site_names_as_names(report: YearReport, tmp_path: Path):
    """The column read "Объект (параметр)" / "Site (item)": the site's name, headed as a parameter."""
    RENDERERS["xlsx"](report, "ru", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)[t("report.pilot.design", "ru")[:31]]
    header = next(sheet.iter_rows(min_row=4, max_row=4, values_only=True))
    assert "Название объекта" in header and not [h for h in header if h and "параметр" in str(h)]
