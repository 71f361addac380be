"""Quarter, ISO week and month-name labels, as 1C, SAP and Excel exports write them, in ru, kk and en.

A wide file headed `1 кв. 2024`, `2024 ж. 1 тоқсан`, `2024-Q1`, `2024-W05`, `5 нед. 2024`, `янв. 2024`, `қаң. 2024`,
`Jan 2024` ... used to be refused with "no header row found: the columns site_code, metric_code, period, value are
needed" although those columns were there, and a long file with `2024-Q1` in its period cells was refused as "not a
date". Such a file now stores exactly what the same data with ISO dates stores: a quarter on its first day, an ISO
week on its Monday (week 1 holds 4 January: `2025-W01` is Monday 30 December 2024), a month on its 1st.

A label is only right for a metric whose period is what it names. A quarter's total given for a daily, weekly or
monthly metric (or a single quarter for a yearly one), and a week for any metric but a weekly one, is refused in
words, even where its first day fits the metric's grid: `1 кв. 2024` is Monday 1 January 2024, `Q1 2024` is the
first day of the year, `2024-W14` is 1 April 2024. Month names follow the rules of `2024-01`.
"""

from __future__ import annotations

import io
import random
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import WarehouseCopies, warehouse_with_registry

from pilot_roi.i18n import t
from pilot_roi.ingest import IngestReport, ingest_file
from pilot_roi.warehouse import connect

REGISTRY = """
subsidiaries:
  - {code: KMG, name: {ru: "КМГ", kk: "ҚМГ", en: "KMG"}, sector: oil_gas}
sites:
  - {code: KMG-ANPZ, subsidiary: KMG, name: {ru: "АНПЗ", kk: "АМӨЗ", en: "Atyrau"}, region: Atyrau}
  - {code: KMG-PNHZ, subsidiary: KMG, name: {ru: "ПНХЗ", kk: "ПМХЗ", en: "Pavlodar"}, region: Pavlodar}
metrics:
  - {code: energy_gj, name: {ru: "Э", kk: "Э", en: "Energy"}, unit: GJ, frequency: daily, aggregation: sum,
     higher_is_better: false, value_kzt_per_unit: 4200, min_value: 0}
  - {code: power_kwh, name: {ru: "Эл", kk: "Эл", en: "Power"}, unit: kWh, frequency: weekly, aggregation: sum,
     higher_is_better: false, value_kzt_per_unit: 25, min_value: 0}
  - {code: output_t, name: {ru: "В", kk: "Ө", en: "Output"}, unit: t, frequency: monthly, aggregation: sum,
     higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0}
  - {code: uptime_pct, name: {ru: "Г", kk: "Д", en: "Uptime"}, unit: "%", frequency: quarterly, aggregation: mean,
     higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0, max_value: 100}
  - {code: emissions_t, name: {ru: "В", kk: "Ш", en: "Emissions"}, unit: t, frequency: yearly, aggregation: sum,
     higher_is_better: false, value_kzt_per_unit: 10, min_value: 0}
"""
LANGS = ("ru", "kk", "en")
SITES = ("KMG-ANPZ", "KMG-PNHZ")
FIELDS = {
    "ru": ("Код объекта", "Код показателя"),
    "kk": ("Нысан коды", "Көрсеткіш коды"),
    "en": ("site_code", "metric_code"),
}

# kind -> (the metric of that period, {lang: [(label as an export writes it, the day it stands for)]}).
# The days are written out by hand (1 January 2024 is a Monday), not computed by the code under test.
LABELS: dict[str, tuple[str, dict[str, list[tuple[str, date]]]]] = {
    "quarter": (
        "uptime_pct",
        {
            "ru": [
                ("1 кв. 2024", date(2024, 1, 1)),
                ("II кв. 2024", date(2024, 4, 1)),
                ("III квартал 2024 г.", date(2024, 7, 1)),
                ("4-й квартал 2024", date(2024, 10, 1)),
            ],
            "kk": [
                ("2024 ж. 1 тоқсан", date(2024, 1, 1)),
                ("2024 жылғы 2-тоқсан", date(2024, 4, 1)),
                ("ІІІ тоқсан 2024 ж.", date(2024, 7, 1)),  # Cyrillic І, as a Kazakh keyboard types it
                ("2024 ж. IV тоқсан", date(2024, 10, 1)),
            ],
            "en": [
                ("2024-Q1", date(2024, 1, 1)),
                ("Q2 2024", date(2024, 4, 1)),
                ("2024 Q3", date(2024, 7, 1)),
                ("Q4-2024", date(2024, 10, 1)),
            ],
        },
    ),
    "week": (
        "power_kwh",
        {
            "ru": [
                ("2020 нед. 53", date(2020, 12, 28)),  # 2020 has 53 ISO weeks
                ("2024 нед. 5", date(2024, 1, 29)),
                ("6 нед. 2024", date(2024, 2, 5)),
                ("неделя 7 2024", date(2024, 2, 12)),
                ("1-я неделя 2025", date(2024, 12, 30)),  # week 1 of 2025 begins in 2024
            ],
            "kk": [
                ("2020 ж. 53 апта", date(2020, 12, 28)),
                ("2024 ж. 5 апта", date(2024, 1, 29)),
                ("2024 жылғы 6-апта", date(2024, 2, 5)),
                ("7 апта 2024", date(2024, 2, 12)),
                ("2025 ж. 1 апта", date(2024, 12, 30)),
            ],
            "en": [
                ("2020-W53", date(2020, 12, 28)),
                ("2024-W05", date(2024, 1, 29)),
                ("W06 2024", date(2024, 2, 5)),
                ("Week 7, 2024", date(2024, 2, 12)),
                ("2025-W01", date(2024, 12, 30)),
            ],
        },
    ),
    "month": (
        "output_t",
        {
            "ru": [
                ("янв. 2024", date(2024, 1, 1)),
                ("Февраль 2024", date(2024, 2, 1)),
                ("март 2024 г.", date(2024, 3, 1)),
                ("Сент. 2024", date(2024, 9, 1)),
                ("Декабрь 2024 г.", date(2024, 12, 1)),
            ],
            "kk": [
                ("қаң. 2024", date(2024, 1, 1)),
                ("2024 ж. ақпан", date(2024, 2, 1)),
                ("наурыз 2024", date(2024, 3, 1)),
                ("қыркүйек 2024 ж.", date(2024, 9, 1)),
                ("жел. 2024", date(2024, 12, 1)),
            ],
            "en": [
                ("Jan 2024", date(2024, 1, 1)),
                ("February 2024", date(2024, 2, 1)),
                ("Mar-2024", date(2024, 3, 1)),
                ("Sept 2024", date(2024, 9, 1)),
                ("Dec 2024", date(2024, 12, 1)),
            ],
        },
    ),
}

Obs = tuple[str, str, date, str]  # site, metric, day, value as decimal text
Current = list[tuple[str, str, date, str]]  # value as float.hex(): equal bit for bit


def values_for(labels: list[tuple[str, date]], metric: str, seed: int) -> list[Obs]:
    """Values with up to 11 significant digits (an XLSX number cell keeps 16: the same double as the text), for both
    sites; one cell is left empty (no observation)."""
    rng = random.Random(seed)
    out = []
    for s, site in enumerate(SITES):
        for i, (_, day) in enumerate(labels):
            if (s, i) == (1, 1):
                continue
            out.append((site, metric, day, f"{rng.randint(0, 99)}.{rng.randint(0, 10**9):09d}"))
    return out


def wide_table(lang: str, labels: list[tuple[str, date]], observations: list[Obs]) -> list[list[str]]:
    """The header row and one row per site and metric, a label per column; an empty cell where nothing is observed."""
    cells = {(s, m, d): v for s, m, d, v in observations}
    rows = [[*FIELDS[lang], *(label for label, _ in labels)]]
    for site, metric in sorted({(s, m) for s, m, _, _ in observations}):
        rows.append([site, metric, *(cells.get((site, metric, day), "") for _, day in labels)])
    return rows


def csv_bytes(rows: list[list[str]], *, decimal: str = ".", values_from: int = 2) -> bytes:
    """The table as a 1C export writes it: a title line, a blank line, then rows split by `;`, values with `decimal`."""
    lines = [";".join(rows[0])]
    lines += [";".join([*row[:values_from], *(v.replace(".", decimal) for v in row[values_from:])]) for row in rows[1:]]
    return ("Выгрузка из 1С\n\n" + "\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(rows: list[list[str]], *, numbers_from: int = 2) -> bytes:
    """A workbook with a title, a blank row, then the table on sheet "Данные"; value cells are numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Данные")
    sheet.write_string(0, 0, "Отчёт о показателях за 2024 год")
    for r, row in enumerate(rows, start=2):
        for c, cell in enumerate(row):
            if r > 2 and c >= numbers_from and cell:
                sheet.write_number(r, c, float(cell))
            elif cell:
                sheet.write_string(r, c, cell)
    book.close()
    return buffer.getvalue()


def long_iso_csv(observations: list[Obs]) -> bytes:
    lines = ["site_code,metric_code,period,value", *(f"{s},{m},{d.isoformat()},{v}" for s, m, d, v in observations)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def expected(observations: list[Obs]) -> Current:
    return sorted((s, m, d, float(v).hex()) for s, m, d, v in observations)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse_with_registry(tmp_path_factory.mktemp("period_headers"), REGISTRY)


class Warehouse(WarehouseCopies):
    """Fresh copies of the registry warehouse, one per ingestion sequence; values read exactly (`current`)."""

    def read(self, con: duckdb.DuckDBPyConnection) -> Current:
        return current(con)


def current(con: duckdb.DuckDBPyConnection) -> Current:
    rows = con.execute("SELECT site_code, metric_code, period, value FROM observations ORDER BY ALL").fetchall()
    return [(s, m, p, float(v).hex()) for s, m, p, v in rows]


@pytest.fixture
def wh(template: Path, tmp_path: Path) -> Warehouse:
    return Warehouse(template, tmp_path)


def assert_loaded(report: IngestReport, what: str) -> None:
    assert report.status == "loaded", (what, [(e.line, e.column, e.value, e.code) for e in report.errors[:5]])


# ---- wide layout: the labels head the columns ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", list(LABELS))
def test_a_wide_file_headed_by_labels_stores_what_the_long_file_of_dates_stores(
    wh: Warehouse, kind: str, lang: str, fmt: str
) -> None:
    metric, spellings = LABELS[kind]
    labels = spellings[lang]
    observations = values_for(labels, metric, seed=len(kind) * 10 + LANGS.index(lang))
    rows = wide_table(lang, labels, observations)
    wide = (csv_bytes(rows, decimal=","), "wide.csv") if fmt == "csv" else (xlsx_bytes(rows), "wide.xlsx")
    [report], got = wh.load([wide])
    assert_loaded(report, f"{kind}/{lang}/{fmt}")
    [long_report], from_dates = wh.load([(long_iso_csv(observations), "long.csv")])
    assert_loaded(long_report, "long")
    assert got == from_dates == expected(observations)
    assert report.rows_inserted == len(observations)
    # the same file again is the same content: nothing changes
    reports, again = wh.load([wide, wide])
    assert [r.status for r in reports] == ["loaded", "unchanged"] and again == got


# ---- long layout: the labels fill the period cells ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_long_file_of_labels_stores_what_the_long_file_of_dates_stores(wh: Warehouse, lang: str, fmt: str) -> None:
    observations: list[Obs] = []
    written: list[list[str]] = [[*FIELDS[lang], {"ru": "Дата", "kk": "Күні", "en": "period"}[lang],
                                 {"ru": "Значение", "kk": "Мәні", "en": "value"}[lang]]]  # fmt: skip
    for kind, (metric, spellings) in LABELS.items():
        mine = values_for(spellings[lang], metric, seed=len(kind))
        label_of = {day: label for label, day in spellings[lang]}
        observations += mine
        written += [[s, m, label_of[d], v] for s, m, d, v in mine]
    # plain dates beside the labels, as a mixed export has them
    days = [("KMG-ANPZ", "energy_gj", date(2024, 3, d), f"{d}.25") for d in (1, 2, 3)]
    observations += days
    written += [[s, m, d.strftime("%d.%m.%Y"), v] for s, m, d, v in days]
    data = (csv_bytes(written), "long.csv") if fmt == "csv" else (xlsx_bytes(written, numbers_from=3), "long.xlsx")
    [report], got = wh.load([data])
    assert_loaded(report, f"{lang}/{fmt}")
    [_], from_dates = wh.load([(long_iso_csv(observations), "iso.csv")])
    assert got == from_dates == expected(observations)


def test_every_iso_week_and_quarter_label_reads_as_its_monday_or_first_day(wh: Warehouse) -> None:
    # ISO 8601 checked by its definition, not by the code's own arithmetic: the day is a Monday whose ISO calendar
    # names that very year and week; week 53 exists exactly in the years whose 28 December falls in week 53.
    from pilot_roi.ingest.parse import parse_dates

    labels, wanted = [], []
    for year in range(1995, 2036):
        weeks = date(year, 12, 28).isocalendar()[1]
        for week in range(1, weeks + 1):
            labels += [f"{year}-W{week:02d}", f"W{week} {year}", f"{week} нед. {year}", f"{year} ж. {week} апта"]
            wanted += [(year, week)] * 4
        for quarter in range(1, 5):
            labels += [f"{year}-Q{quarter}", f"{quarter} кв. {year}", f"Q{quarter} {year}"]
            wanted += [(year, -quarter)] * 3
    days, codes, spans = parse_dates(pl.Series(labels))
    assert codes.null_count() == len(labels) and spans is not None
    for label, day, (year, number), span in zip(labels, days.to_list(), wanted, spans.to_list(), strict=True):
        if number > 0:
            assert (day.weekday(), *day.isocalendar()[:2], span) == (0, year, number, "week"), label
        else:
            assert (day, span) == (date(year, 1 - 3 * (number + 1), 1), "quarter"), label
    for year in (2021, 2022, 2023, 2025):  # 52-week years
        assert date(year, 12, 28).isocalendar()[1] == 52


# ---- refusals: a label for a metric of another frequency -----------------------------------------------------------

GOOD_DAY = {
    "energy_gj": "2024-02-15",
    "power_kwh": "2024-02-12",
    "output_t": "2024-05-01",
    "uptime_pct": "2024-07-01",
    "emissions_t": "2023-01-01",
}
REFUSED = [
    # (metric, label, message key): the first day of each label fits the metric's grid where a comment says so, which
    # would have stored a quarter's (week's, month's) total silently as a day's, week's, month's or year's value
    ("energy_gj", "2024-Q1", "ingest.period_quarter_for_daily"),
    ("power_kwh", "1 кв. 2024", "ingest.period_quarter_for_weekly"),  # 1 January 2024 is a Monday
    ("output_t", "2024 ж. 2 тоқсан", "ingest.period_quarter_for_monthly"),  # 1 April
    ("emissions_t", "Q1 2024", "ingest.period_quarter_for_yearly"),  # 1 January
    ("energy_gj", "2024-W05", "ingest.period_week_for_daily"),
    ("output_t", "2024-W01", "ingest.period_week_for_monthly"),  # Monday 1 January 2024
    ("uptime_pct", "W14 2024", "ingest.period_week_for_quarterly"),  # Monday 1 April 2024
    ("emissions_t", "2024 нед. 1", "ingest.period_week_for_yearly"),  # Monday 1 January 2024
    ("energy_gj", "янв. 2024", "ingest.period_month_for_daily"),
    ("energy_gj", "қаң. 2024", "ingest.period_month_for_daily"),
    ("power_kwh", "Jan 2024", "ingest.period_month_for_weekly"),  # Monday 1 January 2024
    # the shape of a label, but no such period: said in words, not "not a date"
    ("power_kwh", "2021-W53", "ingest.period_label_invalid"),  # 2021 has 52 ISO weeks
    ("uptime_pct", "5 кв. 2024", "ingest.period_label_invalid"),
]


def refused_file(layout: str, lang: str, metric: str, label: str) -> tuple[bytes, str, str]:
    """(file, name, the column header the error names): one good cell and the wrongly labelled one."""
    if layout == "long_csv":
        text = "site_code;metric_code;period;value\n"
        text += f"KMG-ANPZ;{metric};{GOOD_DAY[metric]};10\nKMG-ANPZ;{metric};{label};11\n"
        return text.encode("utf-8"), "long.csv", "period"
    rows = [[*FIELDS[lang], GOOD_DAY[metric], label], ["KMG-ANPZ", metric, "10", "11"]]
    if layout == "wide_csv":
        return csv_bytes(rows), "wide.csv", label
    return xlsx_bytes(rows), "wide.xlsx", label


@pytest.mark.parametrize("layout", ["wide_csv", "wide_xlsx", "long_csv"])
@pytest.mark.parametrize(("metric", "label", "key"), REFUSED)
def test_a_label_for_another_frequency_is_refused_in_words_and_nothing_changes(
    template: Path, tmp_path: Path, layout: str, metric: str, label: str, key: str
) -> None:
    path = tmp_path / "wh.duckdb"
    shutil.copy(template, path)
    con = connect(path)
    try:
        base = ingest_file(con, long_iso_csv(values_for(LABELS["quarter"][1]["en"], "uptime_pct", 1)),
                           file_name="base.csv", uploaded_by="eng")  # fmt: skip
        assert base.status == "loaded"
        tables = ("observation_current", "observation_superseded")
        before = {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables}
        messages = {}
        for lang in LANGS:
            data, name, column = refused_file(layout, lang, metric, label)
            report = ingest_file(con, data, file_name=name, uploaded_by="eng", lang=lang)
            assert (report.status, report.rows_inserted, report.rows_rejected) == ("rejected", 0, 1), report.errors
            [error] = report.errors
            assert (error.code, error.column, error.value) == (key, column, label)
            assert error.message == t(key, lang, value=label, detail="", column=column)
            assert label in error.message and key not in error.message and "{" not in error.message
            messages[lang] = error.message
        assert len(set(messages.values())) == 3, messages
        after = {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables}
        assert after == before
    finally:
        con.close()


def test_every_refusal_of_a_label_has_its_words_in_three_languages() -> None:
    from pilot_roi.ingest.validate import _SPAN_REFUSED_FOR

    keys = [f"ingest.period_{span}_for_{f}" for span, frequencies in _SPAN_REFUSED_FOR.items() for f in frequencies]
    assert {key for _, _, key in REFUSED} - {"ingest.period_label_invalid"} <= set(keys)
    for key in [*keys, "ingest.period_label_invalid", "ingest.header_not_understood"]:
        texts = {lang: t(key, lang, value="2024-Q1", detail="3") for lang in LANGS}
        assert len(set(texts.values())) == 3 and all("2024-Q1" in x and "{" not in x for x in texts.values()), key


@pytest.mark.parametrize(
    ("label", "stored"),
    [("Apr 2024", date(2024, 4, 1)), ("2024 ж. шілде", date(2024, 7, 1)), ("Октябрь 2024 г.", date(2024, 10, 1))],
)
def test_a_month_name_labels_its_quarter_as_2024_04_does(wh: Warehouse, label: str, stored: date) -> None:
    # a month label stays the label of the quarter it begins (tests/runner/test_frequencies_e2e.py: "2024-07")
    [report], got = wh.load([(f"site_code;metric_code;{label}\nKMG-ANPZ;uptime_pct;97,5\n".encode(), "q.csv")])
    assert_loaded(report, label)
    assert got == [("KMG-ANPZ", "uptime_pct", stored, (97.5).hex())]


# ---- a header row that is not understood is named --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_header_whose_period_columns_are_not_understood_names_them(wh: Warehouse, fmt: str) -> None:
    # quarters with two-digit years are not read (months are: "Mar-24", tests/ingest/test_two_digit_years.py): the user
    # is told which headers were not understood, not that the site and metric columns are missing
    unknown = ["1Q24", "Кв.2 24", "Итого"]
    messages = set()
    for lang in LANGS:
        rows = [[*FIELDS[lang], *unknown], ["KMG-ANPZ", "uptime_pct", "95", "96", "191"]]
        data = (csv_bytes(rows), "h.csv") if fmt == "csv" else (xlsx_bytes(rows), "h.xlsx")
        [report], got = wh.load([data], lang=lang)
        assert report.status == "rejected" and got == []
        [error] = report.errors
        where = "3" if fmt == "csv" else "3 (Данные)"  # below the title line and the blank line
        assert (error.code, error.value) == ("ingest.header_not_understood", "1Q24, Кв.2 24, Итого")
        assert error.message == t("ingest.header_not_understood", lang, value=error.value, detail=where)
        assert all(u in error.message for u in unknown) and where in error.message
        messages.add(error.message)
    assert len(messages) == 3


def test_a_header_without_site_or_metric_columns_still_says_which_columns_are_needed(wh: Warehouse) -> None:
    [report], _ = wh.load([(b"site_code;2024-Q1;2024-Q2\nKMG-ANPZ;1;2\n", "w.csv")])
    assert [e.code for e in report.errors] == ["ingest.no_header"]


@pytest.mark.parametrize(
    ("header", "row", "key", "others"),
    [
        # sites written as columns (a SCADA export per metric), metrics as columns (one per site), both
        (
            "metric_code;period;KMG-ANPZ;KMG-PNHZ",
            "uptime_pct;2024-01-01;95;96",
            "ingest.header_without_site",
            "KMG-ANPZ, KMG-PNHZ",
        ),
        (
            "Дата;Код объекта;uptime_pct;energy_gj",
            "01.01.2024;KMG-ANPZ;95;1200",
            "ingest.header_without_metric",
            "uptime_pct, energy_gj",
        ),
        ("Дата;Значение;Цех", "01.01.2024;95;1", "ingest.header_without_site_and_metric", "Цех"),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
def test_sites_or_metrics_written_as_columns_are_refused_saying_so(
    wh: Warehouse, header: str, row: str, key: str, others: str, lang: str
) -> None:
    [report], got = wh.load([(f"{header}\n{row}\n".encode(), "layout.csv")], lang=lang)
    assert report.status == "rejected" and got == []
    [error] = report.errors
    assert (error.code, error.value) == (key, others)  # before: ingest.no_header, naming the four columns
    assert error.message == t(key, lang, value=others, detail="1")


# ---- speed: plain dates never pay for the labels ---------------------------------------------------------------------


@pytest.mark.parametrize("style", ["%Y-%m-%d", "%d.%m.%Y"])
def test_a_file_of_plain_dates_never_looks_for_labels(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    # the label grammar runs only on cells no date pattern reads: a 10M-row file of dates skips it entirely
    import pilot_roi.ingest.parse as parse

    def refuse(_: pl.Series) -> pl.DataFrame:
        raise AssertionError("labels looked for in a file of dates")

    monkeypatch.setattr(parse, "read_labels", refuse)
    observations = values_for(LABELS["week"][1]["en"], "power_kwh", 3)
    text = "site_code;metric_code;period;value\n" + "".join(
        f"{s};{m};{d.strftime(style)};{v}\n" for s, m, d, v in observations
    )
    [report], got = wh.load([(text.encode(), "dates.csv")])
    assert_loaded(report, style)
    assert got == expected(observations)
