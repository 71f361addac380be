"""Values written as percentages are read as the number the engineer sees, in the unit %.

An Excel cell formatted as a percentage stores 0.955 and shows "95.5%"; Excel's "Save as CSV" writes "95.5%". Both
must load into a metric kept in % as 95.5, bit for bit what a plain "95.5" gives (before, the XLSX cell loaded as
0.955, a silent hundredfold error, and the CSV text was refused as not a number). A percentage for a metric in
another unit, or beside a unit column that names another unit, is refused in the user's language and changes
nothing.
"""

from __future__ import annotations

import io
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from ingest_helpers import current, snapshot, warehouse_with_registry

from pilot_roi.i18n import t
from pilot_roi.ingest import ingest_file
from pilot_roi.ingest.xlsx_formats import percent_cells, shows_percent
from pilot_roi.warehouse import connect

REGISTRY = """
subsidiaries:
  - {code: ERG, name: {ru: "ЕРГ", kk: "ЕРГ", en: "ERG"}, sector: mining}
sites:
  - {code: ERG-SSGPO, subsidiary: ERG, name: {ru: "ССГПО", kk: "ССГПО", en: "SSGPO"}, region: Kostanay}
  - {code: ERG-KAZCHROME, subsidiary: ERG, name: {ru: "Казхром", kk: "Қазхром", en: "Kazchrome"}, region: Aktobe}
metrics:
  - {code: reject_pct, name: {ru: "Брак", kk: "Ақау", en: "Rejects"}, unit: "%", frequency: daily,
     aggregation: mean, higher_is_better: false, value_kzt_per_unit: 1000, min_value: 0, max_value: 100}
  - {code: energy_gj, name: {ru: "Энергия", kk: "Энергия", en: "Energy"}, unit: GJ, frequency: daily,
     aggregation: sum, higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}
"""
DAY = date(2025, 3, 3)
# (site, day offset, the fraction Excel stores, its number format, the percentage shown)
CELLS = [
    ("ERG-SSGPO", 0, 0.955, "0.0%", "95.5"),
    ("ERG-SSGPO", 1, 0.5, "0%", "50"),
    ("ERG-SSGPO", 2, 0.04567, "0.00%", "4.567"),
    ("ERG-SSGPO", 3, 0.001, "[Red]0.0%", "0.1"),
    ("ERG-KAZCHROME", 0, 0.07, '0.0%;[Red]-0.0%;"—"', "7"),
    ("ERG-KAZCHROME", 1, 1.0, "0%", "100"),
    ("ERG-KAZCHROME", 2, 0.123456789012, "0.00%", "12.3456789012"),
]


@pytest.fixture(scope="module")
def registry_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse_with_registry(tmp_path_factory.mktemp("percent"), REGISTRY)


@pytest.fixture
def wh(registry_warehouse: Path, tmp_path: Path) -> Any:
    path = tmp_path / "wh.duckdb"
    shutil.copy(registry_warehouse, path)
    con = connect(path)
    yield con
    con.close()


def _period(offset: int) -> str:
    return (DAY + timedelta(days=offset)).isoformat()


def workbook(
    cells: list[tuple[str, int, float, str, str]] = CELLS,
    *,
    metric: str = "reject_pct",
    unit: str | None = None,
    corner: str = "C3",
    wide: bool = False,
) -> bytes:
    """The cells as an XLSX sheet whose table starts at `corner`, each value cell in its percent format."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A40"].number_format = "0%"  # an empty styled cell outside the table moves nothing
    top = sheet[corner]
    row0, col0 = top.row, top.column
    if wide:
        days = sorted({offset for _, offset, *_ in cells})
        header = ["site_code", "metric_code", *(_period(d) for d in days)]
        for j, text in enumerate(header):
            sheet.cell(row0, col0 + j, text)
        for i, site in enumerate(sorted({c[0] for c in cells})):
            sheet.cell(row0 + 1 + i, col0, site)
            sheet.cell(row0 + 1 + i, col0 + 1, metric)
            for s, offset, stored, fmt, _ in cells:
                if s == site:
                    cell = sheet.cell(row0 + 1 + i, col0 + 2 + days.index(offset), stored)
                    cell.number_format = fmt
    else:
        header = ["site_code", "metric_code", "period", "value", *(["unit"] if unit is not None else [])]
        for j, text in enumerate(header):
            sheet.cell(row0, col0 + j, text)
        for i, (site, offset, stored, fmt, _) in enumerate(cells):
            r = row0 + 1 + i
            sheet.cell(r, col0, site)
            sheet.cell(r, col0 + 1, metric)
            sheet.cell(r, col0 + 2, _period(offset))
            sheet.cell(r, col0 + 3, stored).number_format = fmt
            if unit is not None:
                sheet.cell(r, col0 + 4, unit)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_file(values: list[str], *, metric: str = "reject_pct", delimiter: str = ",") -> bytes:
    lines = [delimiter.join(["site_code", "metric_code", "period", "value"])]
    for (site, offset, *_), value in zip(CELLS, values, strict=True):
        lines.append(delimiter.join([site, metric, _period(offset), value]))
    return ("\n".join(lines) + "\n").encode()


def _load(con: Any, data: bytes, name: str, lang: str = "en") -> Any:
    report = ingest_file(con, data, file_name=name, uploaded_by="eng", lang=lang)
    return report


def _stored(con: Any) -> list[tuple]:
    return current(con)


def test_excel_number_formats_that_show_a_percentage() -> None:
    for code in ("0%", "0.00%", "0.0%", "[Red]0.0%", "#,##0.0%", '0.0%;[Red]-0.0%;"—"', "0.0 %"):
        assert shows_percent(code), code
    for code in ("0.0", "#,##0", '0.0" %"', "0.0\\%", "General", "[$%-409]0.0", "dd.mm.yyyy"):
        assert not shows_percent(code), code


def test_percent_cells_are_found_where_fastexcel_puts_them() -> None:
    data = workbook(corner="C3")
    # the header is on row 3 (frame row 2), values in column F: the fourth column of the frame (C is its first)
    assert percent_cells(data, "Sheet") == {(3 + i, 3) for i in range(len(CELLS))}
    assert percent_cells(data, "Missing sheet") == set()
    assert percent_cells(b"not a zip", "Sheet") == set()


@pytest.mark.parametrize(
    "given",
    ["xlsx_percent_cells", "xlsx_percent_cells_wide", "xlsx_from_a1_with_unit_column", "csv_percent_text",
     "csv_percent_text_comma_decimal", "csv_percent_unit_column"],
)  # fmt: skip
def test_a_percentage_loads_as_the_number_shown(wh: Any, tmp_path: Path, given: str) -> None:
    plain = csv_file([shown for *_, shown in CELLS])
    baseline = _load(wh, plain, "plain.csv")
    assert baseline.status == "loaded", baseline.errors
    expected = _stored(wh)
    assert sorted(v for *_, v in expected) == sorted(float(shown) for *_, shown in CELLS)
    wh.execute("DELETE FROM observation_current")  # the same keys again, from the other file, into an empty table
    if given == "csv_percent_unit_column":
        lines = ["site_code;metric_code;period;value;unit"] + [
            f"{site};reject_pct;{_period(offset)};{shown.replace('.', ',')};%" for site, offset, _, _, shown in CELLS
        ]
        data, name = ("\n".join(lines) + "\n").encode(), "unit.csv"
    else:
        data, name = {
            "xlsx_percent_cells": (workbook(), "cells.xlsx"),
            "xlsx_percent_cells_wide": (workbook(wide=True), "wide.xlsx"),
            "xlsx_from_a1_with_unit_column": (workbook(corner="A1", unit="%"), "a1.xlsx"),
            "csv_percent_text": (csv_file([f"{shown}%" for *_, shown in CELLS]), "text.csv"),
            "csv_percent_text_comma_decimal": (
                csv_file([f"{shown.replace('.', ',')} %" for *_, shown in CELLS], delimiter=";"),
                "comma.csv",
            ),
        }[given]
    report = _load(wh, data, name)
    assert report.status == "loaded", report.errors
    assert _stored(wh) == expected  # bit for bit: 0.955 shown as 95.5% is 95.5, not 95.49999999999999
    # the note counts the percentages read (a unit column's % beside plain numbers is not one)
    prefix = t("ingest.note.percent_values", "en", count=len(CELLS), lines="\x00").split("\x00")[0]
    noted = [note for note in report.notes if note.startswith(prefix)]
    assert len(noted) == (0 if given == "csv_percent_unit_column" else 1), report.notes


def test_the_note_names_the_lines_in_every_language(wh: Any) -> None:
    for lang in ("ru", "kk", "en"):
        report = ingest_file(wh, workbook(), file_name="cells.xlsx", uploaded_by="eng", lang=lang, dry_run=True)
        expected = t(
            "ingest.note.percent_values", lang, count=len(CELLS), lines=", ".join(str(4 + i) for i in range(7))
        )
        assert expected in report.notes, report.notes


def test_a_literal_percent_sign_in_the_format_is_not_a_percentage(wh: Any) -> None:
    # '0.0" %"' shows the number as it is with " %" after it: 95.5 stored is 95.5 shown, nothing to scale
    cells = [(site, offset, float(shown), '0.0" %"', shown) for site, offset, _, _, shown in CELLS]
    report = _load(wh, workbook(cells), "literal.xlsx")
    assert report.status == "loaded", report.errors
    assert sorted(v for *_, v in _stored(wh)) == sorted(float(shown) for *_, shown in CELLS)
    assert not any("%" in note and "95.5" in note for note in report.notes)


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("xlsx_percent_for_gj", lambda: workbook(metric="energy_gj"), "ingest.unit_inconvertible"),
        ("csv_percent_for_gj", lambda: csv_file([f"{s}%" for *_, s in CELLS], metric="energy_gj"),
         "ingest.unit_inconvertible"),
        ("xlsx_percent_beside_gj_unit", lambda: workbook(unit="GJ"), "ingest.percent_with_other_unit"),
    ],
)  # fmt: skip
def test_a_percentage_where_the_unit_is_not_percent_is_refused_and_changes_nothing(
    wh: Any, name: str, make: Any, code: str
) -> None:
    assert _load(wh, csv_file([s for *_, s in CELLS]), "plain.csv").status == "loaded"
    before = snapshot(wh)
    data = make()
    file_name = f"{name}.{'xlsx' if name.startswith('xlsx') else 'csv'}"
    messages = {}
    for lang in ("ru", "kk", "en"):
        report = _load(wh, data, file_name, lang)
        assert report.status == "rejected"
        assert {e.code for e in report.errors} == {code}, report.errors
        assert report.rows_rejected == len(CELLS)
        messages[lang] = report.errors[0].message
        assert code not in messages[lang] and "%" in messages[lang]
    assert len(set(messages.values())) == 3
    after = snapshot(wh)
    assert after["observation_current"] == before["observation_current"]
    assert after["observation_superseded"] == before["observation_superseded"]
