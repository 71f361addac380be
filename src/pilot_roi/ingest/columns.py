"""Columns of a metric file that no observation is read from: each is named to the engineer, none dropped in silence.

Exports carry more than site, metric, period, value and unit: a row-total column ("Итого", "Барлығы", "Total"), a note
("Примечание", "Note"), a name beside the code ("Объект" beside "Код объекта"), a row number ("№"), pandas' index
with no header. Such a column loads nothing, and a note names it (nothing to say for a column whose cells are all
empty: it holds nothing). A column is refused instead, and the file loads nothing, where it may hold observations that
would otherwise vanish or be the wrong ones:

- wide layout: numbers under a header that looks like a period but is not read as one (a digit or a month, quarter or
  week word: "2024-O3", "01/03/2024", "Март", "План 2024"): a mistyped period, whose values would vanish;
- wide layout: numbers under a blank header to the right of the first period column: a period header merged over two
  columns (plan and fact), of which only the first would load;
- long layout: numbers under a header that is a period ("2024-01"): the file mixes the long and the wide layout;
- a second value or period column (two spellings of one field: "Значение" and "Величина", "Дата" and "Период") that
  reads differently from the first on some row: which of the two is the observation?

Totals rows ("Итого" below the data, `parse._totals_lines`) are left out of every check. A column is read whole only
when it is not used, so a file without such columns pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from pilot_roi.ingest.headers import field_of, is_period_header, is_total_label
from pilot_roi.ingest.model import ERROR_SCHEMA
from pilot_roi.ingest.periods import MONTH_WORDS
from pilot_roi.ingest.readers import RawSheet

Note = tuple[str, dict[str, Any]]

#: The fields each layout reads observations from (a wide file's periods are its period columns).
_READ_IN: dict[str, tuple[str, ...]] = {
    "long": ("site_code", "metric_code", "period", "value", "unit"),
    "wide": ("site_code", "metric_code", "unit"),
}
#: A cell holding a number as an export writes one ("12,5", "1 234.5", "−3", "95 %"; a dotted date passes too, and
#: only matters under a header that looks like a period).
_NUMBER = r"^\s*[+\-\u2212]?(\d|[.,]\d)[\d \u00a0\u202f\u2009'’.,]*%?\s*$"
_PERIOD_WORDS = frozenset(
    {word for words in MONTH_WORDS.values() for word in words}
    | {"кв", "кварт", "квартал", "квартала", "тоқсан", "токсан", "quarter", "qtr"}
    | {"нед", "неделя", "недели", "апта", "week", "wk"}
)
_WORD = re.compile(r"[^\W\d_]+")
_TWICE = {"value": "ingest.column_value_twice", "period": "ingest.column_period_twice"}
_SHOWN = 12  # columns named in one note


def looks_like_period(header: str) -> bool:
    """Whether a header that is not read as a period could be a mistyped one: it holds a digit, or a month, quarter or
    week word ("2024-O3", "01/03/2024", "Март", "IV кв"); "Примечание", "№", "Цех" do not."""
    lowered = header.lower().replace("ё", "е")
    return any(ch.isdigit() for ch in lowered) or any(w in _PERIOD_WORDS for w in _WORD.findall(lowered))


def review_columns(
    raw: RawSheet, skip_lines: Sequence[int], *, excel_serials: bool
) -> tuple[list[Note], list[pl.DataFrame]]:
    """(notes naming the columns not loaded, file-level errors refusing the file) for the columns of `raw` that no
    observation is read from. `skip_lines` are the totals rows, left out of every check."""
    header, cells = raw.header, raw.header.cells
    layout = header.layout
    read_from = {f: header.fields[f] for f in _READ_IN[layout] if f in header.fields}
    used = set(read_from.values()) | ({p for p, _ in header.period_columns} if layout == "wide" else set())
    others = [p for p in range(len(cells)) if p not in used and f"c{p}" in raw.body.columns]
    if not others:
        return [], []
    keep = ~pl.col("_line").is_in(pl.Series(skip_lines, dtype=pl.Int64).implode()) if skip_lines else pl.lit(True)
    first_period = min((p for p, _ in header.period_columns), default=len(cells))
    header_line = raw.header_line  # (a Parquet file's column names are line 1, as in a CSV of the same table)
    named: dict[str, list[str]] = {"totals": [], "duplicate": [], "ignored": [], "blank": []}
    errors: list[pl.DataFrame] = []

    def refuse(line: int | None, column: str, value: str, code: str, detail: str) -> None:
        row = {"_rec": None, "sheet": raw.name, "line": line, "column": column, "value": value, "code": code}
        errors.append(pl.DataFrame([{**row, "detail": detail}], schema=ERROR_SCHEMA))

    for position in others:
        text = cells[position]
        cell = pl.col(f"c{position}").fill_null("")
        filled, number_line = raw.body.select(
            (keep & (cell.str.strip_chars() != "")).any().alias("filled"),
            pl.col("_line").filter(keep & cell.str.contains(_NUMBER)).first().alias("number_line"),
        ).row(0)
        if not filled:
            continue  # nothing in it: nothing lost
        field = field_of(text) if text else None
        shown = text or _letter(position + raw.first_column)
        if field is not None and field in read_from:
            conflict = _disagreement(raw, keep, field, read_from[field], position, excel_serials=excel_serials)
            if conflict is not None:
                line, value = conflict
                refuse(line, text, value, _TWICE[field], cells[read_from[field]])
            else:
                named["duplicate"].append(f"{text} → {cells[read_from[field]]}")
        elif is_total_label(text):
            named["totals"].append(text)
        elif layout == "long" and number_line is not None and is_period_header(text):
            refuse(header_line, text, text, "ingest.column_period_in_long_file", str(number_line))
        elif layout == "wide" and number_line is not None and text and looks_like_period(text):
            refuse(header_line, text, text, "ingest.column_not_a_period", str(number_line))
        elif layout == "wide" and number_line is not None and not text and position > first_period:
            refuse(header_line, shown, "", "ingest.column_without_header", str(number_line))
        else:
            named["ignored" if text else "blank"].append(shown)
    keys = {
        "totals": "ingest.note.columns_totals_ignored",
        "duplicate": "ingest.note.columns_duplicate_ignored",
        "ignored": "ingest.note.columns_ignored",
        "blank": "ingest.note.columns_blank_ignored",
    }
    notes = [(keys[kind], {"columns": _listed(names)}) for kind, names in named.items() if names]
    return notes, errors


def _disagreement(
    raw: RawSheet, keep: pl.Expr, field: str, used: int, other: int, *, excel_serials: bool
) -> tuple[int, str] | None:
    """(line, cell of the other column) of the first row where a second value or period column reads differently
    from the one observations are read from; None when they agree wherever both read (or the field is neither)."""
    if field not in ("value", "period"):
        return None  # a name beside a code, a unit spelled twice: nothing is read from it, nothing to weigh
    from pilot_roi.ingest.parse import parse_numbers, read_periods  # parse imports this module

    first, second = raw.body[f"c{used}"].fill_null(""), raw.body[f"c{other}"].fill_null("")
    if field == "value":
        numeric = raw.body[f"n{used}"] if f"n{used}" in raw.body.columns else None
        a, b = parse_numbers(first, numeric=numeric)[0], parse_numbers(second)[0]
    else:
        a = read_periods(first, excel_serials=excel_serials).dates
        b = read_periods(second, excel_serials=excel_serials).dates
    rows = raw.body.select("_line", keep.alias("_keep")).with_columns(a.alias("a"), b.alias("b"), second.alias("s"))
    differ = rows.filter(pl.col("_keep") & pl.col("a").is_not_null() & pl.col("b").is_not_null())
    differ = differ.filter(pl.col("a") != pl.col("b")).head(1)
    if differ.is_empty():
        return None
    line, text = differ.select("_line", "s").row(0)
    return int(line), str(text)


def _letter(position: int) -> str:
    """A 0-based column position as a spreadsheet shows it: 0 → A, 25 → Z, 26 → AA."""
    name, n = "", position + 1
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _listed(names: list[str]) -> str:
    return ", ".join(names[:_SHOWN]) + (", …" if len(names) > _SHOWN else "")
