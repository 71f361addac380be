"""CSV rendering: the per pilot-metric table, UTF-8 with a BOM so Excel opens Cyrillic correctly.

Comma-separated with a `.` decimal point and full float precision (`repr`), so a reviewer's script reads
back exactly the report's numbers; headers are in the report's language; text cells are neutralised.
A payback that never comes is `inf` (as the `estimates` view's +infinity), which Python's `float` and pandas
read back as infinity; an empty cell means "not available", as everywhere in the file.
The last columns say the run, whether the report is frozen, whether the data are synthetic, and the discount rate and
horizon the run priced NPV, ROI and payback with (with the capex and opex columns, the file recomputes them alone).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from pilot_roi.i18n import t
from pilot_roi.reports.model import YearReport
from pilot_roi.reports.neutralise import neutralise
from pilot_roi.reports.tables import Cell, estimates_table


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(str(value))


def render_csv(report: YearReport, lang: str, out: Path) -> None:
    """Write the per pilot-metric table as CSV (UTF-8 with BOM) to `out`."""
    table = estimates_table(report, lang)
    r = report.reproducibility
    extra_headers = [
        t("report.repro.run_id", lang),
        t("report.repro.frozen", lang),
        t("report.repro.demo", lang),
        t("report.repro.discount_rate", lang),
        t("report.repro.horizon", lang),
    ]
    frozen = t("report.yes", lang) if r.frozen else t("report.no", lang)
    demo = t("report.demo_banner", lang) if report.demo else ""
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([neutralise(c.header) for c in table.columns] + [neutralise(h) for h in extra_headers])
        for row in table.rows:
            writer.writerow(
                [_cell(v) for v in row]
                + [str(r.run_id), frozen, neutralise(demo), _cell(r.discount_rate), str(r.horizon_years)]
            )
