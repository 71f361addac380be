"""Totals columns of a wide file ("Итого", "Жиыны", "Total") checked against the periods they add up.

A totals column loads nothing (`columns` names it in a note), but it is a checksum the engineer's export gives for
free: for a metric whose registry aggregation is `sum`, each row's total should equal the sum of the period values it
covers. Where it does not, a period column was probably lost (a header not read, a column deleted) or a value mistyped,
so a note names the rows. The file is not refused for it: the total may be the one that is wrong, and each period value
is read as written either way.

Which periods a totals column covers: those since the previous totals column (a quarter's "Итого 1 кв." after its three
months), or every period left of it (a year's total after quarter subtotals); a totals column left of every period
covers those to its right in the same way. A row agrees when either reading adds up.

`mean` metrics are not checked: the "total" of a mean in an export is as often a plain mean of the periods as a mean
weighted by days, hours or output (a monthly availability over a quarter), or a sum after all, and nothing in the file
says which; any check would raise false alarms, and a false alarm teaches people to ignore the note.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pilot_roi.ingest.headers import field_of, is_total_label
from pilot_roi.ingest.readers import RawSheet

Note = tuple[str, dict[str, Any]]

#: Rows named in a note (the count gives the rest).
SHOWN_LINES = 5
#: Relative slack for numbers stored in binary: a Parquet Float32 keeps 24 bits, so each stored number is within
#: 2^-24 ≈ 6e-8 of its own size of the number written; 1e-6 of |total| + Σ|values| covers every such error with room to
#: spare (doubles, XLSX's storage, are 2^-53), and is far below what a lost period moves a total (a month in a year:
#: about 8%).
RELATIVE_SLACK = 1e-6
_PERCENT_SIGN = r"\s*%\s*$"


def totals_positions(raw: RawSheet) -> list[int]:
    """The columns of a wide sheet headed as totals (and not as a field or a period)."""
    if raw.header.layout != "wide":
        return []
    used = set(raw.header.fields.values()) | {p for p, _ in raw.header.period_columns}
    return [
        p
        for p, text in enumerate(raw.header.cells)
        if p not in used and field_of(text) is None and is_total_label(text) and f"c{p}" in raw.body.columns
    ]


def _covered(position: int, periods: list[int], totals: list[int]) -> list[tuple[int, ...]]:
    """The period positions a totals column at `position` may add up (see the module docstring), distinct, non-empty."""
    left = [p for p in periods if p < position]
    if left:  # since the previous totals column, or all of them
        since = max((t for t in totals if t < position), default=-1)
        spans = [tuple(p for p in left if p > since), tuple(left)]
    else:  # a totals column left of every period: up to the next totals column, or all of them
        right = [p for p in periods if p > position]
        until = min((t for t in totals if t > position), default=right[-1] + 1 if right else position)
        spans = [tuple(p for p in right if p < until), tuple(right)]
    return list(dict.fromkeys(span for span in spans if span))


def _half_unit(value: pl.Expr) -> pl.Expr:
    """Half a unit of the last decimal of each number as written at its shortest (12.5 → 0.05, 1200 → 0.5, 1.5e-7 →
    5e-9): the most a printed number may be off the value it was rounded from. Trailing zeros the file wrote ("12.50")
    only make the real bound smaller, so this one never accuses a total that rounding explains."""
    text = value.abs().cast(pl.String)
    mantissa = text.str.extract(r"^([^e]*)")
    exponent = text.str.extract(r"e([+-]?\d+)$").cast(pl.Int64).fill_null(0)
    decimals = mantissa.str.extract(r"\.(\d*)$").fill_null("").str.strip_chars_end("0").str.len_chars().cast(pl.Int64)
    return 0.5 * pl.lit(10.0) ** (-(decimals - exponent).clip(lower_bound=0)).cast(pl.Float64)


def totals_column_notes(
    raw: RawSheet, records: pl.DataFrame, written: pl.Series, totals_lines: list[int], sum_metrics: set[str]
) -> list[Note]:
    """A note per totals column whose total disagrees, on some row of a `sum` metric, with the periods it covers.

    `records`: the wide file's non-empty period cells, totals rows left out (columns `_line`, `_pos`, `value`: the
    number read, null where unread, `_value_numeric`); `written`: their text as parsed (percent sign taken off), row
    for row; `totals_lines`: the totals rows; `sum_metrics`: the registry's metric codes whose aggregation is `sum`,
    upper case.

    A row agrees when |total − Σ periods| ≤ Σ half units of the last printed decimal (of the total and of each period:
    exports round each printed number from exact values whose exact sum is the total) + RELATIVE_SLACK × (|total| +
    Σ|periods|). Rows whose total or one of whose covered periods cannot be read are not judged (the unread period is
    an error of its own).
    """
    from pilot_roi.ingest.parse import parse_numbers  # parse imports this module

    positions = totals_positions(raw)
    periods = sorted(p for p, _ in raw.header.period_columns)
    if not positions or not periods or not sum_metrics:
        return []
    metric = raw.header.fields["metric_code"]
    body = raw.body.filter(~pl.col("_line").is_in(pl.Series(totals_lines, dtype=pl.Int64).implode()))
    body = body.filter(pl.col(f"c{metric}").fill_null("").str.strip_chars().str.to_uppercase().is_in(sum_metrics))
    if body.is_empty():
        return []
    checked = records["_line"].is_in(body["_line"].implode())
    cells = records.filter(checked).with_columns(written.filter(checked).alias("_written"))
    notes: list[Note] = []
    for position in positions:
        # the totals parsed beside the period cells, which show the file's decimal convention ("1.234": thousands?)
        cell = body[f"c{position}"].fill_null("")
        texts = pl.concat([cells["_written"], cell.str.replace(_PERCENT_SIGN, "")])
        flag = f"n{position}"
        numeric = body[flag] if flag in body.columns else pl.Series([False] * body.height, dtype=pl.Boolean)
        values, _ = parse_numbers(texts, numeric=pl.concat([cells["_value_numeric"], numeric.fill_null(False)]))
        total = pl.DataFrame({"_line": body["_line"], "_total": values.tail(body.height)}).filter(
            pl.col("_total").is_not_null()
        )
        if total.is_empty():
            continue
        agree: pl.Series | None = None
        for span in _covered(position, periods, positions):
            sums = (
                cells.filter(pl.col("_pos").is_in(list(span)))
                .group_by("_line")
                .agg(
                    pl.col("value").sum().alias("_sum"),
                    pl.col("value").is_null().any().alias("_unread"),
                    _half_unit(pl.col("value")).sum().alias("_half"),
                    pl.col("value").abs().sum().alias("_abs"),
                )
            )
            judged = total.join(sums, on="_line", how="left", maintain_order="left").with_columns(
                pl.col("_sum").fill_null(0.0), pl.col("_half").fill_null(0.0), pl.col("_abs").fill_null(0.0)
            )
            rounding = pl.col("_half") + _half_unit(pl.col("_total"))
            tolerance = rounding + RELATIVE_SLACK * (pl.col("_total").abs() + pl.col("_abs"))
            within = (pl.col("_total") - pl.col("_sum")).abs() <= tolerance
            fits = judged.select((pl.col("_unread").fill_null(False) | within).alias("ok"))["ok"]
            agree = fits if agree is None else agree | fits
        if agree is None:
            continue
        lines = total.filter(~agree)["_line"].sort()
        if lines.is_empty():
            continue
        shown = ", ".join(map(str, lines.head(SHOWN_LINES).to_list())) + (", …" if lines.len() > SHOWN_LINES else "")
        text = raw.header.cells[position]
        notes.append(("ingest.note.totals_column_differs", {"column": text, "count": lines.len(), "lines": shown}))
    return notes
