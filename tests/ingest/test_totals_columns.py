"""A wide file's totals column ("Итого", "Жиыны", "Total") is checked against its periods for `sum` metrics.

Until 2026-11-28 a totals column was named in a note as not loaded and never looked at, though it is the one checksum
an export gives for free: a total that is not the sum of the row's periods usually means a period column was lost (a
header not read, a column deleted before the upload) or a value mistyped. Now a note names the rows where they differ
(the first five and the count); the file still loads as before, bit for bit, since the total may be the wrong one.
Rounding is no disagreement (each printed number may be half a unit of its last decimal off, Float32 storage 6e-8 of
itself), and `mean` metrics are not checked (their "total" may be a plain or a weighted mean, or a sum).
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import current, warehouse_with_registry

from pilot_roi.cli import main
from pilot_roi.i18n import t
from pilot_roi.ingest import IngestReport, ingest_file
from pilot_roi.warehouse import connect

LANGS = ("ru", "kk", "en")
SITES = [f"S{i:02d}" for i in range(1, 13)]
REGISTRY = (
    """
subsidiaries:
  - {code: KMG, name: {ru: "КазМунайГаз", kk: "ҚазМұнайГаз", en: "KazMunayGas"}, sector: oil_gas}
sites:
"""
    + "".join(f"  - {{code: {s}, subsidiary: KMG, name: {{en: {s}}}, region: Atyrau}}\n" for s in SITES)
    + """
metrics:
  - {code: output_t, name: {en: "Output"}, unit: t, frequency: monthly, aggregation: sum, higher_is_better: true,
     value_kzt_per_unit: 1000}
  - {code: uptime_pct, name: {en: "Uptime"}, unit: "%", frequency: monthly, aggregation: mean,
     higher_is_better: true, value_kzt_per_unit: 1000, min_value: 0, max_value: 100}
"""
)
MONTHS = ["2024-01", "2024-02", "2024-03"]
TOTAL = {"ru": "Итого", "kk": "Жиыны", "en": "Total"}
Table = list[list[str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse_with_registry(tmp_path_factory.mktemp("totals"), REGISTRY)


@pytest.fixture
def wh(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    path.write_bytes(template.read_bytes())
    return path


def table(rows: list[tuple[str, str, list[str], str]], total: str = "Итого", months: list[str] = MONTHS) -> Table:
    """site_code, metric_code, the months, the totals column; `rows`: (site, metric, month cells, total cell)."""
    return [["site_code", "metric_code", *months, total], *([s, m, *cells, tot] for s, m, cells, tot in rows)]


def without_totals(rows: Table) -> Table:
    return [row[:-1] for row in rows]


def csv_file(folder: Path, rows: Table, name: str = "f.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(";".join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def xlsx_file(folder: Path, rows: Table, name: str = "f.xlsx") -> Path:
    """Numbers as number cells; a total equal to its row's sum as Excel saves a SUM formula (with its result)."""
    path = folder / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Данные")
    sheet.write_row(0, 0, rows[0])
    for r, row in enumerate(rows[1:], start=1):
        sheet.write_row(r, 0, row[:2])
        numbers = [float(c.replace(",", ".")) if c else None for c in row[2:]]
        for c, number in enumerate(numbers[:-1], start=2):
            if number is not None:
                sheet.write_number(r, c, number)
        total, last = numbers[-1], len(row) - 1
        if total is not None and total == sum(n or 0.0 for n in numbers[:-1]):
            sheet.write_formula(r, last, f"=SUM(C{r + 1}:{chr(ord('A') + last - 1)}{r + 1})", None, total)
        elif total is not None:
            sheet.write_number(r, last, total)
    book.close()
    return path


def parquet_file(folder: Path, rows: Table, name: str = "f.parquet", dtype: pl.DataType = pl.Float64) -> Path:
    path = folder / name
    columns: dict[str, pl.Series] = {}
    for i, header in enumerate(rows[0]):
        cells = [row[i] for row in rows[1:]]
        if i < 2:
            columns[header] = pl.Series(cells, dtype=pl.String)
        else:
            columns[header] = pl.Series([float(c.replace(",", ".")) if c else None for c in cells], dtype=dtype)
    pl.DataFrame(columns).write_parquet(path)
    return path


WRITERS = {"csv": csv_file, "xlsx": xlsx_file, "parquet": parquet_file}


def ingest(wh: Path, path: Path, lang: str = "en") -> tuple[IngestReport, list[tuple]]:
    con = connect(wh)
    try:
        report = ingest_file(con, path, uploaded_by="eng", lang=lang)
        stored = [(s, m, p, float(v).hex()) for s, m, p, v in current(con)]
        con.execute("DELETE FROM observation_current")  # the next file of the test starts from nothing
        return report, stored
    finally:
        con.close()


def totals_notes(report: IngestReport, lang: str = "en") -> list[str]:
    prefix = t("ingest.note.totals_column_differs", lang, column="\x00", count=0, lines="").split("\x00")[0]
    return [note for note in report.notes if note.startswith(prefix)]


# ---- a lost period column: the rows named, the file loaded as before ----------------------------------------------

LOST = [  # KMG's S02 row: its total still counts April's 250 t, whose column was deleted before the upload
    ("S01", "output_t", ["1017.279209603239", "998.5", "1003.125"], "3018.904209603239"),
    ("S02", "output_t", ["500", "", "0.1"], "750.1"),
    ("S03", "output_t", ["10", "20", "30"], "60"),
]


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_a_total_that_is_not_its_periods_sum_names_the_row_and_the_file_loads(
    wh: Path, tmp_path: Path, fmt: str
) -> None:
    write = WRITERS[fmt]
    report, stored = ingest(wh, write(tmp_path, table(LOST)))
    assert report.status == "loaded", [(e.line, e.message) for e in report.errors]
    # the CSV's and the sheet's line 3; the Parquet file's second row, line 3 as in a CSV of it
    assert totals_notes(report) == [t("ingest.note.totals_column_differs", "en", column="Итого", count=1, lines="3")]
    plain, want = ingest(wh, write(tmp_path, without_totals(table(LOST)), name=f"plain.{fmt}"))
    assert plain.status == "loaded" and stored == want and len(stored) == 8  # bit for bit, the total not loaded


@pytest.mark.parametrize("lang", LANGS)
def test_the_note_is_in_the_users_language_through_the_command_line(
    wh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    path = csv_file(tmp_path, table(LOST, total=TOTAL[lang]))
    assert main(["ingest", str(path), "--warehouse", str(wh), "--lang", lang]) == 0
    out = capsys.readouterr().out
    note = t("ingest.note.totals_column_differs", lang, column=TOTAL[lang], count=1, lines="3")
    assert note in out and "{" not in note and "ingest." not in note
    assert t("ingest.note.columns_totals_ignored", lang, columns=TOTAL[lang]) in out


def test_many_rows_show_the_first_five_and_the_count(wh: Path, tmp_path: Path) -> None:
    rows = [(s, "output_t", ["100", "200", "300"], "600" if i % 3 == 0 else "700") for i, s in enumerate(SITES)]
    report, _ = ingest(wh, csv_file(tmp_path, table(rows)))
    assert report.status == "loaded"
    lines = [i + 2 for i in range(len(SITES)) if i % 3]  # 3, 4, 6, 7, 9, 10, 12, 13
    shown = ", ".join(map(str, lines[:5])) + ", …"
    assert totals_notes(report) == [
        t("ingest.note.totals_column_differs", "en", column="Итого", count=len(lines), lines=shown)
    ]


def test_a_totals_row_and_unread_cells_are_not_judged(wh: Path, tmp_path: Path) -> None:
    rows = table([("S01", "output_t", ["10", "x", "30"], "100"), ("S02", "output_t", ["1", "2", "3"], "")])
    rows.append(["Итого", "", "11", "22", "33", "999"])  # a totals row below the data: left out of every check
    report, _ = ingest(wh, csv_file(tmp_path, rows))
    assert report.status == "rejected"  # for "x", which is an error of its own
    assert totals_notes(report) == []


# ---- subtotals: a quarter's total covers its months, a year's every period before it --------------------------------

HALF_YEAR = ["2024-01", "2024-02", "2024-03", "Итого 1 кв.", "2024-04", "2024-05", "2024-06", "Итого 2 кв.", "Всего"]


def half_year(rows: list[tuple[str, list[str]]], first: str | None = None) -> Table:
    header = ["site_code", "metric_code", *([first] if first else []), *HALF_YEAR]
    return [header, *([s, "output_t", *cells] for s, cells in rows)]


def test_quarter_subtotals_and_a_year_total_agree(wh: Path, tmp_path: Path) -> None:
    rows = [("S01", ["1", "2", "3", "6", "4", "5", "6", "15", "21"]), ("S02", ["1", "", "3", "4", "", "", "", "", "4"])]
    report, stored = ingest(wh, csv_file(tmp_path, half_year(rows)))
    assert report.status == "loaded" and totals_notes(report) == [] and len(stored) == 8
    # a year total left of the periods covers those to its right
    left = [("S01", ["21", "1", "2", "3", "6", "4", "5", "6", "15", "21"])]
    report, _ = ingest(wh, csv_file(tmp_path, half_year(left, first="Итого за год"), name="left.csv"))
    assert report.status == "loaded" and totals_notes(report) == []


def test_a_wrong_subtotal_is_named_alone(wh: Path, tmp_path: Path) -> None:
    rows = [
        ("S01", ["1", "2", "3", "6", "4", "5", "6", "15", "21"]),
        ("S02", ["1", "2", "3", "6", "4", "50", "6", "15", "66"]),
    ]
    report, _ = ingest(wh, csv_file(tmp_path, half_year(rows)))
    # S02's May was mistyped 50 for 5: its second quarter no longer adds up; the year's total was taken from the months
    assert totals_notes(report) == [
        t("ingest.note.totals_column_differs", "en", column="Итого 2 кв.", count=1, lines="3")
    ]


# ---- rounding is no disagreement ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "total", "differs"),
    [
        (["1,14", "2,14", "3,14"], "6,4", False),  # 6.42 shown to one decimal
        (["10,25", "20,25", ""], "30,5", False),
        (["10,25", "20,25", ""], "30,51", False),  # within 0.005 + 0.005 + 0.005 + 1e-6 × 61
        (["10,25", "20,25", ""], "30,6", True),  # 0.1 off: beyond 0.05 + 0.005 + 0.005
        (["1 017", "998", "1 003"], "3 018", False),  # 3018 exactly
        (["1 017", "998", "1 003"], "3 020", False),  # 2 off three rounded integers and a rounded total: allowed
        (["1 017", "998", "1 003"], "3 021", True),  # 3 off: more than 4 half units
        (["1017,279209603239", "998,5", "1003,125"], "3018,904209603239", False),
    ],
)
def test_rounding_of_printed_numbers_is_tolerated_and_no_more(
    wh: Path, tmp_path: Path, cells: list[str], total: str, differs: bool
) -> None:
    report, _ = ingest(wh, csv_file(tmp_path, table([("S01", "output_t", cells, total)])))
    assert report.status == "loaded"
    assert bool(totals_notes(report)) == differs, report.notes


def test_no_false_alarm_on_rounded_exports_or_float32_storage(wh: Path, tmp_path: Path) -> None:
    rng = random.Random(20261128)
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    exact = [[rng.uniform(0, 1e5) for _ in months] for _ in SITES]
    # 1C prints each cell and the total rounded from the exact values
    printed = [
        (s, "output_t", [f"{v:.1f}".replace(".", ",") for v in row], f"{sum(row):.1f}".replace(".", ","))
        for s, row in zip(SITES, exact, strict=True)
    ]
    report, _ = ingest(wh, csv_file(tmp_path, table(printed, months=months)))
    assert report.status == "loaded" and totals_notes(report) == []
    # a Parquet Float32 file whose totals were summed in Float32
    as_float32 = np.asarray(exact, dtype=np.float32)
    totals = as_float32.sum(axis=1, dtype=np.float32)
    rows = [
        (s, "output_t", [repr(float(v)) for v in row], repr(float(tot)))
        for s, row, tot in zip(SITES, as_float32, totals, strict=True)
    ]
    path = parquet_file(tmp_path, table(rows, months=months), dtype=pl.Float32)
    report, _ = ingest(wh, path)
    assert report.status == "loaded" and totals_notes(report) == []


# ---- mean metrics are not checked -----------------------------------------------------------------------------------


def test_a_mean_metrics_total_is_not_checked(wh: Path, tmp_path: Path) -> None:
    rows = [
        ("S01", "uptime_pct", ["90", "95", "100"], "95"),  # the mean of the months
        ("S02", "uptime_pct", ["90", "95", "100"], "94,8"),  # a mean weighted by days
        ("S03", "uptime_pct", ["90", "95", "100"], "285"),  # or a sum after all
    ]
    report, stored = ingest(wh, csv_file(tmp_path, table(rows)))
    assert report.status == "loaded" and len(stored) == 9
    assert totals_notes(report) == []


def test_without_a_totals_column_nothing_is_said(wh: Path, tmp_path: Path) -> None:
    report, _ = ingest(wh, csv_file(tmp_path, without_totals(table(LOST))))
    assert report.status == "loaded" and totals_notes(report) == []
    assert not any("Итого" in note for note in report.notes)


def test_the_registry_aggregation_decides(template: Path) -> None:
    con = duckdb.connect(str(template), read_only=True)
    try:
        assert dict(con.execute("SELECT code, aggregation FROM metrics ORDER BY code").fetchall()) == {
            "output_t": "sum",
            "uptime_pct": "mean",
        }
    finally:
        con.close()
