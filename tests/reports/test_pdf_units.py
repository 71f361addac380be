"""The PDF report writes each metric's unit in the reader's language (the fixture's registry has GJ, t and h);
the XLSX keeps the registry's own text, as data."""

from __future__ import annotations

from html import escape
from pathlib import Path

import openpyxl
import pytest

from pilot_roi.i18n import t
from pilot_roi.reports import RENDERERS, YearReport
from pilot_roi.reports.to_pdf import build_html

SHOWN = {
    "ru": {"GJ": "ГДж", "t": "т", "h": "ч"},
    "kk": {"GJ": "ГДж", "t": "т", "h": "сағ"},
    "en": {"GJ": "GJ", "t": "t", "h": "h"},
}


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_metric_units_are_in_the_readers_language(report: YearReport, lang: str) -> None:
    html = build_html(report, lang)
    metrics = [m for p in report.pilots for m in p.metrics]
    assert {m.unit for m in metrics} == set(SHOWN[lang])
    for m in metrics:
        shown = SHOWN[lang][m.unit]
        name = escape(m.metric_name.get(lang))
        assert f"({escape(m.metric_code)}, {escape(shown)})" in html, (lang, m.metric_code)  # the metric heading
        assert f"{name} ({escape(shown)})" in html, (lang, m.metric_code)  # the pilot's design: its metrics
        if lang != "en":
            assert f"({escape(m.metric_code)}, {m.unit})" not in html and f"{name} ({m.unit})" not in html
    effects = [m for m in metrics if m.status == "ok" and m.effect is not None]
    assert effects
    for m in effects:  # the effect row: "12,3 т (95% ДИ: …"
        assert f"{escape(SHOWN[lang][m.unit])} ({escape(t('report.ci95', lang))}:" in html


def test_the_xlsx_keeps_the_registry_unit(report: YearReport, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    RENDERERS["xlsx"](report, "ru", out)
    sheet = openpyxl.load_workbook(out)[t("report.section.estimates", "ru")]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if t("report.col.unit", "ru") in r)
    column = rows[header].index(t("report.col.unit", "ru"))
    assert {r[column] for r in rows[header + 1 :] if r[column]} == {"GJ", "t", "h"}
