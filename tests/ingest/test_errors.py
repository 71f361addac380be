"""Each kind of row error, reported with the file's own line number (title and header lines counted)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import current

from pilot_roi.i18n import t
from pilot_roi.ingest import ingest_file

HEAD = "Отчёт за март\nПредприятие КМГ\nКод объекта;Код показателя;Дата;Значение;Ед. изм.\n"
GOOD = "KMG-ANPZ;energy_gj;01.03.2025;10,5;ГДж\nKMG-ANPZ;energy_gj;02.03.2025;11,5;\n"
BAD_LINE = 6  # two title lines, the header, two good rows
FUTURE = (date.today() + timedelta(days=5)).strftime("%d.%m.%Y")

CASES = [
    ("KMG-XXX;energy_gj;03.03.2025;1,5;", "ingest.site_unknown", "Код объекта", "KMG-XXX"),
    ("KMG-ANPZ;energy_xx;03.03.2025;1,5;", "ingest.metric_unknown", "Код показателя", "energy_xx"),
    ("KTZ-DEPOT1;energy_gj;03.03.2025;1,5;", "ingest.site_forbidden", "Код объекта", "KTZ-DEPOT1"),
    ("KMG-ANPZ;energy_gj;31.02.2025;1,5;", "ingest.date_invalid", "Дата", "31.02.2025"),
    ("KMG-ANPZ;energy_gj;вчера;1,5;", "ingest.date_invalid", "Дата", "вчера"),
    ("KMG-ANPZ;energy_gj;;1,5;", "ingest.empty", "Дата", ""),
    ("KMG-ANPZ;output_t;15.03.2025;1,5;", "ingest.period_not_monthly", "Дата", "15.03.2025"),
    ("KMG-ANPZ;energy_gj;" + FUTURE + ";1,5;", "ingest.period_future", "Дата", FUTURE),
    ("KMG-ANPZ;energy_gj;03.03.2025;12a;", "ingest.value_not_number", "Значение", "12a"),
    ("KMG-ANPZ;energy_gj;03.03.2025;;", "ingest.empty", "Значение", ""),
    ("KMG-ANPZ;energy_gj;03.03.2025;NaN;", "ingest.value_not_finite", "Значение", "NaN"),
    ("KMG-ANPZ;energy_gj;03.03.2025;-inf;", "ingest.value_not_finite", "Значение", "-inf"),
    ("KMG-ANPZ;energy_gj;03.03.2025;12 34,5;", "ingest.value_not_number", "Значение", "12 34,5"),
    ("KMG-ANPZ;energy_gj;03.03.2025;-5;", "ingest.value_below_min", "Значение", "-5"),
    ("KMG-ANPZ;energy_gj;03.03.2025;5;фарлонг", "ingest.unit_unknown", "Ед. изм.", "фарлонг"),
    ("KMG-ANPZ;energy_gj;03.03.2025;5;т", "ingest.unit_inconvertible", "Ед. изм.", "т"),
    (";energy_gj;03.03.2025;5;", "ingest.empty", "Код объекта", ""),
    ("KMG-ANPZ;energy_gj;03.03.2025;5;;extra", "ingest.extra_cells", None, None),
]


@pytest.mark.parametrize("fast_bytes", [0, 10**9], ids=["polars_split", "csv_module"])
@pytest.mark.parametrize(("row", "code", "column", "value"), CASES, ids=[c[1] + ":" + c[0][:14] for c in CASES])
def test_error_names_line_column_value(
    reg_con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    row: str,
    code: str,
    column: str | None,
    value: str | None,
    fast_bytes: int,
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes((HEAD + GOOD + row + "\n").encode("cp1251"))
    report = ingest_file(
        reg_con, path, uploaded_by="eng", allowed_subsidiaries=["KMG"], lang="kk", fast_bytes=fast_bytes
    )
    assert report.status == "rejected"
    assert [(e.line, e.column, e.value, e.code) for e in report.errors] == [(BAD_LINE, column, value, code)]
    assert report.errors[0].message and report.errors[0].message != code
    assert (report.rows_read, report.rows_rejected) == (3, 1)
    assert current(reg_con) == []
    stored = reg_con.execute("SELECT line, code FROM upload_errors").fetchall()
    assert stored == [(BAD_LINE, code)]


def test_every_error_is_collected_not_only_the_first(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [c[0] for c in CASES if c[1] != "ingest.extra_cells"]
    path = tmp_path / "f.csv"
    path.write_bytes((HEAD + GOOD + "\n".join(rows) + "\n").encode("cp1251"))
    report = ingest_file(reg_con, path, uploaded_by="eng", allowed_subsidiaries=["KMG"])
    assert report.status == "rejected"
    assert {e.line for e in report.errors} == set(range(BAD_LINE, BAD_LINE + len(rows)))


def test_line_numbers_survive_quoted_line_breaks_and_blank_lines(
    reg_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = (
        "site_code,metric_code,period,value,comment\n"
        'KMG-ANPZ,energy_gj,2025-03-01,1,"first\nsecond\nthird"\n'
        "\n"
        "KMG-ANPZ,energy_gj,2025-03-02,oops,\n"
    )
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    report = ingest_file(reg_con, path, uploaded_by="eng", fast_bytes=0)
    assert [(e.line, e.value) for e in report.errors] == [(6, "oops")]


def test_conflicting_duplicates_name_all_lines(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEAD + GOOD + "KMG-ANPZ;energy_gj;01.03.2025;99;\nKMG-ANPZ;energy_gj;02.03.2025;11,5;\n")
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "rejected"
    assert sorted((e.line, e.code) for e in report.errors) == [
        (4, "ingest.duplicate_conflict"),
        (6, "ingest.duplicate_conflict"),
    ]
    assert "4, 6" in report.errors[0].message
    assert any("collapsed" in n for n in report.notes)


def test_ambiguous_thousands_without_a_convention_is_an_error(
    reg_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_text("site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025-03-01;1.234\n")
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert [(e.line, e.code) for e in report.errors] == [(2, "ingest.number_ambiguous")]
    path.write_text("site_code;metric_code;period;value\nKMG-ANPZ;energy_gj;2025-03-01;1.234\n"
                    "KMG-ANPZ;energy_gj;2025-03-02;0,5\n")  # fmt: skip
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert report.status == "loaded"
    assert current(reg_con) == [
        ("KMG-ANPZ", "energy_gj", date(2025, 3, 1), 1234.0),
        ("KMG-ANPZ", "energy_gj", date(2025, 3, 2), 0.5),
    ]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "ingest.empty_file"),
        (b"   \n\n", "ingest.empty_file"),
        (b"a;b;c\n1;2;3\n", "ingest.no_header"),
        (b"\x00\x01\x02binary", "ingest.binary_text"),
        (b"\xff\xfe" + "x".encode("utf-16-le") + b"\x00\xd8", "ingest.encoding_unknown"),
        (b"PK\x03\x04broken zip", "ingest.xlsx_unreadable"),
        (b"PAR1broken", "ingest.parquet_unreadable"),
        (b"site_code;metric_code;period;value\n", "ingest.no_rows"),
    ],
)
def test_unreadable_files_are_rejected_cleanly(reg_con: duckdb.DuckDBPyConnection, data: bytes, code: str) -> None:
    report = ingest_file(reg_con, data, file_name="f.csv", uploaded_by="eng", lang="ru")
    assert report.status == "rejected"
    assert [e.code for e in report.errors] == [code]
    assert reg_con.execute("SELECT status FROM uploads").fetchall() == [("rejected",)]


def test_mixed_decimal_marks_flag_every_decimal_cell(reg_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEAD + GOOD + "KMG-ANPZ;energy_gj;03.03.2025;1.5;\nKMG-ANPZ;energy_gj;04.03.2025;7;\n")
    report = ingest_file(reg_con, path, uploaded_by="eng")
    assert [(e.line, e.code) for e in report.errors] == [(line, "ingest.number_mixed") for line in (4, 5, 6)]


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # UTC+14 and UTC−12: one of them is on another day
def test_the_future_begins_after_today_in_the_products_zone(
    reg_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    # the server's clock (UTC here) must not decide: an engineer in Astana at 01:00 loads the day that has begun there
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("PILOT_ROI_TIMEZONE", zone)
    local_today = datetime.now(ZoneInfo(zone)).date()

    def load(day: date) -> list[str]:
        text = HEAD + f"KMG-ANPZ;energy_gj;{day.strftime('%d.%m.%Y')};1,5;\n"
        report = ingest_file(reg_con, text.encode("cp1251"), file_name="d.csv", uploaded_by="eng", dry_run=True)
        return [e.code for e in report.errors]

    assert load(local_today) == []
    assert load(local_today + timedelta(days=1)) == ["ingest.period_future"]


def test_an_unreadable_table_names_its_line_in_the_message(reg_con: duckdb.DuckDBPyConnection) -> None:
    # a quoted cell longer than the csv module's field limit: the file cannot be read as a table at that line
    text = HEAD + GOOD + 'KMG-ANPZ;energy_gj;03.03.2025;"' + "9" * 200_000 + '";\n'
    for lang in ("ru", "kk", "en"):
        report = ingest_file(reg_con, text.encode("utf-8"), file_name="big.csv", uploaded_by="eng", lang=lang)
        assert report.status == "rejected" and [e.code for e in report.errors] == ["ingest.csv_unreadable"]
        assert report.errors[0].line == BAD_LINE
        assert "{line}" not in report.errors[0].message and str(BAD_LINE) in report.errors[0].message


@pytest.mark.parametrize(
    ("row", "noted"),
    [
        ("KMG-ANPZ;output_t;01.11.2026;5;", True),  # November is not over on the 28th
        ("KMG-ANPZ;output_t;01.10.2026;5;", False),
        ("KMG-ANPZ;energy_gj;28.11.2026;5;", True),  # today's day is not over either
        ("KMG-ANPZ;energy_gj;27.11.2026;5;", False),
    ],
)
def test_a_period_that_has_not_ended_loads_with_a_note(
    reg_con: duckdb.DuckDBPyConnection, row: str, noted: bool
) -> None:
    # a month-to-date total reads as a drop; it loads (restating it later is what restatements are for) and says so
    text = HEAD + row + "\n"
    for lang in ("ru", "kk", "en"):
        report = ingest_file(reg_con, text.encode("cp1251"), file_name="now.csv", uploaded_by="eng", lang=lang,
                             dry_run=True, today=date(2026, 11, 28))  # fmt: skip
        assert report.status == "loaded", report.errors
        prefix = t("ingest.note.periods_not_ended", lang, count=1, example="\x00", today="").split("\x00")[0]
        assert any(note.startswith(prefix) for note in report.notes) == noted, report.notes
