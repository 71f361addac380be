"""Real exports are messy: every kind of mess of PRODUCT.md, written to real files, must load to the same numbers."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import current

from pilot_roi.ingest import ingest_file

EXPECTED = [
    ("KMG-ANPZ", "energy_gj", date(2025, 3, 1), 1234.5),
    ("KMG-ANPZ", "energy_gj", date(2025, 3, 2), 12.5),
    ("KMG-PNHZ", "output_t", date(2025, 3, 1), 1500.0),
]
NBSP = "\u00a0"

TEXT_FILES: dict[str, tuple[str, str]] = {
    "en_utf8_comma_iso": (
        "utf-8",
        "site_code,metric_code,period,value\n"
        "KMG-ANPZ,energy_gj,2025-03-01,1234.5\nKMG-ANPZ,energy_gj,2025-03-02,12.5\nKMG-PNHZ,output_t,2025-03-01,1500\n",
    ),
    "ru_cp1251_semicolon_titles_totals": (
        "cp1251",
        "Выгрузка из 1С: показатели за март 2025\nПредприятие: КМГ;;;\n\n"
        "Код объекта;Код показателя;Дата;Значение\n"
        f"KMG-ANPZ;energy_gj;01.03.2025;1{NBSP}234,5\nKMG-ANPZ;energy_gj;02.03.2025;12,5\n"
        "KMG-PNHZ;output_t;01.03.2025;1 500,0\nИтого;;;2 747,0\n",
    ),
    "kk_utf8_bom_tab_units": (
        "utf-8-sig",
        "Нысан коды\tКөрсеткіш коды\tКүні\tМәні\tӨлш. бірл.\n"
        "KMG-ANPZ\tenergy_gj\t01.03.2025\t1 234,5\tГДж\nKMG-ANPZ\tenergy_gj\t02.03.2025\t12,5\tгдж\n"
        "KMG-PNHZ\toutput_t\t01.03.2025\t1,5\tмың т\nБарлығы\t\t\t1 248\t\n",
    ),
    "en_quoted_thousands_crlf": (
        "utf-8",
        'site_code,metric_code,period,value,comment\r\nKMG-ANPZ,energy_gj,2025-03-01,"1,234.5","a, b"\r\n'
        'KMG-ANPZ,energy_gj,2025-03-02,12.5,\r\nKMG-PNHZ,output_t,2025-03,"1,500.0","two\r\nlines"\r\n'
        'Total,,,"2,747",\r\n',
    ),
    "crlf_blank_lines_unquoted": (
        "utf-8",
        "site_code;metric_code;period;value\r\nKMG-ANPZ;energy_gj;01.03.2025;1234,5\r\n\r\n"
        "KMG-ANPZ;energy_gj;02.03.2025;12,5\r\n;;;\r\nKMG-PNHZ;output_t;01.03.2025;1500\r\n",
    ),
    "ru_wide_layout": (
        "utf-8",
        "Код объекта;Код показателя;Ед. изм.;01.03.2025;02.03.2025\n"
        "KMG-ANPZ;energy_gj;ГДж;1 234,5;12,5\nKMG-PNHZ;output_t;кт;1,5;\n",
    ),
    "utf16_excel_unicode_text": (
        "utf-16",
        "site_code\tmetric_code\tperiod\tvalue\nKMG-ANPZ\tenergy_gj\t2025-03-01\t1234,5\n"
        "KMG-ANPZ\tenergy_gj\t2025-03-02\t12,5\nKMG-PNHZ\toutput_t\t01.03.2025\t1500\n",
    ),
    "units_t_and_kt_mixed": (
        "utf-8",
        "site_code;metric_code;period;value;unit\nKMG-ANPZ;energy_gj;2025-03-01;1234,5;GJ\n"
        "KMG-ANPZ;energy_gj;2025-03-02;12,5;\nKMG-PNHZ;output_t;2025-03-01;1,5;kt\n",
    ),
}


@pytest.mark.parametrize("fast_bytes", [0, 10**9], ids=["polars_split", "csv_module"])
@pytest.mark.parametrize("name", list(TEXT_FILES))
def test_messy_text_files_load_exactly(
    reg_con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, fast_bytes: int
) -> None:
    encoding, text = TEXT_FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text.encode(encoding))
    report = ingest_file(reg_con, path, uploaded_by="eng", fast_bytes=fast_bytes)
    assert report.errors == () and report.status == "loaded", report
    assert current(reg_con) == EXPECTED
    assert report.rows_read == 3


def test_totals_rows_are_dropped_and_reported(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    encoding, text = TEXT_FILES["ru_cp1251_semicolon_titles_totals"]
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    report = ingest_file(reg_con, path, uploaded_by="eng", lang="en")
    assert any("totals" in n and "8" in n for n in report.notes), report.notes
    assert any("Windows-1251" in n for n in report.notes)


def write_workbook(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("Инструкция")
    notes.write(0, 0, "Заполните лист Данные")
    notes.write(1, 0, "Код объекта — из справочника")
    data = book.add_worksheet("Данные")
    dmy = book.add_format({"num_format": "dd.mm.yyyy"})
    data.write(0, 1, "Отчёт о показателях")
    data.write(1, 1, "за март 2025")
    data.write_row(3, 1, ["Код объекта", "Код показателя", "Дата", "Значение", "Ед. изм."])
    data.write_row(4, 1, ["KMG-ANPZ", "energy_gj"])
    data.write_datetime(4, 3, datetime(2025, 3, 1), dmy)
    data.write_number(4, 4, 1234.5)
    data.write_row(5, 1, ["KMG-ANPZ", "energy_gj", "02.03.2025", "12,5", "ГДж"])
    data.write_row(6, 1, ["KMG-PNHZ", "output_t"])
    data.write_number(6, 3, 45717)  # Excel serial day of 2025-03-01, stored as a plain number
    data.write_number(6, 4, 1.5)
    data.write(6, 5, "тыс. т")
    data.write_row(7, 1, ["Итого", None, None])
    data.write_number(7, 4, 1248)
    book.add_worksheet("Пусто")
    book.close()


def test_xlsx_data_on_second_sheet_below_titles(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    write_workbook(path)
    report = ingest_file(reg_con, path, uploaded_by="eng", lang="en")
    assert report.status == "loaded", report.errors
    assert current(reg_con) == EXPECTED
    assert report.sheet == "Данные"
    assert any("Инструкция, Данные" in n for n in report.notes), report.notes
    assert any("8" in n and "totals" in n for n in report.notes), report.notes


def _two_part_workbook(path: Path, *, second_has_rows: bool) -> None:
    book = xlsxwriter.Workbook(str(path))
    for part, day in (("Part1", "2025-03-01"), ("Part2", "2025-03-02")):
        sheet = book.add_worksheet(part)
        sheet.write_row(0, 0, ["site_code", "metric_code", "period", "value"])
        if part == "Part1" or second_has_rows:
            sheet.write_row(1, 0, ["KMG-ANPZ", "energy_gj", day, "1"])
    book.add_worksheet("Codes").write_row(0, 0, ["Объекты", "Название", None, "Показатели", "Ед."])
    book.close()


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_workbook_with_data_on_several_sheets_is_refused_whole(
    reg_con: duckdb.DuckDBPyConnection, tmp_path: Path, lang: str
) -> None:
    # one sheet per file is loaded: taking Part1 and saying "loaded" left Part2's rows out without a word
    from pilot_roi.i18n import t

    path = tmp_path / "parts.xlsx"
    _two_part_workbook(path, second_has_rows=True)
    report = ingest_file(reg_con, path, uploaded_by="eng", lang=lang)
    assert report.status == "rejected"
    assert [(e.code, e.message) for e in report.errors] == [
        ("ingest.xlsx_several_data_sheets", t("ingest.xlsx_several_data_sheets", lang, detail="Part1, Part2"))
    ]
    assert current(reg_con) == []


def test_an_empty_copy_of_the_data_sheet_or_a_code_list_is_not_more_data(
    reg_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "parts.xlsx"
    _two_part_workbook(path, second_has_rows=False)
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "loaded", report.errors
    assert current(reg_con) == [("KMG-ANPZ", "energy_gj", date(2025, 3, 1), 1.0)]


def test_xlsx_errors_name_sheet_and_row(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Readme").write(0, 0, "see next sheet")
    sheet = book.add_worksheet("Data")
    sheet.write(0, 0, "Title")
    sheet.write_row(2, 0, ["site_code", "metric_code", "period", "value"])
    sheet.write_row(3, 0, ["KMG-ANPZ", "energy_gj", "2025-03-01", "1"])
    sheet.write_row(4, 0, ["KMG-ANPZ", "energy_gj", "2025-03-02", "abc"])
    book.close()
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "rejected"
    assert [(e.sheet, e.line, e.column, e.value) for e in report.errors] == [("Data", 5, "value", "abc")]


def test_xlsx_numbers_keep_every_digit_excel_stored(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # fastexcel's text form of a numeric cell is Excel's display (at most 9 decimals): 1.5e-10 read as "0" and
    # 1017.279209603239 as "1017.279209603" would be stored silently rounded, and differ from a CSV of the same rows
    numbers = [1017.279209603239, 1.5e-10, 0.000123456789012, 2.0, 1234.5]
    path = tmp_path / "precise.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["site_code", "metric_code", "period", "value"])
    for i, value in enumerate(numbers, start=1):
        sheet.write_row(i, 0, ["KMG-ANPZ", "energy_gj", f"2025-03-0{i}"])
        sheet.write_number(i, 3, value)
    sheet.write_row(len(numbers) + 1, 0, ["KMG-ANPZ", "energy_gj", "2025-03-09", "1 234,5"])  # a text cell
    book.close()
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "loaded", report.errors
    assert [row[3] for row in current(reg_con)] == [*numbers, 1234.5]  # exactly: xlsxwriter keeps 16 digits


def test_parquet(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pl.DataFrame(EXPECTED, schema=["site_code", "metric_code", "period", "value"], orient="row").write_parquet(path)
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "loaded" and current(reg_con) == EXPECTED


def test_bytes_input_with_file_name(reg_con: duckdb.DuckDBPyConnection) -> None:
    buffer = io.BytesIO()
    pl.DataFrame(EXPECTED, schema=["site_code", "metric_code", "period", "value"], orient="row").write_parquet(buffer)
    report = ingest_file(reg_con, buffer.getvalue(), file_name="upload.parquet", uploaded_by="eng")
    assert report.status == "loaded"
    assert reg_con.execute("SELECT file_name, size_bytes FROM uploads").fetchall() == [
        ("upload.parquet", len(buffer.getvalue()))
    ]


@pytest.mark.parametrize(
    ("unit", "metric", "period", "value", "expected"),
    [
        ("МВт·ч", "power_kwh", "2025-03-03", "2,5", 2500.0),
        ("кВт*ч", "power_kwh", "2025-03-03", "2,5", 2.5),
        ("Гкал", "energy_gj", "2025-03-03", "1", 4.1868),
        ("MJ", "energy_gj", "2025-03-03", "1000", 1.0),
        ("kg", "output_t", "2025-03-01", "2500", 2.5),
    ],
)
def test_unit_conversions(
    reg_con: duckdb.DuckDBPyConnection, tmp_path: Path, unit: str, metric: str, period: str, value: str, expected: float
) -> None:
    path = tmp_path / "u.csv"
    path.write_text(f"site_code;metric_code;period;value;unit\nKMG-ANPZ;{metric};{period};{value};{unit}\n")
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "loaded", report.errors
    [(_, _, _, stored)] = current(reg_con)
    assert stored == pytest.approx(expected, rel=1e-12)  # conversion factors are exact to double precision


def test_codes_with_spaces_and_other_case_are_matched(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "site_code;metric_code;period;value;unit\n kmg-anpz ; Energy_GJ ;2025-03-01;1,5;ГДж\n"
        "KMG-PNHZ;OUTPUT_T;2025-03-01;2;т\n",
        encoding="utf-8",
    )
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "loaded", report.errors
    assert current(reg_con) == [
        ("KMG-ANPZ", "energy_gj", date(2025, 3, 1), 1.5),
        ("KMG-PNHZ", "output_t", date(2025, 3, 1), 2.0),
    ]
