"""The year-end report gives its moments on Kazakhstan's clock and says so.

The warehouse stores uploads, restatements, audit events, runs and freezes in UTC; a reviewer in Astana reads the
report on UTC+5. Every moment in the XLSX (lineage, restatements, audit, reproducibility) and the PDF must be the
stored moment moved to that clock, under a header that names the offset, in every language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from test_metamorphic_e2e import cli, estimate, ingest, new_warehouse, observations, query

from pilot_roi import clock
from pilot_roi.i18n import t
from pilot_roi.reports.to_pdf import build_html


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("times")
    data = folder / "data.csv"
    observations().write_csv(data)
    path = new_warehouse(folder / "wh")
    ingest(path, data)
    estimate(path)
    return path


def _sheet(path: Path, title: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = next(ws for ws in book.worksheets if ws.title == title[:31])
        return [tuple(row) for row in sheet.iter_rows(min_row=4, values_only=True)]
    finally:
        book.close()


def _same(cell: object, moment: datetime) -> bool:
    """An XLSX date-time cell (Excel keeps milliseconds) is `moment`."""
    return isinstance(cell, datetime) and abs(cell - moment) < timedelta(milliseconds=1)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_xlsx_gives_every_moment_on_kazakhstans_clock(warehouse: Path, tmp_path: Path, lang: str) -> None:
    out = tmp_path / "report.xlsx"
    assert cli(warehouse, "--lang", lang, "report", "--year", "2024", "--format", "xlsx", "--out", str(out))[0] == 0
    zone = clock.offset_label()
    lineage = _sheet(out, t("report.section.lineage", lang))
    header, rows = lineage[0], [r for r in lineage[1:] if r and r[0] is not None]
    when = header.index(f"{t('report.col.uploaded_at', lang)} ({zone})")
    stored = dict(query(warehouse, "SELECT upload_id, uploaded_at FROM upload_log").iter_rows())
    assert rows and all(_same(r[when], clock.local(stored[int(r[0])])) for r in rows)

    repro = {row[0]: row for row in _sheet(out, t("report.section.reproducibility", lang))[1:] if row}
    run = query(warehouse, "SELECT started_at, finished_at FROM estimate_runs").row(0)
    for item, key, moment in (("run_started_at", "report.repro.run_started", run[0]),
                              ("run_finished_at", "report.repro.run_finished", run[1])):  # fmt: skip
        assert repro[item][1] == f"{t(key, lang)} ({zone})"
        assert _same(repro[item][2], clock.local(moment))


def test_the_pdf_gives_its_moments_on_kazakhstans_clock(warehouse: Path) -> None:
    from pilot_roi.reports import load_report
    from pilot_roi.warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        report = load_report(con, 2024)
    finally:
        con.close()
    html = build_html(report, "en")
    zone = clock.offset_label()
    assert f"{t('report.col.uploaded_at', 'en')} ({zone})" in html
    for upload in report.lineage.uploads:
        assert clock.local(upload.uploaded_at).strftime("%Y-%m-%d %H:%M:%S") in html
    assert f"{t('report.repro.assembled_at', 'en')} ({zone})" in html
    assert isinstance(report.reproducibility.assembled_at, datetime)
    assert clock.local(report.reproducibility.assembled_at).strftime("%Y-%m-%d %H:%M:%S") in html


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_pdfs_audit_appendix_names_actions_in_the_readers_words(warehouse: Path, lang: str) -> None:
    from pilot_roi.reports import load_report
    from pilot_roi.warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        report = load_report(con, 2024)
    finally:
        con.close()
    actions = {a.action for a in report.lineage.audit_events}
    assert "upload" in actions
    html = build_html(report, lang)
    for action in actions:
        assert f"<td>{t(f'dash.audit.action.{action}', lang)}</td>" in html, action
        assert f"<td>{action}</td>" not in html, action  # the code, not in the reader's language
