"""Metamorphic checks of ingestion: one dataset, written every way a real export writes it, must give the very
same current observations (same keys, values bit for bit) or a refusal in the user's language that changes nothing.

The base dataset has sites of two subsidiaries, daily, weekly and monthly metrics, values with up to 12 decimals,
negatives (only where the metric has no lower bound), zeros, 1.2e9 and the "1.234"-like values that only a file's
convention can read. Values are kept as decimal text; the expected number is Python's correctly rounded float of that
text, which is what every exact reader must give. Where a *format* rounds, the expected value says so:
- xlsxwriter writes a numeric cell as `%.16G` (16 significant digits), so "123456789.123456789012" is stored as
  123456789.1234568 in the workbook itself; the reader must give back exactly what the workbook holds.
- a Parquet Float32 column holds about 7 significant digits; the reader gives the shortest decimal that the float32
  reads back to (what a user sees for that cell), e.g. 0.1, not 0.10000000149011612.

Splitting a file by rows is checked separately: a part may lack the cells that show whether "." or "," is the
decimal mark. Reading "1.234" as 1.234 or as 1234 then would be a guess that is wrong a thousandfold for one kind of
export, so such a part is refused (ingest.number_ambiguous), changing nothing; a split never changes a number.
"""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import WarehouseCopies, warehouse_with_registry

from pilot_roi.i18n import t
from pilot_roi.ingest import IngestReport, ingest_file
from pilot_roi.warehouse import connect

REGISTRY_YAML = """
subsidiaries:
  - {code: KMG, name: {ru: "КМГ", kk: "ҚМГ", en: "KMG"}, sector: oil_gas}
  - {code: KTZ, name: {ru: "КТЖ", kk: "ҚТЖ", en: "KTZ"}, sector: rail}
sites:
  - {code: KMG-ANPZ, subsidiary: KMG, name: {ru: "АНПЗ", kk: "АМӨЗ", en: "Atyrau"}, region: Atyrau}
  - {code: KMG-PNHZ, subsidiary: KMG, name: {ru: "ПНХЗ", kk: "ПМХЗ", en: "Pavlodar"}, region: Pavlodar}
  - {code: KTZ-DEPOT1, subsidiary: KTZ, name: {ru: "Депо", kk: "Депо", en: "Depot"}, region: Astana}
metrics:
  - {code: energy_gj, name: {ru: "Э", kk: "Э", en: "Energy"}, unit: GJ, frequency: daily, aggregation: sum,
     higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}
  - {code: temp_delta, name: {ru: "Т", kk: "Т", en: "Delta"}, unit: "%", frequency: daily, aggregation: mean,
     higher_is_better: false, value_kzt_per_unit: 1}
  - {code: power_kwh, name: {ru: "Эл", kk: "Эл", en: "Power"}, unit: kWh, frequency: weekly, aggregation: sum,
     higher_is_better: false, value_kzt_per_unit: 25, min_value: 0}
  - {code: output_t, name: {ru: "В", kk: "Ө", en: "Output"}, unit: t, frequency: monthly, aggregation: sum,
     higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0}
  - {code: margin_kzt, name: {ru: "М", kk: "М", en: "Margin"}, unit: KZT, frequency: monthly, aggregation: sum,
     higher_is_better: true, value_kzt_per_unit: 1}
"""
SIGNED = {"temp_delta", "margin_kzt"}  # the metrics without a lower bound
SPECIAL = ["1.234", "12.345", "0.5", "999.999", "0.000000000001", "123456789.123456789012", "1200000000", "0"]
NBSP, NNBSP = "\u00a0", "\u202f"

Row = tuple[str, str, date, str]  # site, metric, period, value as decimal text


def _value(rng: random.Random, signed: bool) -> str:
    decimals = rng.randint(0, 12)
    whole = rng.randint(0, rng.choice([1, 10, 1000, 10**5, 10**7]))
    text = f"{whole}.{''.join(rng.choice('0123456789') for _ in range(decimals))}" if decimals else str(whole)
    text = format(Decimal(text).normalize(), "f")
    return "-" + text if signed and text != "0" and rng.random() < 0.5 else text


def make_base(seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    monday = date(2025, 3, 3)
    rows: list[Row] = []
    for site in ("KMG-ANPZ", "KMG-PNHZ", "KTZ-DEPOT1"):
        rows += [(site, "energy_gj", monday + timedelta(days=i), "") for i in range(5)]
        rows += [(site, "temp_delta", monday + timedelta(days=i), "") for i in range(3)]
        rows += [(site, "power_kwh", monday + timedelta(weeks=i), "") for i in range(3)]
        rows += [(site, "output_t", date(2025, m, 1), "") for m in (1, 2)]
        rows += [(site, "margin_kzt", date(2025, m, 1), "") for m in (1, 2)]
    out = []
    for i, (site, metric, period, _) in enumerate(rows):
        value = SPECIAL[i // 4] if i % 4 == 0 and i // 4 < len(SPECIAL) else _value(rng, metric in SIGNED)
        out.append((site, metric, period, value))
    # negatives that look like the ambiguous cells, on the signed metrics
    out[6] = (*out[6][:3], "-1.234")
    out[7] = (*out[7][:3], "-0.000000000001")
    return out


BASE = make_base()
Current = list[tuple[str, str, date, str]]  # value as repr: -0.0 and 0.0 differ, as bits do


def expected(rows: list[Row], number: Callable[[str], float] = float) -> Current:
    return sorted((s, m, p, repr(number(v))) for s, m, p, v in rows)


# ---- warehouse -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eq_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse_with_registry(tmp_path_factory.mktemp("equivalence"), REGISTRY_YAML)


class Warehouse(WarehouseCopies):
    """Fresh copies of the registry warehouse, one per ingestion sequence; values read exactly (`current`)."""

    def read(self, con: duckdb.DuckDBPyConnection) -> Current:
        return current(con)


def current(con: duckdb.DuckDBPyConnection) -> Current:
    rows = con.execute("SELECT site_code, metric_code, period, value FROM observations ORDER BY ALL").fetchall()
    return [(s, m, p, repr(v)) for s, m, p, v in rows]


@pytest.fixture
def wh(eq_warehouse: Path, tmp_path: Path) -> Warehouse:
    return Warehouse(eq_warehouse, tmp_path)


def assert_loaded(report: IngestReport, got: Current, want: Current, what: str) -> None:
    assert report.status == "loaded", (what, [(e.line, e.column, e.value, e.code) for e in report.errors[:5]])
    assert got == want, (what, [(g, w) for g, w in zip(got, want, strict=False) if g != w][:5])


# ---- text files --------------------------------------------------------------------------------------------------

HEADERS = {
    "en": ["site_code", "metric_code", "period", "value"],
    "ru": ["Код объекта", "Код показателя", "Дата", "Значение"],
    "kk": ["Нысан коды", "Көрсеткіш коды", "Күні", "Мәні"],
    "en_case_spaces": [" Site Code ", "METRIC", "Date", "Value "],
    "ru_synonyms": ["объект", "ПОКАЗАТЕЛЬ", "период", " величина"],
    "kk_synonyms": ["нысан", "көрсеткіш", "кезең", "мән"],
}


def write_number(value: str, decimal: str = ".", thousands: str = "") -> str:
    whole, _, fraction = value.partition(".")
    sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    if thousands:
        groups = []
        while len(digits) > 3:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = thousands.join([digits, *groups])
    return sign + digits + (decimal + fraction if fraction else "")


DATE_STYLES: dict[str, Callable[[date], str]] = {
    "iso": date.isoformat,
    "dmy": lambda d: d.strftime("%d.%m.%Y"),
    "dmy_time": lambda d: d.strftime("%d.%m.%Y") + " 0:00:00",
    "iso_time": lambda d: d.isoformat() + " 00:00:00",
    "iso_T": lambda d: d.isoformat() + "T00:00:00",
    "dmy_unpadded": lambda d: f"{d.day}.{d.month}.{d.year}",
}


def csv_text(
    rows: list[Row],
    *,
    delimiter: str = ";",
    decimal: str = ".",
    thousands: str = "",
    dates: str = "iso",
    header: str = "en",
    quote_all: bool = False,
    eol: str = "\n",
    titles: int = 0,
    blank_rows: bool = False,
    blank_column: bool = False,
    totals: bool = False,
    order: tuple[int, ...] = (0, 1, 2, 3),
) -> str:
    """The rows as one export writes them (cells holding the delimiter or a quote are quoted, as csv writers do)."""

    def line(cells: list[str]) -> str:
        cells = [cells[i] for i in order]
        if blank_column:
            cells.insert(2, "")
        quoted = ['"' + c.replace('"', '""') + '"' if quote_all or delimiter in c or '"' in c else c for c in cells]
        return delimiter.join(quoted)

    lines = [f"Выгрузка показателей, лист {i + 1}" for i in range(titles)] + ([""] if titles else [])
    lines.append(line(list(HEADERS[header])))
    for i, (site, metric, period, value) in enumerate(rows):
        lines.append(line([site, metric, DATE_STYLES[dates](period), write_number(value, decimal, thousands)]))
        if blank_rows and i % 7 == 3:
            lines.append("" if i % 2 else delimiter * (3 + blank_column))
    if totals:
        lines.append(line(["Итого", "", "", write_number("12345.5", decimal, thousands)]))
        lines.append(line(["Total", "", "", "1"]))
    return eol.join(lines) + eol


# (encoding, csv_text options): every delimiter, decimal mark, thousands separator, encoding and layout at least once
TEXT_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "comma_point": ("utf-8", {"delimiter": ","}),
    "semicolon_point": ("utf-8", {}),
    "tab_point": ("utf-8", {"delimiter": "\t"}),
    "semicolon_decimal_comma": ("utf-8", {"decimal": ","}),
    "comma_decimal_comma_quoted": ("utf-8", {"delimiter": ",", "decimal": ","}),
    "tab_decimal_comma": ("utf-8", {"delimiter": "\t", "decimal": ","}),
    "space_thousands_comma": ("utf-8", {"decimal": ",", "thousands": " "}),
    "nbsp_thousands_comma_cp1251": ("cp1251", {"decimal": ",", "thousands": NBSP, "header": "ru", "dates": "dmy"}),
    "narrow_nbsp_thousands_point": ("utf-8", {"thousands": NNBSP}),
    "apostrophe_thousands_point": ("utf-8", {"thousands": "'", "delimiter": ","}),
    "apostrophe_thousands_comma": ("utf-8", {"thousands": "'", "decimal": ","}),
    "dot_thousands_ru_style": ("utf-8", {"thousands": ".", "decimal": ","}),
    "comma_thousands_en_style": ("utf-8", {"thousands": ",", "delimiter": ","}),
    "quote_all_crlf": ("utf-8", {"quote_all": True, "eol": "\r\n", "decimal": ","}),
    "utf8_bom_kk": ("utf-8-sig", {"header": "kk", "delimiter": "\t", "decimal": ","}),
    "utf16_tab": ("utf-16", {"delimiter": "\t", "decimal": ",", "thousands": NBSP}),
    "titles_blank_rows_totals": ("cp1251", {"titles": 3, "blank_rows": True, "totals": True, "header": "ru"}),
    "blank_column": ("utf-8", {"blank_column": True, "decimal": ","}),
    "shuffled_columns": ("utf-8", {"order": (2, 3, 1, 0), "header": "en_case_spaces"}),
    "value_first_with_totals": ("utf-8", {"order": (3, 1, 2, 0), "totals": True, "decimal": ","}),
    "ru_synonyms_dmy_time": ("cp1251", {"header": "ru_synonyms", "dates": "dmy_time", "decimal": ","}),
    "kk_synonyms_iso_time": ("utf-8", {"header": "kk_synonyms", "dates": "iso_time"}),
    "iso_T_dates": ("utf-8", {"dates": "iso_T", "eol": "\r\n"}),
    "dmy_unpadded": ("utf-8", {"dates": "dmy_unpadded", "thousands": " ", "decimal": ","}),
}


@pytest.mark.parametrize("name", list(TEXT_VARIANTS))
def test_text_variants_store_the_same_numbers(wh: Warehouse, name: str) -> None:
    encoding, options = TEXT_VARIANTS[name]
    data = csv_text(BASE, **options).encode(encoding)
    for fast_bytes in (0, 10**9):  # the polars splitter and the csv module must agree
        [report], got = wh.load([(data, "export.csv")], fast_bytes=fast_bytes)
        assert_loaded(report, got, expected(BASE), f"{name} fast_bytes={fast_bytes}")


def test_random_combinations_of_text_variants(wh: Warehouse) -> None:
    """Seeded combinations of every text dimension at once (the named variants each vary a few)."""
    rng = random.Random(2025)
    marks = [(".", ""), (".", " "), (".", NBSP), (".", "'"), (".", ","), (",", ""), (",", " "), (",", NBSP)]
    marks += [(",", "."), (",", "'")]
    tried = 0
    while tried < 24:
        decimal, thousands = rng.choice(marks)
        encoding = rng.choice(["utf-8", "utf-8-sig", "cp1251", "utf-16"])
        options = {
            "delimiter": rng.choice([",", ";", "\t"]),
            "decimal": decimal,
            "thousands": thousands,
            "dates": rng.choice(list(DATE_STYLES)),
            "header": rng.choice(list(HEADERS)),
            "quote_all": rng.random() < 0.3,
            "eol": rng.choice(["\n", "\r\n"]),
            "titles": rng.choice([0, 0, 2]),
            "blank_rows": rng.random() < 0.4,
            "blank_column": rng.random() < 0.2,
            "totals": rng.random() < 0.4,
            "order": tuple(rng.sample(range(4), 4)),
        }
        text = csv_text(BASE, **options)
        if encoding == "cp1251" and (thousands == NNBSP or options["header"].startswith("kk")):
            encoding = "utf-8"  # Windows-1251 has no Kazakh letters: such a file is always Unicode
        data = text.encode(encoding)
        [report], got = wh.load([(data, "export.csv")], fast_bytes=rng.choice([0, 10**9]))
        assert_loaded(report, got, expected(BASE), f"{encoding} {options}")
        tried += 1


def test_wide_layout_equals_long_layout(wh: Warehouse) -> None:
    periods = sorted({p for _, _, p, _ in BASE})
    cells = {(s, m, p): v for s, m, p, v in BASE}
    lines = [";".join(["Код объекта", "Код показателя", *(p.strftime("%d.%m.%Y") for p in periods)])]
    for site, metric in sorted({(s, m) for s, m, _, _ in BASE}):
        values = [
            write_number(cells[(site, metric, p)], ",", NBSP) if (site, metric, p) in cells else "" for p in periods
        ]
        lines.append(";".join([site, metric, *values]))
    lines.append(";".join(["Итого", "", *["1" for _ in periods]]))
    [report], got = wh.load([("\n".join(lines).encode("cp1251"), "wide.csv")])
    assert_loaded(report, got, expected(BASE), "wide")


# ---- XLSX --------------------------------------------------------------------------------------------------------


def xlsx_16g(value: str) -> float:
    """What xlsxwriter stores for a numeric cell: the number written with 16 significant digits."""
    return float(f"{float(value):.16G}")


def workbook(build: Callable[[xlsxwriter.Workbook], None]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    build(book)
    book.close()
    return buffer.getvalue()


def write_new_sheet(book: xlsxwriter.Workbook, *, rows: list[Row], values: str, dates: str) -> None:
    write_sheet(book, book.add_worksheet("Data"), rows, values=values, dates=dates)


def write_sheet(
    book: xlsxwriter.Workbook, sheet: Any, rows: list[Row], *, values: str, dates: str, top: int = 0
) -> None:
    dmy = book.add_format({"num_format": "dd.mm.yyyy"})
    stamp = book.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    sheet.write_row(top, 0, HEADERS["ru" if top else "en"])
    for i, (site, metric, period, value) in enumerate(rows, start=top + 1):
        sheet.write_string(i, 0, site)
        sheet.write_string(i, 1, metric)
        moment = datetime(period.year, period.month, period.day)
        if dates == "date_cell":
            sheet.write_datetime(i, 2, moment, dmy)
        elif dates == "datetime_cell":
            sheet.write_datetime(i, 2, moment, stamp)
        elif dates == "serial_number":
            sheet.write_number(i, 2, (period - date(1899, 12, 30)).days)
        else:
            sheet.write_string(i, 2, period.strftime("%d.%m.%Y") if dates == "text_dmy" else period.isoformat())
        mixed = values == "mixed_number_and_text"
        values_here = ("number" if i % 2 else "text_comma") if mixed else values
        if values_here == "number":
            sheet.write_number(i, 3, float(value))
        elif values_here == "formula":
            sheet.write_formula(i, 3, f"={value}*1", None, float(value))
        else:
            sheet.write_string(i, 3, TEXT_CELLS[values_here](value))


TEXT_CELLS: dict[str, Callable[[str], str]] = {
    "text_point": lambda v: v,
    "text_comma": lambda v: write_number(v, ","),
    "text_ru": lambda v: write_number(v, ",", NBSP),
    "text_sap_dot_thousands": lambda v: write_number(v, ",", "."),
}

# values kind -> what the workbook stores for a value (numeric cells: xlsxwriter's 16 digits; text: the text itself).
# A cell formatted as a percentage is the number it shows, in % (tests/ingest/test_percent_values.py).
XLSX_VALUES: dict[str, Callable[[str], float]] = {
    "number": xlsx_16g,
    "formula": float,  # the cached result is written as repr(float)
    "text_point": float,
    "text_comma": float,
    "text_ru": float,
    "text_sap_dot_thousands": float,
}
XLSX_DATES = ["date_cell", "datetime_cell", "serial_number", "text_dmy", "text_iso"]


@pytest.mark.parametrize("values", [*XLSX_VALUES, "mixed_number_and_text"])
def test_xlsx_variants_store_the_same_numbers(wh: Warehouse, values: str) -> None:
    for dates in XLSX_DATES:
        data = workbook(partial(write_new_sheet, rows=BASE, values=values, dates=dates))
        [report], got = wh.load([(data, "export.xlsx")])
        if values == "mixed_number_and_text":
            want = sorted(
                (s, m, p, repr(xlsx_16g(v) if i % 2 else float(v))) for i, (s, m, p, v) in enumerate(BASE, start=1)
            )
        else:
            want = expected(BASE, XLSX_VALUES[values])
        assert_loaded(report, got, want, f"{values}/{dates}")


def test_xlsx_second_sheet_merged_title_and_titles(wh: Warehouse) -> None:
    def build(book: xlsxwriter.Workbook) -> None:
        book.add_worksheet("Инструкция").write(0, 0, "Заполните лист «Данные»")
        sheet = book.add_worksheet("Данные")
        sheet.merge_range(0, 0, 1, 3, "Отчёт о показателях за I квартал 2025", book.add_format({"bold": True}))
        write_sheet(book, sheet, BASE, values="text_ru", dates="date_cell", top=3)

    [report], got = wh.load([(workbook(build), "export.xlsx")])
    assert_loaded(report, got, expected(BASE), "second sheet")
    assert report.sheet == "Данные"


def test_xlsx_text_in_sap_notation_reads_like_the_csv_of_the_same_cells(wh: Warehouse) -> None:
    # SAP writes numbers as text in the user's notation: "1.500" is one thousand five hundred when the file's other
    # text shows a decimal comma ("2.300,5"). Excel text cells used to be taken as plain numbers: 1.5, silently.
    cells = ["1.500", "2.300,5", "12.000", "0,25"]
    rows = [("KMG-ANPZ", "energy_gj", date(2025, 3, 3 + i), c) for i, c in enumerate(cells)]
    want = [
        ("KMG-ANPZ", "energy_gj", date(2025, 3, 3 + i), repr(v)) for i, v in enumerate([1500.0, 2300.5, 12000.0, 0.25])
    ]

    def build(book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet("SAP")
        sheet.write_row(0, 0, HEADERS["en"])
        for i, row in enumerate(rows, start=1):
            sheet.write_row(i, 0, [row[0], row[1], row[2].isoformat()])
            sheet.write_string(i, 3, row[3])

    csv = "\n".join([";".join(HEADERS["en"]), *(";".join([s, m, p.isoformat(), v]) for s, m, p, v in rows)])
    for data, name in ((workbook(build), "sap.xlsx"), (csv.encode(), "sap.csv")):
        [report], got = wh.load([(data, name)])
        assert_loaded(report, got, want, name)


def test_xlsx_and_parquet_numbers_are_never_ambiguous(wh: Warehouse) -> None:
    # a number stored as a number is not text: 1.234 in a numeric cell or a Float64 column is never "thousands?"
    rows = [("KMG-ANPZ", "energy_gj", date(2025, 3, 3), "1.234"), ("KMG-ANPZ", "energy_gj", date(2025, 3, 4), "5.678")]
    frame = pl.DataFrame(
        {
            "site_code": [r[0] for r in rows],
            "metric_code": [r[1] for r in rows],
            "period": [r[2] for r in rows],
            "value": [float(r[3]) for r in rows],
        }
    )
    parquet = io.BytesIO()
    frame.write_parquet(parquet)
    xlsx = workbook(partial(write_new_sheet, rows=rows, values="number", dates="date_cell"))
    for data, name in ((parquet.getvalue(), "p.parquet"), (xlsx, "x.xlsx")):
        [report], got = wh.load([(data, name)])
        assert_loaded(report, got, expected(rows), name)


# ---- Parquet -----------------------------------------------------------------------------------------------------


def base_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "site_code": [r[0] for r in BASE],
            "metric_code": [r[1] for r in BASE],
            "period": [r[2] for r in BASE],
            "value": [float(r[3]) for r in BASE],
        }
    )


def float32_shortest(value: str) -> float:
    """The shortest decimal that reads back to the float32 of `value` (what the Float32 column holds and shows)."""
    return float(str(np.float32(float(value))))


PARQUET_VARIANTS: dict[str, tuple[Callable[[pl.DataFrame], pl.DataFrame], Callable[[str], float]]] = {
    "float64_date": (lambda f: f, float),
    "float32_date": (lambda f: f.with_columns(pl.col("value").cast(pl.Float32)), float32_shortest),
    "decimal_38_12": (lambda f: f.with_columns(pl.col("value").cast(pl.Decimal(38, 12))), float),
    "text_values": (lambda f: f.with_columns(pl.Series("value", [r[3] for r in BASE])), float),
    "timestamp": (lambda f: f.with_columns(pl.col("period").cast(pl.Datetime("us"))), float),
    "timestamp_local_midnight_tz": (
        lambda f: f.with_columns(pl.col("period").cast(pl.Datetime("ms")).dt.replace_time_zone("Asia/Almaty")),
        float,
    ),
    "string_iso_dates": (lambda f: f.with_columns(pl.col("period").dt.to_string("%Y-%m-%d")), float),
    "string_dmy_dates_with_time": (lambda f: f.with_columns(pl.col("period").dt.to_string("%d.%m.%Y 00:00:00")), float),
    "ru_column_names": (
        lambda f: f.rename(
            {"site_code": "Код объекта", "metric_code": "Код показателя", "period": "Дата", "value": "Значение"}
        ),
        float,
    ),
}


@pytest.mark.parametrize("name", list(PARQUET_VARIANTS))
def test_parquet_variants_store_the_same_numbers(wh: Warehouse, name: str) -> None:
    change, number = PARQUET_VARIANTS[name]
    buffer = io.BytesIO()
    change(base_frame()).write_parquet(buffer)
    [report], got = wh.load([(buffer.getvalue(), "export.parquet")])
    assert_loaded(report, got, expected(BASE, number), name)


# ---- splitting by rows -------------------------------------------------------------------------------------------

SPLIT_STYLES = {
    "point": {"decimal": "."},
    "comma": {"decimal": ","},
    "ru": {"decimal": ",", "thousands": NBSP},
    "en": {"decimal": ".", "thousands": ",", "delimiter": "\t"},
    "dot_thousands": {"decimal": ",", "thousands": "."},
}


@pytest.mark.parametrize("style", list(SPLIT_STYLES))
def test_splitting_a_file_never_changes_a_number(wh: Warehouse, style: str) -> None:
    """Every cut of the rows into two files: each part loads to exactly the whole file's numbers, or is refused
    because nothing in that part shows the decimal mark of its "1.234"-like cells; a refused part changes nothing,
    and re-uploading the whole file then loads exactly the missing rows."""
    rows = BASE[:14]
    whole = expected(rows)
    refused_cuts = []
    for cut in range(1, len(rows)):
        parts = [rows[:cut], rows[cut:]]
        files = [(csv_text(part, **SPLIT_STYLES[style]).encode(), f"part{i}.csv") for i, part in enumerate(parts)]
        files.append((csv_text(rows, **SPLIT_STYLES[style]).encode(), "whole.csv"))
        reports, got = wh.load(files)
        assert got == whole, (style, cut)
        for report, part in zip(reports, parts, strict=False):
            if report.status == "rejected":
                assert {e.code for e in report.errors} == {"ingest.number_ambiguous"}, (style, cut, report.errors)
                refused_cuts.append(cut)
            else:
                assert report.status == "loaded" and report.rows_inserted == len(part), (style, cut)
        assert reports[2].status == ("unchanged" if all(r.status == "loaded" for r in reports[:2]) else "loaded")
    # the only refusals: a first part made of "1.234" and whole numbers (rows 0 and 1 of BASE)
    assert set(refused_cuts) <= {1, 2}, (style, refused_cuts)


def test_splitting_typed_files_never_refuses(wh: Warehouse) -> None:
    rows = BASE[:12]
    for cut in range(1, len(rows)):
        files = []
        for i, part in enumerate([rows[:cut], rows[cut:]]):
            xlsx = workbook(partial(write_new_sheet, rows=part, values="number", dates="date_cell"))
            files.append((xlsx, f"part{i}.xlsx"))
        reports, got = wh.load(files)
        assert [r.status for r in reports] == ["loaded", "loaded"], cut
        assert got == expected(rows, xlsx_16g)


# ---- refusals ----------------------------------------------------------------------------------------------------

REFUSED: dict[str, tuple[bytes, str, str]] = {
    # one column per metric is not a layout of PRODUCT.md: refused, saying the metric column is missing
    "wide_per_metric": (
        b"site_code;period;energy_gj;output_t\nKMG-ANPZ;2025-03-03;1,5;\n",
        "w.csv",
        "ingest.header_without_metric",
    ),
    # a CSV has no cell types: a bare 45719 is a number, not Excel's day serial
    "csv_excel_serial": (
        b"site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;45719;1,5\n",
        "s.csv",
        "ingest.date_invalid",
    ),
    "time_of_day": (
        b"site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;03.03.2025 08:30;1,5\n",
        "t.csv",
        "ingest.date_invalid",
    ),
    # Excel's "General" display of a long number has already rounded it; with a decimal comma it is refused
    "excel_scientific_comma": (
        b"site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025-03-03;1,2E+09\n",
        "e.csv",
        "ingest.value_not_number",
    ),
    "ambiguous_alone": (
        b"site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025-03-03;1.234\n",
        "a.csv",
        "ingest.number_ambiguous",
    ),
}


def _header_line(code: str) -> str:
    """The `detail` of a refusal: the header's line for a header that names too little, else nothing."""
    return "1" if code.startswith("ingest.header_without_") else ""


@pytest.mark.parametrize("name", list(REFUSED))
def test_refusals_change_nothing_and_speak_the_users_language(eq_warehouse: Path, tmp_path: Path, name: str) -> None:
    data, file_name, code = REFUSED[name]
    path = tmp_path / "wh.duckdb"
    shutil.copy(eq_warehouse, path)
    con = connect(path)
    try:
        first = ingest_file(con, csv_text(BASE).encode(), file_name="base.csv", uploaded_by="eng")
        assert first.status == "loaded"
        tables = ("observation_current", "observation_superseded")
        before = {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables}
        messages = {}
        for lang in ("ru", "kk", "en"):
            report = ingest_file(con, data, file_name=file_name, uploaded_by="eng", lang=lang)
            assert report.status == "rejected" and [e.code for e in report.errors] == [code], report.errors
            messages[lang] = report.errors[0].message
            assert messages[lang] and code not in messages[lang]
            assert (
                messages[lang]
                == t(
                    code,
                    lang,
                    value=report.errors[0].value or "",
                    detail=_header_line(code),
                    column=report.errors[0].column or "",
                )
                or code == "ingest.no_header"
            )
        assert len(set(messages.values())) == 3, messages
        after = {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables}
        assert after == before
    finally:
        con.close()


def test_a_leading_zero_group_shows_the_decimal_mark(wh: Warehouse) -> None:
    # SCADA exports with three fixed decimals: "0.500" cannot be thousands (no grouping starts with a 0 group), so it
    # shows that "." is the decimal mark and "1.250" in the same file is 1.25. Both used to be refused as ambiguous.
    for decimal in (".", ","):
        text = "site_code;metric_code;period;value\n" + "".join(
            f"KMG-ANPZ;energy_gj;2025-03-0{day};{cell.replace('.', decimal)}\n"
            for day, cell in ((3, "0.500"), (4, "1.250"))
        )
        [report], got = wh.load([(text.encode(), "scada.csv")])
        want = [("KMG-ANPZ", "energy_gj", date(2025, 3, d), repr(v)) for d, v in ((3, 0.5), (4, 1.25))]
        assert_loaded(report, got, want, decimal)
