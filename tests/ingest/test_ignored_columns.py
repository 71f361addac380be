"""Columns a file carries that no observation is read from: named to the engineer, or the file refused, never silent.

Until 2026-11-28 every such column was dropped without a word: a wide file with "Итого", "Примечание" or "№" beside its
period columns loaded as if they were not there, and so did a wide file with a mistyped period header ("2024-O3",
"01/03/2024", "Март") over numbers, which lost that period's values, a period header merged over two columns (only
the first loaded), a long file with a period-headed column, and a second value or period column that disagreed with
the first. Now a column that cannot hold observations is named in a note (in ru, kk and en) and what loads stays bit
for bit what loaded before; a column that may hold observations refuses the file, naming it, and nothing changes.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import WarehouseCopies

from pilot_roi.i18n import t
from pilot_roi.ingest import IngestReport

LANGS = ("ru", "kk", "en")
FIELDS = {
    "ru": ("Код объекта", "Код показателя", "Дата", "Значение"),
    "kk": ("Нысан коды", "Көрсеткіш коды", "Күні", "Мәні"),
    "en": ("site_code", "metric_code", "period", "value"),
}
TOTALS = {"ru": "Итого", "kk": "Барлығы", "en": "Total"}
NOTE = {"ru": "Примечание", "kk": "Ескерту", "en": "Note"}
MONTHS = ("2024-01", "2024-02", "2024-03")
#: (site, metric, month, value as written): values with many digits, so a bit of difference would show.
OBS = [
    ("KMG-ANPZ", "output_t", "2024-01", "1017.279209603239"),
    ("KMG-ANPZ", "output_t", "2024-02", "998.5"),
    ("KMG-ANPZ", "output_t", "2024-03", "1003.125"),
    ("KMG-PNHZ", "output_t", "2024-01", "511.0000001"),
    ("KMG-PNHZ", "output_t", "2024-03", "0.1"),
]
Table = list[list[str]]
Stored = list[tuple[str, str, date, str]]


class Warehouse(WarehouseCopies):
    """Fresh copies of the registry warehouse; what a sequence of loads leaves, values bit for bit."""

    def read(self, con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
        current = con.execute("SELECT site_code, metric_code, period, value FROM observations ORDER BY ALL").fetchall()
        history = con.execute("SELECT * FROM observation_superseded ORDER BY ALL").fetchall()
        return {"current": [(s, m, p, float(v).hex()) for s, m, p, v in current], "superseded": history}


@pytest.fixture
def wh(registry_warehouse: Path, tmp_path: Path) -> Warehouse:
    return Warehouse(registry_warehouse, tmp_path)


def wide(lang: str, extra: dict[int, tuple[str, list[str]]] | None = None) -> Table:
    """A wide table of OBS; `extra` inserts columns: position -> (header, one cell per data row)."""
    site, metric = FIELDS[lang][:2]
    rows: Table = [[site, metric, *MONTHS]]
    cells = {(s, m, p): v for s, m, p, v in OBS}
    for s in ("KMG-ANPZ", "KMG-PNHZ"):
        rows.append([s, "output_t", *(cells.get((s, "output_t", p), "") for p in MONTHS)])
    for position, (header, column) in sorted((extra or {}).items()):
        rows[0].insert(position, header)
        for row, cell in zip(rows[1:], column, strict=True):
            row.insert(position, cell)
    return rows


def long(lang: str, extra: dict[int, tuple[str, list[str]]] | None = None) -> Table:
    rows: Table = [list(FIELDS[lang])]
    rows += [[s, m, f"{p}-01", v] for s, m, p, v in OBS]
    for position, (header, column) in sorted((extra or {}).items()):
        rows[0].insert(position, header)
        for row, cell in zip(rows[1:], column, strict=True):
            row.insert(position, cell)
    return rows


def comma(cell: str) -> str:
    try:
        float(cell)
    except ValueError:
        return cell
    return cell.replace(".", ",")


def csv_file(rows: Table, name: str = "f.csv") -> tuple[bytes, str]:
    """As 1C writes it: a title line, a blank line, `;`-separated rows, a decimal comma, a totals row below."""
    lines = [";".join(rows[0]), *(";".join(comma(c) for c in row) for row in rows[1:])]
    lines.append(";".join(["Итого", *[""] * (len(rows[0]) - 1)]))
    return ("Выгрузка из 1С\n\n" + "\n".join(lines) + "\n").encode("utf-8"), name


def xlsx_file(rows: Table, name: str = "f.xlsx", merge: tuple[int, int] | None = None) -> tuple[bytes, str]:
    """A title, a blank row, the table on sheet "Данные" (numbers as number cells); `merge` merges the header cells of
    columns (first, last) over the first one's text, as a period header spanning plan and fact."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Данные")
    sheet.write_string(0, 0, "Отчёт о показателях")
    for r, row in enumerate(rows, start=2):
        for c, cell in enumerate(row):
            if not cell:
                continue
            try:
                number = float(cell)
            except ValueError:
                number = None
            if r > 2 and number is not None:
                sheet.write_number(r, c, number)
            else:
                sheet.write_string(r, c, cell)
    if merge is not None:
        first, last = merge
        sheet.merge_range(2, first, 2, last, rows[0][first])
    book.close()
    return buffer.getvalue(), name


def parquet_file(rows: Table, name: str = "f.parquet") -> tuple[bytes, str]:
    frame = pl.DataFrame({h: [row[i] for row in rows[1:]] for i, h in enumerate(rows[0])})
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue(), name


WRITERS = {"csv": csv_file, "xlsx": xlsx_file}
HEADER_LINE = {"csv": 3, "xlsx": 3}  # below the title line and the blank line


def loaded(report: IngestReport, what: object) -> None:
    assert report.status == "loaded", (what, [(e.line, e.column, e.value, e.code) for e in report.errors[:5]])


def refused(report: IngestReport, code: str, what: object) -> IngestReport:
    assert report.status == "rejected", (what, report.notes)
    assert report.rows_inserted == report.rows_updated == 0
    assert code in {e.code for e in report.errors}, (what, [(e.line, e.column, e.value, e.code) for e in report.errors])
    return report


# ---- columns that hold no observations: named in a note, the rest loads bit for bit ------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_totals_notes_and_row_numbers_are_named_and_the_observations_load_bit_for_bit(
    wh: Warehouse, layout: str, lang: str, fmt: str
) -> None:
    table = wide if layout == "wide" else long
    n = 2 if layout == "wide" else len(OBS)
    extra = {
        0: ("№", [str(i + 1) for i in range(n)]),  # a 1C row number
        3 if layout == "wide" else 5: ("Наименование", ["Выпуск бензина"] * n),
        9: (TOTALS[lang], ["3018.904209603239", "511.1000001"] if layout == "wide" else ["1"] * n),
        10: (NOTE[lang], ["оценка", ""] + [""] * (n - 2)),
    }
    plain = WRITERS[fmt](table(lang), f"plain.{fmt}")
    [plain_report], want = wh.load([plain])
    loaded(plain_report, "plain")
    [report], got = wh.load([WRITERS[fmt](table(lang, extra), f"extra.{fmt}")], lang=lang)
    loaded(report, (layout, lang, fmt))
    assert got == want  # bit for bit what the file without those columns stores
    assert report.rows_read == plain_report.rows_read
    assert t("ingest.note.columns_totals_ignored", lang, columns=TOTALS[lang]) in report.notes, report.notes
    ignored = f"№, Наименование, {NOTE[lang]}"
    assert t("ingest.note.columns_ignored", lang, columns=ignored) in report.notes, report.notes


def test_the_notes_differ_by_language_and_name_every_column(wh: Warehouse) -> None:
    texts = set()
    for lang in LANGS:
        totals = ["3018.904209603239", "511.1000001"]  # the rows' sums: no note that they differ (test_totals_columns)
        [report], _ = wh.load([csv_file(wide("en", {5: ("Цех", ["1", "2"]), 6: ("Total", totals)}))], lang=lang)
        loaded(report, lang)
        notes = [n for n in report.notes if "Цех" in n or "Total" in n]
        assert len(notes) == 2 and all(k not in n for n in notes for k in ("ingest.", "{")), notes
        texts.update(notes)
    assert len(texts) == 6


def test_a_long_parquet_file_names_its_extra_columns(wh: Warehouse) -> None:
    extra = {4: ("unit_price", [str(i) for i in range(len(OBS))]), 5: ("comment", ["checked"] * len(OBS))}
    [_], want = wh.load([parquet_file(long("en"), "plain.parquet")])
    [report], got = wh.load([parquet_file(long("en", extra))])
    loaded(report, "parquet")
    assert got == want
    assert t("ingest.note.columns_ignored", "en", columns="unit_price, comment") in report.notes


def test_an_empty_extra_column_is_passed_over_in_silence(wh: Warehouse) -> None:
    # the template's comment column left empty, trailing empty columns: nothing is in them, nothing to say
    extra = {4: ("Комментарий", [""] * len(OBS)), 5: ("", [""] * len(OBS))}
    [report], _ = wh.load([csv_file(long("ru", extra))], lang="ru")
    loaded(report, "empty")
    assert not [n for n in report.notes if "Комментарий" in n or "без заголовка" in n], report.notes


def test_a_name_column_beside_the_code_column_is_named_with_the_column_read_instead(wh: Warehouse) -> None:
    # "Объект" and "Показатель" are spellings of the site and metric fields: the codes are read from the first
    rows = long("ru", {2: ("Объект", ["Атырауский НПЗ"] * len(OBS)), 3: ("Показатель", ["Выпуск"] * len(OBS))})
    [_], want = wh.load([csv_file(long("ru"))])
    [report], got = wh.load([csv_file(rows)], lang="ru")
    loaded(report, "names")
    assert got == want
    columns = "Объект → Код объекта, Показатель → Код показателя"
    assert t("ingest.note.columns_duplicate_ignored", "ru", columns=columns) in report.notes, report.notes


def test_a_value_column_given_twice_alike_loads_and_says_so(wh: Warehouse) -> None:
    values = [v for *_, v in OBS]
    [_], want = wh.load([csv_file(long("ru"))])
    [report], got = wh.load([csv_file(long("ru", {4: ("Величина", values)}))], lang="en")
    loaded(report, "same values")
    assert got == want
    assert t("ingest.note.columns_duplicate_ignored", "en", columns="Величина → Значение") in report.notes


# ---- columns that may hold observations: the file is refused, naming them; nothing changes ------------------------


@pytest.mark.parametrize("mode", ["all_or_nothing", "skip_invalid"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("header", ["2024-O3", "01/04/2024", "Апрель", "2024.04", "IV кв", "План 2024", "Mar 24th"])
def test_numbers_under_a_header_that_is_no_period_refuse_a_wide_file(
    wh: Warehouse, header: str, fmt: str, mode: str
) -> None:
    [_], before = wh.load([csv_file(long("en"), "base.csv")])
    bad = WRITERS[fmt](wide("en", {5: (header, ["12.5", ""])}))
    [_, report], after = wh.load([csv_file(long("en"), "base.csv"), bad], mode=mode)
    refused(report, "ingest.column_not_a_period", (header, fmt))
    assert after == before
    [error] = [e for e in report.errors if e.code == "ingest.column_not_a_period"]
    assert (error.line, error.column, error.value) == (HEADER_LINE[fmt], header, header)
    messages = set()
    for lang in LANGS:
        [localized], _ = wh.load([bad], lang=lang)
        [message] = [e.message for e in localized.errors if e.code == "ingest.column_not_a_period"]
        # the header, and the line of its first number
        assert message == t("ingest.column_not_a_period", lang, column=header, value=header, detail="4", line=3)
        assert header in message
        messages.add(message)
    assert len(messages) == 3


def test_a_text_column_under_a_header_that_looks_like_a_period_is_only_named(wh: Warehouse) -> None:
    # no number under it: it cannot be a lost period's values ("Прим. 2024" holds remarks)
    [report], _ = wh.load([csv_file(wide("ru", {5: ("Прим. 2024", ["проверено", ""])}))], lang="ru")
    loaded(report, "text")
    assert t("ingest.note.columns_ignored", "ru", columns="Прим. 2024") in report.notes


@pytest.mark.parametrize("mode", ["all_or_nothing", "skip_invalid"])
def test_a_period_header_merged_over_two_columns_refuses_the_file(wh: Warehouse, mode: str) -> None:
    # "2024-03" over plan and fact: the fact column has no header of its own, and only the plan used to load
    rows = wide("en", {5: ("", ["1010", "4"])})
    [report], got = wh.load([xlsx_file(rows, merge=(4, 5))], mode=mode)
    refused(report, "ingest.column_without_header", "merged")
    assert got["current"] == []
    [error] = [e for e in report.errors if e.code == "ingest.column_without_header"]
    assert (error.line, error.column) == (3, "F")  # the sheet's column F, as Excel shows it
    assert error.message == t("ingest.column_without_header", "en", column="F", value="", detail="4", line=3)


def test_a_headerless_column_left_of_the_periods_is_only_named(wh: Warehouse) -> None:
    # pandas' to_csv writes its index with an empty header: row numbers, not observations
    rows = wide("en", {0: ("", ["0", "1"])})
    [_], want = wh.load([csv_file(wide("en"))])
    [report], got = wh.load([csv_file(rows)], lang="en")
    loaded(report, "index")
    assert got == want
    assert t("ingest.note.columns_blank_ignored", "en", columns="A") in report.notes


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_period_headed_column_in_a_long_file_refuses_it(wh: Warehouse, fmt: str) -> None:
    rows = long("ru", {4: ("2024-04", ["7"] + [""] * (len(OBS) - 1))})
    [report], got = wh.load([WRITERS[fmt](rows)], lang="ru")
    refused(report, "ingest.column_period_in_long_file", fmt)
    assert got["current"] == []
    [error] = [e for e in report.errors if e.code == "ingest.column_period_in_long_file"]
    assert (error.line, error.column) == (HEADER_LINE[fmt], "2024-04") and "2024-04" in error.message


PERIODS = ["01.01.2024", "01.02.2024", "01.03.2024", "01.02.2024", "01.03.2024"]  # line 7 says February, not January


@pytest.mark.parametrize(
    ("header", "cells", "code"),
    [
        ("Величина", ["1017.279209603239", "998.5", "1003.0", "511.0000001", "0.1"], "ingest.column_value_twice"),
        ("Период", PERIODS, "ingest.column_period_twice"),
    ],
)
def test_a_second_value_or_period_column_that_disagrees_refuses_the_file(
    wh: Warehouse, header: str, cells: list[str], code: str
) -> None:
    [report], got = wh.load([csv_file(long("ru", {4: (header, cells)}))], lang="ru")
    refused(report, code, header)
    assert got["current"] == []
    [error] = [e for e in report.errors if e.code == code]
    line = 6 if code == "ingest.column_value_twice" else 7  # the first row where the two columns differ
    assert (error.line, error.column) == (line, header)
    assert header in error.message and ("Значение" in error.message or "Дата" in error.message)


def test_a_period_column_given_twice_in_other_words_that_agree_loads(wh: Warehouse) -> None:
    # "Дата" 01.01.2024 and "Период" "янв. 2024" name the same month: nothing to choose between
    words = {"2024-01": "янв. 2024", "2024-02": "февр. 2024", "2024-03": "март 2024"}
    [_], want = wh.load([csv_file(long("ru"))])
    rows = long("ru", {3: ("Период", [words[p] for _, _, p, _ in OBS])})
    [report], got = wh.load([csv_file(rows)], lang="ru")
    loaded(report, "agree")
    assert got == want
    assert t("ingest.note.columns_duplicate_ignored", "ru", columns="Период → Дата") in report.notes


def test_a_file_with_sites_as_column_headers_is_refused_whole(wh: Warehouse) -> None:
    # not a layout of PRODUCT.md (site and metric columns, then periods): refused before anything is read
    data = b"metric_code;period;KMG-ANPZ;KMG-PNHZ;Total\noutput_t;2024-01-01;10;20;30\n"
    [report], got = wh.load([(data, "by_site.csv")])
    assert report.status == "rejected" and got["current"] == []
    assert [e.code for e in report.errors] == ["ingest.header_without_site"]  # saying why, not "no header"
