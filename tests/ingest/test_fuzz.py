"""Fuzzing the readers: random bytes, truncated and corrupted files, random cells. Every outcome is a parsed file
or a clean InvalidInput refusal; no other exception may ever reach a user."""

from __future__ import annotations

import io
from datetime import date

import duckdb
import polars as pl
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilot_roi.errors import InvalidInput
from pilot_roi.ingest import ingest_file, read_metric_file
from pilot_roi.ingest.headers import ALIASES

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _csv() -> bytes:
    text = "Отчёт\nКод объекта;Код показателя;Дата;Значение;Ед. изм.\nKMG-ANPZ;energy_gj;01.03.2025;1 234,5;ГДж\n"
    return (text * 3).encode("cp1251")


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["site_code", "metric_code", "period", "value"])
    sheet.write_row(1, 0, ["KMG-ANPZ", "energy_gj", "2025-03-01", 1.5])
    book.close()
    return buffer.getvalue()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(
        {"site_code": ["KMG-ANPZ"], "metric_code": ["energy_gj"], "period": [date(2025, 3, 1)], "value": [1.5]}
    ).write_parquet(buffer)
    return buffer.getvalue()


SAMPLES = {"f.csv": _csv(), "f.xlsx": _xlsx(), "f.parquet": _parquet()}


def read_or_refuse(data: bytes, name: str) -> None:
    try:
        parsed = read_metric_file(data, file_name=name)
    except InvalidInput as exc:
        assert exc.problems and all(p.key.startswith("ingest.") for p in exc.problems)
        return
    assert set(parsed.frame.columns) >= {"site_code", "metric_code", "period", "value", "_line"}


@FUZZ
@given(data=st.binary(max_size=2000), name=st.sampled_from(["f.csv", "f.tsv", "f.xlsx", "f.parquet", "f"]))
def test_random_bytes(data: bytes, name: str) -> None:
    read_or_refuse(data, name)


@FUZZ
@given(name=st.sampled_from(sorted(SAMPLES)), cut=st.floats(0, 1), flips=st.lists(st.integers(0, 10**6), max_size=4))
def test_truncated_and_corrupted_files(name: str, cut: float, flips: list[int]) -> None:
    data = bytearray(SAMPLES[name][: int(len(SAMPLES[name]) * cut)])
    for position in flips:
        if data:
            data[position % len(data)] ^= 0xFF
    read_or_refuse(bytes(data), name)


_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["KMG-ANPZ", "energy_gj", "01.03.2025", "2025-02-30", "1 234,5", "1,234", "NaN", "Итого", ""]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@FUZZ
@given(
    header=st.permutations([aliases[i % len(aliases)] for i, aliases in enumerate(ALIASES.values())]),
    rows=st.lists(st.lists(_cells, min_size=0, max_size=8), max_size=8),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    titles=st.integers(0, 3),
)
def test_random_cells(header: list[str], rows: list[list[str]], delimiter: str, encoding: str, titles: int) -> None:
    lines = ["title"] * titles + [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    text = "\n".join(lines)
    data = text.encode(encoding, errors="replace")
    read_or_refuse(data, "f.csv")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cells, min_size=4, max_size=5), min_size=1, max_size=6))
def test_ingest_never_raises_on_random_rows(reg_con: duckdb.DuckDBPyConnection, rows: list[list[str]]) -> None:
    text = "site_code;metric_code;period;value;unit\n" + "\n".join(";".join(r) for r in rows) + "\n"
    report = ingest_file(reg_con, text.encode("utf-8", errors="replace"), file_name="f.csv", uploaded_by="fuzz",
                         mode="skip_invalid", dry_run=True)  # fmt: skip
    assert report.status in ("loaded", "unchanged", "rejected")
    assert report.rows_rejected <= report.rows_read or report.rows_read == 0
