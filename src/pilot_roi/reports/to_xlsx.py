"""XLSX rendering: one sheet per section, numbers as typed numbers with formats, frozen headers, filters.

Text cells go through `neutralise` and a `safe_workbook` (strings never become formulas or links). XLSX has no
infinity: the model's one infinite number, a payback that never comes, is written in words ("never pays back").
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pilot_roi import clock
from pilot_roi.i18n import format_percent, t
from pilot_roi.reports.model import YearReport
from pilot_roi.reports.neutralise import neutralise
from pilot_roi.reports.tables import Table, all_tables
from pilot_roi.safe_export import safe_workbook

_NUM_FORMATS = {
    "money": "#,##0",
    "number": "#,##0.####",
    "pct": "0.00",
    "ratio": "0.00%",
    "p": "0.0000",
    "int": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
_WIDTHS = {"money": 16, "number": 14, "pct": 10, "ratio": 10, "p": 10, "int": 10, "date": 12, "datetime": 19}
_INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_name(title: str, used: set[str]) -> str:
    base = title.translate(_INVALID_SHEET_CHARS).strip().strip("'")[:31] or "sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def render_xlsx(report: YearReport, lang: str, out: Path) -> None:
    """Write the report as an XLSX workbook to `out`."""
    with safe_workbook(out, constant_memory=True) as wb:
        header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
        title_fmt = wb.add_format({"bold": True, "font_size": 13})
        banner = wb.add_format({"bold": True, "font_color": "#C00000"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        formats = {kind: wb.add_format({"num_format": fmt}) for kind, fmt in _NUM_FORMATS.items()}
        used: set[str] = set()
        wb.set_properties({"title": t("report.title", lang, year=report.year), "comments": "pilot-roi"})

        for table in all_tables(report, lang):
            _write_table(
                wb.add_worksheet(_sheet_name(table.title, used)),
                table,
                report,
                lang,
                header,
                title_fmt,
                banner,
                formats,
            )

        ws = wb.add_worksheet(_sheet_name(t("report.section.methodology", lang), used))
        ws.set_column(0, 0, 120, wrap)
        ws.write_string(0, 0, neutralise(t("report.section.methodology", lang)), title_fmt)
        if report.demo:
            ws.write_string(1, 0, neutralise(t("report.demo_banner", lang)), banner)
        paragraphs = [t(f"report.method_text.{key}", lang) for key in ("p1", "did", "sc", "its", "grades")] + [
            t(
                "report.method_text.economics",
                lang,
                horizon=report.reproducibility.horizon_years,
                rate=format_percent(100 * report.reproducibility.discount_rate, lang),  # as the PDF writes it
            ),
            t("report.method_text.limits", lang),
        ]
        for i, text in enumerate(paragraphs, start=2):
            ws.write_string(i, 0, neutralise(text), wrap)


def _write_cell(ws: Any, row: int, col: int, value: Any, kind: str, formats: dict[str, Any], never: str) -> None:
    if value is None:
        return
    if isinstance(value, float) and math.isinf(value):
        ws.write_string(row, col, neutralise(never))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, formats["datetime"])
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), formats["date"])
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, formats.get(kind, formats["number"]))
    else:
        ws.write_string(row, col, neutralise(str(value)))


def _write_table(
    ws: Any,
    table: Table,
    report: YearReport,
    lang: str,
    header: Any,
    title_fmt: Any,
    banner: Any,
    formats: dict[str, Any],
) -> None:
    ws.write_string(0, 0, neutralise(f"{table.title} — {t('report.title', lang, year=report.year)}"), title_fmt)
    note = t("report.demo_banner", lang) if report.demo else ""
    if report.reproducibility.frozen:
        status = t(
            "report.status_frozen",
            lang,
            user=report.reproducibility.frozen_by or "",
            when=clock.stamp(report.reproducibility.frozen_at),
            run=report.reproducibility.run_id,
        )
    else:
        status = t("report.status_draft", lang)
    ws.write_string(1, 0, neutralise(f"{note}  {status}".strip()), banner)
    head_row = 3
    for col, column in enumerate(table.columns):
        ws.write_string(head_row, col, neutralise(column.header), header)
        width = _WIDTHS.get(column.kind, 18)
        if column.kind == "text":
            longest = max((len(str(r[col])) for r in table.rows[:200] if r[col] is not None), default=10)
            width = min(max(longest, len(column.header) // 2, 8) + 2, 60)
        ws.set_column(col, col, width)
    kinds = [c.kind for c in table.columns]
    never = t("estimate.payback_never", lang)
    for r, row in enumerate(table.rows, start=head_row + 1):
        for col, value in enumerate(row):
            _write_cell(ws, r, col, value, kinds[col], formats, never)
    ws.freeze_panes(head_row + 1, 0)
    ws.autofilter(head_row, 0, head_row + max(len(table.rows), 1), len(table.columns) - 1)
