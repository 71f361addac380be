"""The values that flow through ingestion: options, one problem found in a file, and the upload report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import polars as pl

from pilot_roi.errors import InvalidInput, Problem

Status = Literal["loaded", "unchanged", "rejected"]
Mode = Literal["all_or_nothing", "skip_invalid"]
MODES: tuple[str, ...] = get_args(Mode)

#: The four fields of an observation, in the order of the long layout.
FIELDS = ("site_code", "metric_code", "period", "value")

#: Schema of the error frame that readers and validators produce (one row per problem).
ERROR_SCHEMA: dict[str, Any] = {
    "_rec": pl.Int64,  # the record (observation) the problem belongs to; null for file-level problems
    "sheet": pl.String,
    "line": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "code": pl.String,
    "detail": pl.String,
}

#: Most errors kept in a report (all are counted; upload_errors keeps up to STORED_ERRORS_MAX).
REPORT_ERRORS_MAX = 1000
STORED_ERRORS_MAX = 100_000


def check_mode(mode: str) -> Mode:
    """`mode` if it is one of MODES, else InvalidInput naming the allowed values."""
    if mode not in MODES:
        raise InvalidInput([Problem("ingest.bad_mode", params={"value": mode, "allowed": ", ".join(MODES)})])
    return mode  # type: ignore[return-value]


def empty_errors() -> pl.DataFrame:
    """An error frame with no rows."""
    return pl.DataFrame(schema=ERROR_SCHEMA)


def error_rows(
    frame: pl.DataFrame,
    *,
    sheet: str | None,
    column: pl.Expr,
    value: pl.Expr,
    code: pl.Expr | str,
    detail: pl.Expr | None = None,
) -> pl.DataFrame:
    """One error per row of `frame` (a subset of a ParsedFile frame) in the ERROR_SCHEMA layout."""
    return frame.select(
        pl.col("_rec"),
        pl.lit(sheet, pl.String).alias("sheet"),
        pl.col("_line").alias("line"),
        column.cast(pl.String).alias("column"),
        value.cast(pl.String).alias("value"),
        (pl.lit(code) if isinstance(code, str) else code).cast(pl.String).alias("code"),
        (detail if detail is not None else pl.lit(None, pl.String)).cast(pl.String).alias("detail"),
    ).cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def field_label(frame: pl.DataFrame, columns: dict[str, str], field: str) -> pl.Expr:
    """The header text of `field` for each row: per row in the wide layout (period and value), else constant."""
    per_row = {"period": "_period_col", "value": "_value_col"}.get(field)
    if per_row is not None and per_row in frame.columns:
        return pl.col(per_row)
    return pl.lit(columns.get(field, field), pl.String)


def field_text(frame: pl.DataFrame, field: str) -> pl.Expr:
    """The cell as written (the raw text when the reader kept it, else the typed value as text)."""
    raw = {"period": "_period_raw", "value": "_value_raw"}.get(field)
    if raw is not None and raw in frame.columns:
        return pl.col(raw)
    return pl.col(field).cast(pl.String)


@dataclass(frozen=True, slots=True)
class IngestError:
    """One problem in an upload: where (sheet, 1-based line of the file, column header), the cell, what is wrong.

    `code` is the message key (e.g. `ingest.site_unknown`); `message` is its text in the report's language.
    `line` counts every line of the file, title and header lines included (XLSX: the sheet's row number; Parquet:
    the column names are line 1 and row k is line k + 1, the line it would have in a CSV of the same table).
    """

    sheet: str | None
    line: int | None
    column: str | None
    value: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The PRODUCT.md form: line, column, value, message."""
        return {"line": self.line, "column": self.column, "value": self.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an upload did (or, with dry_run, would do).

    Counts are observations (one site, metric and period each): `rows_read` valid or not, after totals rows
    and blank rows are dropped; `rows_inserted` new keys, `rows_updated` restated values (the old ones move to
    the history), `rows_unchanged` identical values, `rows_rejected` observations with at least one error.
    `errors` holds at most REPORT_ERRORS_MAX problems; `errors_total` counts them all. `upload_id` is None for
    a dry run. `notes` are plain-language remarks (dropped totals rows, collapsed duplicates, sheet chosen).
    """

    status: Status
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    errors: tuple[IngestError, ...]
    upload_id: int | None
    notes: tuple[str, ...] = ()
    errors_total: int = 0
    dry_run: bool = False
    file_name: str = ""
    sha256: str = ""
    source_format: str = ""
    sheet: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Exactly the object `pilot-roi ingest --format json` prints (PRODUCT.md, "Command line")."""
        return {
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "rows_unchanged": self.rows_unchanged,
            "rows_rejected": self.rows_rejected,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A metric file read into typed observations, before registry checks.

    `frame` columns: site_code, metric_code (String), period (Date), value (Float64), _rec (Int64, unique per
    observation), _line (Int64); optionally _period_raw, _value_raw (the cells as written) and, in the wide
    layout, _period_col, _value_col (the header of each value's column); _period_span when some period is written
    as a quarter, ISO week or month-name label (what each label spans, for the validator). A null typed field means
    the reader could not parse it and `errors` says why. `sheet` names the XLSX sheet of every row.
    `columns` maps each field to the file's own header text (for messages).
    """

    frame: pl.DataFrame
    errors: pl.DataFrame
    notes: tuple[tuple[str, dict[str, Any]], ...]
    columns: dict[str, str]
    source_format: str
    sheet: str | None = None
