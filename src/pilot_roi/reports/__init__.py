"""The year-end report: assemble the numbers once (`assemble_report`), freeze them (`freeze_report`), render
them in any registered format (`RENDERERS`).

    report = load_report(con, 2025)                  # frozen snapshot, or assembled from the latest run
    RENDERERS["pdf"](report, "kk", Path("report.pdf"))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pilot_roi.reports.assemble import assemble_report, latest_year
from pilot_roi.reports.freeze import freeze_report, get_freeze, load_report, report_from_snapshot, snapshot_json
from pilot_roi.reports.model import YearReport
from pilot_roi.reports.to_csv import render_csv
from pilot_roi.reports.to_xlsx import render_xlsx


def render_pdf(report: YearReport, lang: str, out: Path) -> None:
    """Write the report as an A4 PDF (WeasyPrint is imported only when a PDF is asked for)."""
    from pilot_roi.reports.to_pdf import render_pdf as _render

    _render(report, lang, out)


def render_json(report: YearReport, lang: str, out: Path) -> None:
    """Write the assembled numbers as JSON (the same text a freeze stores); `lang` does not change numbers."""
    out.write_text(snapshot_json(report), encoding="utf-8")


Renderer = Callable[[YearReport, str, Path], None]
RENDERERS: dict[str, Renderer] = {"pdf": render_pdf, "xlsx": render_xlsx, "csv": render_csv, "json": render_json}

__all__ = [
    "RENDERERS",
    "Renderer",
    "YearReport",
    "assemble_report",
    "freeze_report",
    "get_freeze",
    "latest_year",
    "load_report",
    "render_csv",
    "render_json",
    "render_pdf",
    "render_xlsx",
    "report_from_snapshot",
    "snapshot_json",
]
