"""Two-digit years as 1C and Excel write them: `01.03.24`, `1.3.24`, `мар.24`, `Mar-24`, read as 20yy, with a note.

Before 2026-11-28 a long file's `01.03.24` loaded as 1 March 2024 without a word, by strftime's rule for `%y`
(00–69 → 20yy, 70–99 → 19yy), so `15.06.99` loaded silently as 15 June 1999; the same dates as wide headers, and
`мар.24` / `Mar-24` anywhere, were refused as not understood. Now a two-digit year is 20yy wherever a day-first date
or a month name is read (headers and cells, CSV and XLSX), the note says how (`01.03.24 → 2024-03-01`), and a year
that lands in the future (`01.03.85` is 2085) is refused by the future-period rule, in words that say why. Dates with
slashes and the day or month first stay unread, as before (day or month first?), now with a message that says why; with
the four-digit year first (`2024/03/01`) they have one reading and are read (2026-11-28). Plain ISO files never run any
of it (`test_a_file_of_iso_dates_pays_for_none_of_it`; the timing is in the change's report).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import WarehouseCopies

from pilot_roi import clock
from pilot_roi.i18n import t
from pilot_roi.ingest import IngestReport

LANGS = ("ru", "kk", "en")
TODAY = date(2025, 6, 30)
Stored = list[tuple[str, str, date, str]]


class Warehouse(WarehouseCopies):
    def read(self, con: duckdb.DuckDBPyConnection) -> Stored:
        rows = con.execute("SELECT site_code, metric_code, period, value FROM observations ORDER BY ALL").fetchall()
        return [(s, m, p, float(v).hex()) for s, m, p, v in rows]


@pytest.fixture
def wh(registry_warehouse: Path, tmp_path: Path) -> Warehouse:
    return Warehouse(registry_warehouse, tmp_path)


def long_csv(rows: list[tuple[str, str, str, str]]) -> tuple[bytes, str]:
    lines = ["Код объекта;Код показателя;Дата;Значение", *(";".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8"), "long.csv"


def long_xlsx(rows: list[tuple[str, str, str, str]]) -> tuple[bytes, str]:
    """Period cells as text (as 1C writes them to a workbook), values as numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Лист1")
    for c, h in enumerate(("site_code", "metric_code", "period", "value")):
        sheet.write_string(0, c, h)
    for r, (site, metric, period, value) in enumerate(rows, start=1):
        sheet.write_string(r, 0, site)
        sheet.write_string(r, 1, metric)
        sheet.write_string(r, 2, period)
        sheet.write_number(r, 3, float(value.replace(",", ".")))
    book.close()
    return buffer.getvalue(), "long.xlsx"


def wide_csv(headers: list[str], values: list[str]) -> tuple[bytes, str]:
    text = f"site_code;metric_code;{';'.join(headers)}\nKMG-ANPZ;output_t;{';'.join(values)}\n"
    return text.encode("utf-8"), "wide.csv"


def iso(rows: list[tuple[str, str, date, str]]) -> tuple[bytes, str]:
    lines = ["site_code,metric_code,period,value", *(f"{s},{m},{d.isoformat()},{v}" for s, m, d, v in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8"), "iso.csv"


def loaded(report: IngestReport, what: object) -> None:
    assert report.status == "loaded", (what, [(e.line, e.column, e.value, e.code) for e in report.errors[:5]])


# ---- read as 20yy, with a note ---------------------------------------------------------------------------------------

DAYS = [
    ("01.03.24", date(2024, 3, 1)),
    ("1.3.24", date(2024, 3, 1)),  # the same day twice (KMG-ANPZ and KMG-PNHZ below)
    ("31.12.23", date(2023, 12, 31)),
    ("05.01.00", date(2000, 1, 5)),
    ("29.02.24 0:00", date(2024, 2, 29)),  # Excel's CSV of a date cell with a zero time
    ("17.06.25 00:00:00", date(2025, 6, 17)),
]


@pytest.mark.parametrize("writer", [long_csv, long_xlsx], ids=["csv", "xlsx"])
def test_two_digit_years_in_a_long_file_read_as_20yy_with_a_note(
    wh: Warehouse, writer: Callable[..., tuple[bytes, str]]
) -> None:
    cases = list(enumerate(zip(["KMG-ANPZ", "KMG-PNHZ"] * 3, DAYS, strict=True)))
    rows = [(site, "energy_gj", text, f"{100 + i},25") for i, (site, (text, _)) in cases]
    want = [(site, "energy_gj", day, f"{100 + i}.25") for i, (site, (_, day)) in cases]
    [report], got = wh.load([writer(rows)], today=TODAY, lang="en")
    loaded(report, writer.__name__)
    [_], from_iso = wh.load([iso(want)], today=TODAY)
    assert got == from_iso and len(got) == len(DAYS)
    example = "01.03.24 → 2024-03-01, 1.3.24 → 2024-03-01, 31.12.23 → 2023-12-31, …"
    assert t("ingest.note.two_digit_years", "en", example=example, count=len(DAYS)) in report.notes, report.notes


def test_the_note_is_in_the_users_language(wh: Warehouse) -> None:
    texts = set()
    for lang in LANGS:
        [report], _ = wh.load([long_csv([("KMG-ANPZ", "energy_gj", "01.03.24", "1")])], today=TODAY, lang=lang)
        loaded(report, lang)
        [note] = [n for n in report.notes if "01.03.24" in n]
        assert note == t("ingest.note.two_digit_years", lang, example="01.03.24 → 2024-03-01", count=1)
        assert "{" not in note and "ingest." not in note
        texts.add(note)
    assert len(texts) == 3


@pytest.mark.parametrize(
    ("headers", "days"),
    [
        (["01.01.24", "1.2.24", "01.03.24"], [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]),
        (["мар.24", "апр.24", "май.24"], [date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)]),  # Excel ru: ММM.ГГ
        (["Mar-24", "Apr-24", "May-24"], [date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)]),  # Excel en: mmm-yy
        (["Mar '24", "Apr '24", "Dec '23"], [date(2024, 3, 1), date(2024, 4, 1), date(2023, 12, 1)]),
        (["наур.24", "сәу.24", "мам.24"], [date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)]),  # kk
        (["Март 24 г.", "Апрель 24 г.", "Май 24 г."], [date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)]),
    ],
)
def test_two_digit_years_in_wide_headers_store_what_iso_dates_store(
    wh: Warehouse, headers: list[str], days: list[date]
) -> None:
    values = ["1017.279209603239", "", "0.1"]  # an empty cell: no observation
    [report], got = wh.load([wide_csv(headers, values)], today=TODAY, lang="ru")
    loaded(report, headers)
    want = [("KMG-ANPZ", "output_t", d, v) for d, v in zip(days, values, strict=True) if v]
    [_], from_iso = wh.load([iso(want)], today=TODAY)
    assert got == from_iso and len(got) == 2
    example = f"{headers[0]} → {days[0].isoformat()}, {headers[2]} → {days[2].isoformat()}"
    assert t("ingest.note.two_digit_years", "ru", example=example, count=2) in report.notes, report.notes


@pytest.mark.parametrize("label", ["мар.24", "Mar-24", "Mar '24"])
def test_a_month_with_a_two_digit_year_in_a_long_file(wh: Warehouse, label: str) -> None:
    [report], got = wh.load([long_csv([("KMG-ANPZ", "output_t", label, "5")])], today=TODAY)
    loaded(report, label)
    assert got == [("KMG-ANPZ", "output_t", date(2024, 3, 1), (5.0).hex())]


@pytest.mark.parametrize("label", ["мар.24", "Mar-24"])
def test_a_month_label_is_never_the_24th_of_a_daily_metric(wh: Warehouse, label: str) -> None:
    # "Mar-24" is a month (Excel's mmm-yy); for a daily metric it is refused as a whole month, not stored on a day
    [report], got = wh.load([long_csv([("KMG-ANPZ", "energy_gj", label, "5")])], today=TODAY)
    assert report.status == "rejected" and got == []
    assert [e.code for e in report.errors] == ["ingest.period_month_for_daily"]


@pytest.mark.parametrize("text", ["24-мар", "24-Mar", "Q1 24", "1Q24", "03.24"])
def test_other_two_digit_forms_stay_unread(wh: Warehouse, text: str) -> None:
    # "24-Mar" is Excel's d-mmm (24 March, no year); quarters keep four digits; "03.24" is a number as much as a month
    [report], got = wh.load([long_csv([("KMG-ANPZ", "output_t", text, "5")])], today=TODAY)
    assert report.status == "rejected" and got == []
    assert [e.code for e in report.errors] == ["ingest.date_invalid"]


def test_every_day_of_the_century_reads_back_from_its_two_digit_form() -> None:
    from pilot_roi.ingest.parse import read_periods

    # the whole range, both spellings (zero-padded and not): 20yy, never 19yy, never a day off
    days = [date(2000, 1, 1) + timedelta(days=i) for i in range((date(2099, 12, 31) - date(2000, 1, 1)).days + 1)]
    padded = [d.strftime("%d.%m.%y") for d in days]
    bare = [f"{d.day}.{d.month}.{d.year % 100:02d}" for d in days]
    for texts in (padded, bare):
        read = read_periods(pl.Series(texts))
        assert read.dates.to_list() == days
        assert read.codes.null_count() == len(days)
        assert read.short_year is not None and bool(read.short_year.all())


# ---- a two-digit year in the future is refused, saying why ---------------------------------------------------------


@pytest.mark.parametrize(("text", "stored"), [("15.06.99", date(2099, 6, 15)), ("01.03.70", date(2070, 3, 1))])
def test_a_two_digit_year_never_guesses_the_century(wh: Warehouse, text: str, stored: date) -> None:
    # strftime's %y read 70..99 as 19yy: "15.06.99" loaded silently as 1999. 20yy puts it in the future: refused
    [report], got = wh.load([long_csv([("KMG-ANPZ", "energy_gj", text, "5")])], today=TODAY, lang="en")
    assert report.status == "rejected" and got == []
    [error] = report.errors
    assert (error.code, error.line, error.value) == ("ingest.period_future_short_year", 2, text)
    assert error.message == t("ingest.period_future_short_year", "en", value=text, detail="2025-06-30")
    assert f"{text} → {stored.isoformat()}" in " ".join(report.notes)


def test_the_future_begins_after_kazakhstans_today_for_two_digit_years_too(wh: Warehouse) -> None:
    # no `today` given: the product's clock decides (the day in Kazakhstan)
    today = clock.today()
    ok, late = today, today + timedelta(days=1)
    rows = [("KMG-ANPZ", "energy_gj", ok.strftime("%d.%m.%y"), "1")]
    [report], got = wh.load([long_csv(rows)])
    loaded(report, ok)
    assert got == [("KMG-ANPZ", "energy_gj", ok, (1.0).hex())]
    [report], got = wh.load([long_csv([*rows, ("KMG-ANPZ", "energy_gj", late.strftime("%d.%m.%y"), "2")])])
    assert report.status == "rejected" and got == []
    assert [(e.code, e.line) for e in report.errors] == [("ingest.period_future_short_year", 3)]


def test_a_four_digit_future_date_keeps_its_message(wh: Warehouse) -> None:
    [report], _ = wh.load([long_csv([("KMG-ANPZ", "energy_gj", "01.03.2099", "5")])], today=TODAY)
    assert [e.code for e in report.errors] == ["ingest.period_future"]


# ---- slashes: day or month first? Refused, saying so ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["01/03/24", "1/3/2024", "13/03/2024", "3/1/24 0:00", "24/03/01"])
def test_dates_with_slashes_are_refused_saying_why(wh: Warehouse, text: str) -> None:
    messages = set()
    for lang in LANGS:
        [report], got = wh.load([long_csv([("KMG-ANPZ", "energy_gj", text, "5")])], today=TODAY, lang=lang)
        assert report.status == "rejected" and got == []
        [error] = report.errors
        assert (error.code, error.value) == ("ingest.date_slashes", text)
        assert text in error.message and "01/03/2024" in error.message
        messages.add(error.message)
    assert len(messages) == 3


# ---- slashes with the four-digit year first: one reading only, read ---------------------------------------------

YEAR_FIRST = [
    ("2024/03/01", date(2024, 3, 1)),
    ("2024/3/2", date(2024, 3, 2)),  # Excel's yyyy/m/d short date (ja-JP, zh-CN)
    ("2024/12/31", date(2024, 12, 31)),
    ("2024/02/29 0:00", date(2024, 2, 29)),  # Excel's CSV of a date cell with a zero time
    ("2025/1/5 00:00:00", date(2025, 1, 5)),
]


@pytest.mark.parametrize("writer", [long_csv, long_xlsx], ids=["csv", "xlsx"])
def test_year_first_slashed_dates_in_a_long_file_store_what_iso_dates_store(
    wh: Warehouse, writer: Callable[..., tuple[bytes, str]]
) -> None:
    # refused before as "day or month first?", though a leading four-digit year leaves one reading: year, month, day
    rows = [("KMG-ANPZ", "energy_gj", text, f"{10 + i},5") for i, (text, _) in enumerate(YEAR_FIRST)]
    want = [("KMG-ANPZ", "energy_gj", day, f"{10 + i}.5") for i, (_, day) in enumerate(YEAR_FIRST)]
    [report], got = wh.load([writer(rows)], today=TODAY, lang="en")
    loaded(report, writer.__name__)
    [_], from_iso = wh.load([iso(want)], today=TODAY)
    assert got == from_iso and len(got) == len(YEAR_FIRST)
    assert not any("20yy" in note for note in report.notes), report.notes  # four digits: nothing was guessed


def test_year_first_slashed_wide_headers_store_what_iso_dates_store(wh: Warehouse) -> None:
    headers, values = ["2024/01/01", "2024/2/1", "2024/03/01"], ["1017.279209603239", "", "0.1"]
    [report], got = wh.load([wide_csv(headers, values)], today=TODAY, lang="ru")
    loaded(report, headers)
    days = [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    [_], from_iso = wh.load([iso([("KMG-ANPZ", "output_t", d, v) for d, v in zip(days, values, strict=True) if v])])
    assert got == from_iso and len(got) == 2


@pytest.mark.parametrize("text", ["2024/13/01", "2024/02/30"])
def test_a_year_first_slashed_date_that_is_no_day_is_refused(wh: Warehouse, text: str) -> None:
    [report], got = wh.load([long_csv([("KMG-ANPZ", "energy_gj", text, "5")])], today=TODAY)
    assert report.status == "rejected" and got == []
    assert [(e.code, e.value) for e in report.errors] == [("ingest.date_invalid", text)]


def test_year_first_slashes_through_the_command_line(
    reg_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pilot_roi.cli import main

    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025/03/01;1,5\n", encoding="utf-8")
    bad.write_text("site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;01/03/2025;1,5\n", encoding="utf-8")
    wh_args = ["--warehouse", str(reg_path), "--lang", "kk"]
    assert main(["ingest", str(good), *wh_args]) == 0
    assert main(["ingest", str(bad), *wh_args]) == 1
    err = capsys.readouterr().err
    assert t("ingest.date_slashes", "kk", value="01/03/2025") in err and "Traceback" not in err
    con = duckdb.connect(str(reg_path), read_only=True)
    try:
        assert con.execute("SELECT site_code, period, value FROM observations").fetchall() == [
            ("KMG-ANPZ", date(2025, 3, 1), 1.5)
        ]
    finally:
        con.close()


# ---- cost: a file of ISO dates never runs the two-digit-year machinery -------------------------------------------


def test_a_file_of_iso_dates_pays_for_none_of_it() -> None:
    from pilot_roi.ingest.parse import read_periods

    days = pl.Series([(date(2024, 1, 1) + timedelta(days=i % 700)).isoformat() for i in range(50_000)])
    read = read_periods(days)
    assert read.short_year is None and read.spans is None and read.codes.null_count() == days.len()
    dotted = read_periods(pl.Series(["01.03.2024", "2.3.2024"]))
    assert dotted.short_year is None  # four-digit years are no two-digit ones
