"""A file named as an Excel workbook that is not one, or not a whole one, is refused as such, in the user's language.

Until 2026-11-28 random bytes named `.xlsx` were read as a text file and refused as "the file's encoding is not
recognised: save it as UTF-8 or Windows-1251", a text file renamed `.xlsx` as "no header row found", a cut or damaged
workbook as "the Excel workbook cannot be read: calamine error: Cannot detect file format" (or "The XLSX file is
damaged" from the upload guard): advice about encodings for a workbook, or a library's words. Now every such file is
"not a readable Excel workbook (.xlsx)", with what to do, and nothing is stored. A real text table saved under an
Excel name (some systems do) still loads, with a note.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import current

from pilot_roi.cli import main
from pilot_roi.i18n import t
from pilot_roi.warehouse import connect

LANGS = ("ru", "kk", "en")
ROWS = [("KMG-ANPZ", "energy_gj", "2025-03-01", 1.5), ("KMG-PNHZ", "output_t", "2025-03-01", 7.0)]


def workbook() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Данные")
    sheet.write_row(0, 0, ["site_code", "metric_code", "period", "value"])
    for r, (site, metric, period, value) in enumerate(ROWS, start=1):
        sheet.write_row(r, 0, [site, metric, period])
        sheet.write_number(r, 3, value)
    book.close()
    return buffer.getvalue()


def random_bytes() -> bytes:
    data = random.Random(20261128).randbytes(3000)
    assert not data.startswith((b"PK", b"\xd0\xcf", b"PAR1"))
    return data


def text_renamed() -> bytes:
    return "Отчёт по энергопотреблению за март\nсм. вложение в письме\n".encode("cp1251")


def truncated() -> bytes:
    data = workbook()
    return data[: len(data) // 2]


def zip_of_notes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "замечания к отчёту " * 50)
    return buffer.getvalue()


def damaged_sheet() -> bytes:
    """The workbook with one byte flipped inside its sheet's compressed XML (a download that went wrong)."""
    data = bytearray(workbook())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    name_length, extra_length = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        (int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")),
    )
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


def html_table() -> bytes:
    # a web system's "Excel export": an HTML table under an .xls name
    return b"<html><body><table><tr><td>site</td><td>value</td></tr><tr><td>KMG-ANPZ</td><td>1</td></tr></table>"


NOT_WORKBOOKS: dict[str, tuple[Callable[[], bytes], str]] = {
    "random_bytes": (random_bytes, "export.xlsx"),
    "text_file_renamed": (text_renamed, "export.xlsx"),
    "truncated_zip": (truncated, "export.xlsx"),
    "zip_that_is_no_workbook": (zip_of_notes, "export.xlsx"),
    "damaged_sheet": (damaged_sheet, "export.xlsx"),
    "random_bytes_as_xls": (random_bytes, "export.xls"),
    "html_as_xls": (html_table, "export.xls"),
}


def observations_and_uploads(path: Path) -> tuple[list[tuple], list[tuple]]:
    con = connect(path, read_only=True)
    try:
        return current(con), con.execute("SELECT status FROM uploads").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", list(NOT_WORKBOOKS))
def test_a_file_named_as_a_workbook_that_is_none_is_refused_in_words(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, lang: str
) -> None:
    make, name = NOT_WORKBOOKS[case]
    path = tmp_path / name
    path.write_bytes(make())
    assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", lang]) == 1
    err = capsys.readouterr().err
    message = t("ingest.xlsx_unreadable", lang)
    assert message in err, err
    assert ".xlsx" in message and "{" not in message
    for other in ("ingest.encoding_unknown", "ingest.binary_text", "upload.bad_zip", "ingest.empty_file"):
        assert t(other, lang) not in err, (other, err)
    assert "calamine" not in err and "Traceback" not in err
    assert observations_and_uploads(reg_path) == ([], [("rejected",)])


@pytest.mark.parametrize("case", ["random_bytes", "truncated_zip", "damaged_sheet"])
def test_the_json_report_carries_the_same_words(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    make, name = NOT_WORKBOOKS[case]
    path = tmp_path / name
    path.write_bytes(make())
    assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", "kk", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "rejected" and report["rows_read"] == 0
    assert report["errors"] == [
        {"line": None, "column": None, "value": None, "message": t("ingest.xlsx_unreadable", "kk")}
    ]


def test_the_words_differ_by_language_and_say_what_to_do() -> None:
    texts = {lang: t("ingest.xlsx_unreadable", lang) for lang in LANGS}
    assert len(set(texts.values())) == 3
    assert "save it as" in texts["en"] and "сохраните" in texts["ru"] and "сақтаңыз" in texts["kk"]


def test_a_text_table_saved_under_an_excel_name_still_loads_with_a_note(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text("site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025-03-01;1,5\n", encoding="utf-8")
    assert main(["ingest", str(path), "--warehouse", str(reg_path), "--lang", "ru"]) == 0
    assert t("ingest.note.text_named_as_workbook", "ru") in capsys.readouterr().out
    observations, uploads = observations_and_uploads(reg_path)
    assert [row[3] for row in observations] == [1.5] and uploads == [("loaded",)]


def test_a_real_workbook_under_any_name_still_loads(reg_path: Path, tmp_path: Path) -> None:
    for name in ("export.xlsx", "export.csv"):  # the bytes decide, not the name
        path = tmp_path / name
        path.write_bytes(workbook())
        assert main(["ingest", str(path), "--warehouse", str(reg_path)]) == 0
    observations, uploads = observations_and_uploads(reg_path)
    assert [row[3] for row in observations] == [1.5, 7.0] and uploads == [("loaded",), ("unchanged",)]


def test_a_parquet_file_under_an_excel_name_still_loads(reg_path: Path, tmp_path: Path) -> None:
    # the bytes decide: only a file with neither a workbook's nor a Parquet file's bytes is judged by its name
    path = tmp_path / "export.xlsx"
    columns = ("site_code", "metric_code", "period", "value")
    pl.DataFrame([ROWS[0]], schema=list(columns), orient="row").write_parquet(path)
    assert main(["ingest", str(path), "--warehouse", str(reg_path)]) == 0
    observations, uploads = observations_and_uploads(reg_path)
    assert [row[3] for row in observations] == [1.5] and uploads == [("loaded",)]
