"""A Parquet file's errors name their line as a CSV or a sheet of the same table would: column names on line 1.

Until 2026-11-28 a Parquet file's row errors counted its first row as line 1 (a CSV or a sheet of the same rows says
line 2 for it), and its column errors (numbers under a header that is not a period, a period-headed column in a long
file) had no line at all (`"line": null`; a note said "the first on line 1"). Now the same rows give the same lines,
columns and words in every format. A Parquet column of a type that has no cell text (lists, durations) made an
internal error; it is refused in words when observations are read from it, and named in a note when not.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pilot_roi.cli import main
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

Table = list[list[str]]
LONG: Table = [
    ["site_code", "metric_code", "period", "value"],
    ["KMG-ANPZ", "energy_gj", "2025-03-01", "1.5"],
    ["KMG-ANPZ", "energy_gj", "2025-03-02", "abc"],  # not a number
    ["KMG-XX", "energy_gj", "2025-03-03", "2"],  # unknown site
    ["KMG-PNHZ", "energy_gj", "01/03/2025", "3"],  # day or month first?
    ["KMG-PNHZ", "output_t", "2025-03-01", "-5"],  # below the metric's minimum
]
WIDE_MISTYPED: Table = [  # "2025-O2": a letter O for the zero, over numbers
    ["site_code", "metric_code", "2025-01", "2025-O2"],
    ["KMG-ANPZ", "output_t", "", "3"],
    ["KMG-PNHZ", "output_t", "2", "4"],
]
LONG_WITH_PERIOD_COLUMN: Table = [
    ["site_code", "metric_code", "period", "value", "2025-02"],
    ["KMG-ANPZ", "output_t", "2025-01-01", "1", ""],
    ["KMG-PNHZ", "output_t", "2025-01-01", "2", "7"],
]


def csv_file(rows: Table) -> tuple[bytes, str]:
    return ("\n".join(";".join(row) for row in rows) + "\n").encode("utf-8"), "f.csv"


def xlsx_file(rows: Table) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell:
                sheet.write_string(r, c, cell)
    book.close()
    return buffer.getvalue(), "f.xlsx"


def parquet_file(rows: Table) -> tuple[bytes, str]:
    """Text columns, as an export without types writes them; the cells read exactly as in the CSV."""
    frame = pl.DataFrame({h: [row[i] or None for row in rows[1:]] for i, h in enumerate(rows[0])})
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue(), "f.parquet"


WRITERS = {"csv": csv_file, "xlsx": xlsx_file, "parquet": parquet_file}


def ingest_json(reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], file: tuple[bytes, str]) -> dict:
    data, name = file
    path = tmp_path / name
    path.write_bytes(data)
    code = main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", "en", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["status"] == "rejected" else 0)
    return report


@pytest.mark.parametrize("table", [LONG, WIDE_MISTYPED, LONG_WITH_PERIOD_COLUMN], ids=["rows", "wide", "long"])
def test_the_same_table_gives_the_same_errors_in_every_format(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], table: Table
) -> None:
    reports = {fmt: ingest_json(reg_path, tmp_path, capsys, write(table)) for fmt, write in WRITERS.items()}
    assert reports["csv"]["status"] == "rejected" and reports["csv"]["errors"]
    for fmt in ("xlsx", "parquet"):
        assert reports[fmt]["errors"] == reports["csv"]["errors"], fmt
    assert all(isinstance(error["line"], int) for error in reports["parquet"]["errors"])
    con = connect(reg_path, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM observations").fetchone() == (0,)
    finally:
        con.close()


def test_row_errors_of_a_parquet_file_name_the_line_after_its_column_names(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = ingest_json(reg_path, tmp_path, capsys, parquet_file(LONG))
    assert [(e["line"], e["column"], e["value"]) for e in report["errors"]] == [
        (3, "value", "abc"),
        (4, "site_code", "KMG-XX"),
        (5, "period", "01/03/2025"),
        (6, "value", "-5"),
    ]


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_parquet_column_error_names_its_lines_in_text(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    data, name = parquet_file(WIDE_MISTYPED)
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", lang]) == 1
    err = capsys.readouterr().err
    message = t("ingest.column_not_a_period", lang, column="2025-O2", detail="2")  # the first number: row 1, line 2
    assert t("ingest.error_line", lang, where="", line=1, column="2025-O2", message=message) in err, err
    assert "?" not in err.replace(message, "")


def _typed_parquet(path: Path, extra: dict[str, pl.Series]) -> None:
    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(2)]
    frame = pl.DataFrame({"site_code": ["KMG-ANPZ"] * 2, "metric_code": ["energy_gj"] * 2, "period": days})
    frame.with_columns(**extra).write_parquet(path)


@pytest.mark.parametrize(
    "values",
    [
        pl.Series([[1.5], [2.5]], dtype=pl.List(pl.Float64)),
        pl.Series([timedelta(hours=1), timedelta(hours=2)], dtype=pl.Duration("us")),
    ],
    ids=["list", "duration"],
)
def test_a_value_column_of_a_type_without_text_is_refused_in_words(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], values: pl.Series
) -> None:
    # an internal error ("Tell your administrator: 3f2a…") before
    path = tmp_path / "typed.parquet"
    _typed_parquet(path, {"value": values})
    assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", "ru"]) == 1
    err = capsys.readouterr().err
    assert t("ingest.parquet_column_type", "ru", value=str(values.dtype), detail="value") in err, err
    assert t("cli.unexpected", "ru", ref="").split(";")[0] not in err  # no "internal error, tell your administrator"


def test_a_column_of_such_a_type_nothing_is_read_from_is_named_and_the_rest_loads(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tags.parquet"
    _typed_parquet(path, {"value": pl.Series([1.5, 2.5]), "tags": pl.Series([["a"], ["b", "c"]])})
    assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", "en"]) == 0
    assert t("ingest.note.columns_ignored", "en", columns="tags") in capsys.readouterr().out
    con = connect(reg_path, read_only=True)
    try:
        assert con.execute("SELECT value FROM observations ORDER BY period").fetchall() == [(1.5,), (2.5,)]
    finally:
        con.close()
