"""Exports that a spreadsheet cannot turn into code (CSV/formula injection, OWASP).

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return may be run as a formula
by Excel or LibreOffice when a CSV or XLSX is opened (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Every
such text cell, and every such column name, gets a leading single quote: it shows as text and is never
evaluated. Numbers stay numbers: only text is touched, so `-4.2` as a float is unchanged while the
string "-4.2" becomes "'-4.2".

    frame = neutralise_frame(frame)          # before any CSV/XLSX writer, dashboards' downloads too
    value = neutralise_value(value)          # one cell written by hand (xlsxwriter, csv module)
    text = pandas_csv(pandas_frame)          # pandas (Dash downloads): neutralised, CR inside cells quoted
    write_csv(frame, path); write_xlsx(frame, path)
    workbook = safe_workbook(path)           # an xlsxwriter Workbook that never makes formulas or links from strings
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, TypeVar

import polars as pl

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]"
QUOTE = "'"

T = TypeVar("T")


def is_dangerous(text: str) -> bool:
    """True if a spreadsheet could read `text` as the start of a formula."""
    return text.startswith(TRIGGERS)


def neutralise_value(value: T) -> T | str:
    """`value` with a leading quote if it is text that starts with a formula trigger; anything else unchanged."""
    if isinstance(value, str) and is_dangerous(value):
        return QUOTE + value
    return value


def _safe_text(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.contains(_PATTERN)).then(pl.lit(QUOTE) + expr).otherwise(expr)


def _neutralise_expr(name: str, dtype: pl.DataType) -> pl.Expr | None:
    col = pl.col(name)
    if dtype == pl.String:
        return _safe_text(col)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return _safe_text(col.cast(pl.String))
    if isinstance(dtype, pl.List) and dtype.inner == pl.String:
        return col.list.eval(_safe_text(pl.element()))
    if isinstance(dtype, pl.Object):
        return col.map_elements(neutralise_value, return_dtype=pl.Object)
    return None


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of `frame` whose text cells and column names cannot start a formula.

    String, Categorical and Enum columns (the last two become String) and lists of strings are
    neutralised; numeric, date and boolean columns are left as they are.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        expr = _neutralise_expr(name, dtype)
        if expr is not None:
            exprs.append(expr.alias(name))
    out = frame.with_columns(exprs) if exprs else frame.clone()
    renames = {name: str(neutralise_value(name)) for name in out.columns if is_dangerous(name)}
    return out.rename(renames) if renames else out


def neutralise_pandas(frame: Any) -> Any:
    """The same for a pandas DataFrame (Dash's `dcc.send_data_frame` takes pandas): text cells and names."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str", "category"):
            out[column] = out[column].map(neutralise_value)
    out.columns = [neutralise_value(c) for c in out.columns]
    return out


def pandas_csv(frame: Any, **kwargs: Any) -> str:
    """CSV text of a pandas frame, neutralised, with CRLF line ends.

    pandas quotes only fields holding its line terminator: with the default "\n" a cell holding "\r"
    is written bare and splits the row, so the text after it starts a new, un-neutralised line.
    CRLF makes both characters force quoting. For Dash: `dcc.send_string(pandas_csv(df), "x.csv")`.
    """
    options = {"index": False, "lineterminator": "\r\n", **kwargs}
    return str(neutralise_pandas(frame).to_csv(**options))


def write_csv(frame: pl.DataFrame, target: str | Path | IO[bytes] | IO[str] | None = None, **kwargs: Any) -> str | None:
    """`frame.write_csv(...)` after neutralising it; returns the text when `target` is None."""
    return neutralise_frame(frame).write_csv(target, **kwargs)


def safe_workbook(target: str | Path | IO[bytes], **options: Any) -> Any:
    """An xlsxwriter Workbook that writes strings as strings: never as formulas or hyperlinks.

    Use it for hand-built XLSX reports; still pass text through `neutralise_value`.
    """
    import xlsxwriter

    settings = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True, **options}
    return xlsxwriter.Workbook(target if not isinstance(target, Path) else str(target), settings)


def write_xlsx(frame: pl.DataFrame, target: str | Path | IO[bytes], *, worksheet: str = "data", **kwargs: Any) -> None:
    """One sheet with `frame` neutralised, written through a `safe_workbook`."""
    with safe_workbook(target) as workbook:
        neutralise_frame(frame).write_excel(workbook, worksheet=worksheet, **kwargs)
