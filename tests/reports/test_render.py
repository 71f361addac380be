"""Renderers: PDF text (Kazakh letters, key figures, pages), XLSX typed numbers, CSV round trip, inert formulas."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from report_fixtures import INJECTION, KAZAKH_LETTERS, UPLOAD_INJECTION

from pilot_roi.i18n import format_money, format_percent, t
from pilot_roi.reports import RENDERERS, YearReport, report_from_snapshot

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"


def _pdf_text(path: Path) -> str:
    if not Path(PDFTOTEXT).exists():
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_renderers_are_a_registry():
    assert {"pdf", "xlsx", "csv"} <= set(RENDERERS)


@pytest.fixture(scope="module")
def pdf_kk(report: YearReport, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("pdf") / "report_kk.pdf"
    RENDERERS["pdf"](report, "kk", out)
    assert out.read_bytes().startswith(b"%PDF")
    return _pdf_text(out)


def test_pdf_in_kazakh_has_letters_key_figures_pages_and_contents(report: YearReport, pdf_kk: str):
    text = pdf_kk
    for letter in KAZAKH_LETTERS:
        assert letter in text, letter
    assert "₸" in text
    s = report.summary
    flat = " ".join(text.split())
    for figure in (s.demonstrated_annual_gain.value, s.investment_capex, s.portfolio_npv.value):
        assert format_money(figure, "kk").replace("\u00a0", " ") in flat.replace("\u00a0", " ")
    assert t("report.toc", "kk") in text
    assert t("report.demo_banner", "kk") in flat
    assert t("report.status_draft", "kk")[:20] in flat
    for pilot in report.pilots:
        assert pilot.code in text
    pages = text.count("\f")
    assert pages >= len(report.pilots) + 4
    assert f"{t('report.page', 'kk')} 1 / " in text
    for upload in report.lineage.uploads:
        assert upload.sha256[:16] in flat.replace(" ", "")


def test_no_pdf_page_holds_only_a_heading(report: YearReport, pdf_kk: str):
    # the "Pilots" heading sat alone on a page, the first pilot starting on the next (every pilot opens a page);
    # every page has its running header and footer, so a page of substance has more lines than those and a title
    pages = pdf_kk.split("\f")[:-1]  # pdftotext ends every page with a form feed
    thin = [i + 1 for i, page in enumerate(pages) if len([line for line in page.splitlines() if line.strip()]) <= 4]
    assert not thin, thin
    heading = t("report.section.pilots", "kk")
    under = [page for page in pages if any(line.strip() == heading for line in page.splitlines())]
    assert under and all(f"{report.pilots[0].code} — " in page for page in under[-1:])  # the first pilot right under it


def test_pdf_in_russian_and_english(report: YearReport, tmp_path: Path):
    for lang in ("ru", "en"):
        out = tmp_path / f"r_{lang}.pdf"
        RENDERERS["pdf"](report, lang, out)
        text = " ".join(_pdf_text(out).split())
        assert t("report.section.methodology", lang) in text
        assert t("report.grade.demonstrated", lang) in text


@pytest.fixture(scope="module")
def xlsx(report: YearReport, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    out = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    RENDERERS["xlsx"](report, "ru", out)
    return openpyxl.load_workbook(out)


def _sheet_rows(ws) -> tuple[list[str], list[tuple]]:  # type: ignore[no-untyped-def]
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[3]), rows[4:]


def test_xlsx_numbers_are_typed_and_equal_the_warehouse(report: YearReport, ro: duckdb.DuckDBPyConnection, xlsx):
    names = xlsx.sheetnames
    assert names[0] == t("report.section.summary", "ru")[:31]
    ws = xlsx[t("report.section.estimates", "ru")[:31]]
    header, rows = _sheet_rows(ws)
    col = {h: i for i, h in enumerate(header)}
    expected = {
        (r[0], r[1]): r[2:]
        for r in ro.execute(
            "SELECT pilot_code, metric_code, annual_gain_kzt, npv_kzt, effect, p_value FROM estimate_results "
            "WHERE run_id = ?",
            [report.reproducibility.run_id],
        ).fetchall()
    }
    assert len(rows) == len(expected)
    for row in rows:
        key = (row[col[t("report.col.pilot_code", "ru")]], row[col[t("report.col.metric_code", "ru")]])
        gain, npv, effect, p = expected[key]
        got = [row[col[t(k, "ru")]] for k in ("report.col.annual_gain", "report.col.npv", "report.col.effect",
                                              "report.col.p_value")]  # fmt: skip
        for value, want in zip(got, (gain, npv, effect, p), strict=True):
            if want is None:
                assert value is None
            else:
                # xlsxwriter writes 16 significant digits (Excel itself shows 15): equal to the last digit
                assert isinstance(value, int | float) and not isinstance(value, bool)
                assert value == pytest.approx(want, rel=1e-15, abs=0)
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A4")
    # a money cell carries a number format, not text
    cell = ws.cell(row=5, column=col[t("report.col.annual_gain", "ru")] + 1)
    assert cell.number_format == "#,##0"
    summary = xlsx[names[0]]
    values = {r[0]: r[2] for r in list(summary.iter_rows(values_only=True))[4:]}
    assert values["demonstrated_annual_gain"] == pytest.approx(report.summary.demonstrated_annual_gain.value, rel=1e-12)
    assert values["n_pilots"] == len(report.pilots)
    assert len(names) >= 10  # one sheet per section


def test_xlsx_text_cannot_run(xlsx):
    seen = set()
    for ws in xlsx.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), (ws.title, cell.value)
                    if INJECTION in cell.value or UPLOAD_INJECTION in cell.value:
                        seen.add(cell.value)
    assert "'" + UPLOAD_INJECTION in seen


def test_xlsx_injection_in_english_names(report: YearReport, tmp_path: Path):
    out = tmp_path / "en.xlsx"
    RENDERERS["xlsx"](report, "en", out)
    wb = openpyxl.load_workbook(out)
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + INJECTION in cells
    assert INJECTION not in cells


def test_csv_round_trips_with_bom(report: YearReport, ro: duckdb.DuckDBPyConnection, tmp_path: Path):
    out = tmp_path / "report.csv"
    RENDERERS["csv"](report, "en", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(header)}
    expected = {
        (r[0], r[1]): r[2:]
        for r in ro.execute(
            "SELECT pilot_code, metric_code, annual_gain_kzt, ci_low, grade FROM estimate_results WHERE run_id = ?",
            [report.reproducibility.run_id],
        ).fetchall()
    }
    assert len(body) == len(expected)
    for row in body:
        gain, lo, grade = expected[(row[col["Pilot code"]], row[col["Metric code"]])]
        assert (float(row[col["Annual gain, ₸"]]) if row[col["Annual gain, ₸"]] else None) == gain
        assert (float(row[col["95% CI low"]]) if row[col["95% CI low"]] else None) == lo
        assert row[col["Evidence grade"]] == t(f"report.grade.{grade}", "en")
        assert row[col["Demo data"]] == t("report.demo_banner", "en")
    names = [row[col["Pilot name"]] for row in body]
    assert "'" + INJECTION in names and INJECTION not in names


def test_csv_in_kazakh_keeps_cyrillic(report: YearReport, tmp_path: Path):
    out = tmp_path / "report_kk.csv"
    RENDERERS["csv"](report, "kk", out)
    text = out.read_text(encoding="utf-8-sig")
    assert t("report.col.metric", "kk") in text and "Маңғыстау" in text


def test_json_renderer_is_the_snapshot(report: YearReport, tmp_path: Path):
    out = tmp_path / "report.json"
    RENDERERS["json"](report, "en", out)
    assert report_from_snapshot(out.read_text(encoding="utf-8")) == report


def test_xlsx_methodology_writes_the_discount_rate_as_the_pdf_does(report: YearReport, xlsx):
    # The prose said "при ставке 0.15" while the PDF said "15,0 %"; the reproducibility sheet keeps the number.
    sheet = xlsx[t("report.section.methodology", "ru")[:31]]
    prose = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    rate = format_percent(100 * report.reproducibility.discount_rate, "ru")
    assert t("report.method_text.economics", "ru", horizon=report.reproducibility.horizon_years, rate=rate) in prose
    assert f"{report.reproducibility.discount_rate:g}" not in prose
