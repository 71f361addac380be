"""From a RawSheet of text cells to typed observations: layout, totals rows, numbers, dates and units.

Numbers: a decimal point or a decimal comma; spaces, no-break spaces or apostrophes ("1'234.5", Swiss and
SAP style) between groups of three digits. The file's convention is read from its unambiguous text cells
("12,5" → comma, "12.5" or "0.125" → point). A cell that only a convention can decide ("1,234" or "1.234")
follows the file's convention; when the file has none, or both, such cells are errors rather than guesses
(a thousands reading and a decimal reading differ a thousandfold: refusing is the only safe answer). Numbers
stored as numbers (XLSX numeric cells, Parquet numeric columns) are taken as they are. NaN and infinities
are errors.

Percentages: a value written with a % sign ("95.5%", "95,5 %": what Excel writes to a CSV for a cell formatted as
a percentage) or an XLSX cell formatted as one (stored 0.955, shown 95.5%) is 95.5 in the unit %, the number the
engineer sees: it loads into a metric kept in %, and into any other metric it is refused as a unit that does not
convert, like a unit column's "%". A unit column that names another unit beside a percentage is refused too.

Dates: yyyy-mm-dd and yyyy/mm/dd (with an optional zero time), dd.mm.yyyy (and dd.mm.yy, with an optional zero time),
yyyy-mm and mm.yyyy (the first of the month), yyyy (1 January), and Excel serial day numbers in XLSX files; quarters,
ISO weeks and months by name in ru, kk and en (2024-Q1, 1 кв. 2024, 2024 ж. 1 тоқсан, 2024-W05, 5 нед. 2024,
янв. 2024, Jan 2024, қаң. 2024, мар.24, Mar-24: see `periods`) as the first day of the quarter, the week's Monday, the
1st. A two-digit year is 20yy (`01.03.24`, `1.3.24` as 1C and Excel write them: 1 March 2024), never a guess at the
century: `01.03.85` is 2085, refused as in the future; a note names how such dates were read. Dots mean day first, as
in ru and kk. With slashes only the four-digit year first is read (`2024/03/01`, `2024/3/1`: year, month, day, as no
locale writes the day before the month after a leading year); the day or the month first is never read (`01/03/24`
is 1 March in Astana and 3 January in an American Excel) and is refused with a message that says why.

Wide layout: an empty cell under a period column means "no observation", not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from pilot_roi.ingest.columns import review_columns
from pilot_roi.ingest.headers import is_total_label
from pilot_roi.ingest.model import ParsedFile, empty_errors, error_rows, field_label, field_text
from pilot_roi.ingest.periods import read_labels
from pilot_roi.ingest.readers import RawSheet
from pilot_roi.ingest.totals import totals_column_notes, totals_positions
from pilot_roi.ingest.units import canonical_unit, conversion_factor
from pilot_roi.ingest.validate import RegistryView

_SPACES = r"[ \u00a0\u202f\u2009'\u2019]"  # group separators: never a decimal mark
_INT = r"^[+-]?\d+$"
_GROUPED_SPACE = rf"^[+-]?\d{{1,3}}({_SPACES}\d{{3}})+([.,]\d+)?$"
_DOT = r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$"
_COMMA = r"^[+-]?(\d+,\d*|,\d+)$"
# "0.500" is not ambiguous: no thousands grouping starts with a 0 group.
_ONE_GROUP_DOT = r"^[+-]?[1-9]\d{0,2}\.\d{3}$"
_ONE_GROUP_COMMA = r"^[+-]?[1-9]\d{0,2},\d{3}$"
_GROUPS_DOT = r"^[+-]?\d{1,3}(\.\d{3}){2,}$"
_GROUPS_COMMA = r"^[+-]?\d{1,3}(,\d{3}){2,}$"
_EN_FULL = r"^[+-]?\d{1,3}(,\d{3})+\.\d+$"
_RU_FULL = r"^[+-]?\d{1,3}(\.\d{3})+,\d+$"
_NON_FINITE = r"(?i)^[+-]?(nan|inf|infinity|#num!|#div/0!)$"

_EXCEL_EPOCH = date(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def parse_numbers(raw: pl.Series, *, numeric: pl.Series | None = None) -> tuple[pl.Series, pl.Series]:
    """(Float64 values, error codes) for text cells; a null value has a code saying why.

    `numeric` (XLSX, Parquet): true where the cell is a stored number, not text. Such a cell is taken as the
    number it is ("1.234" from a Float64 column is never thousands); only the text cells decide the convention.
    """
    raw = raw.fill_null("")
    fast = raw.cast(pl.Float64, strict=False)
    good = fast.is_not_null() & fast.is_finite()
    no_numbers = pl.Series("numeric", dtype=pl.Boolean).extend_constant(False, raw.len())
    is_number = numeric.fill_null(False) if numeric is not None else no_numbers
    if bool(good.all()):
        # Every cell is a plain number with a decimal point (or none). Only "1.234"-like text could mean
        # thousands; it is a decimal when any other text cell shows the point is decimal ("12.5", "1234.5").
        # The first rows usually show it, which spares two passes over a big file.
        no_codes = pl.Series("code", dtype=pl.String).extend_constant(None, raw.len())
        text = raw.filter(~is_number) if bool(is_number.any()) else raw
        head = text.head(10_000)
        if bool((head.str.contains(".", literal=True) & ~head.str.contains(_ONE_GROUP_DOT)).any()):
            return fast, no_codes
        ambiguous_cells = text.str.contains(_ONE_GROUP_DOT)
        if not bool(ambiguous_cells.any()) or bool((text.str.contains(".", literal=True) & ~ambiguous_cells).any()):
            return fast, no_codes
    fast_frame = pl.DataFrame({"raw": raw, "fast": fast, "good": good, "numeric": is_number})
    evidence_rows = ~pl.col("numeric")

    s = pl.col("raw").str.strip_chars().str.replace_all("\u2212", "-", literal=True)
    compact = s.str.replace_all(_SPACES, "")
    spaced_ok = ~s.str.contains(_SPACES) | s.str.contains(_GROUPED_SPACE)
    frame = fast_frame.with_columns(s.alias("s"), compact.alias("c"), spaced_ok.alias("spaced_ok")).with_columns(
        pl.col("c").str.contains(_ONE_GROUP_DOT).alias("amb_dot"),
        pl.col("c").str.contains(_ONE_GROUP_COMMA).alias("amb_comma"),
        pl.col("c").str.contains(_COMMA).alias("comma"),
        pl.col("c").str.contains(_DOT).alias("dot"),
        pl.col("c").str.contains(_EN_FULL).alias("en_full"),
        pl.col("c").str.contains(_RU_FULL).alias("ru_full"),
        pl.col("c").str.contains(_GROUPS_DOT).alias("groups_dot"),
        pl.col("c").str.contains(_GROUPS_COMMA).alias("groups_comma"),
    )
    has_dot = pl.col("c").str.contains(".", literal=True)
    dot_evidence = bool(
        frame.select(
            (evidence_rows & ((pl.col("dot") & has_dot & ~pl.col("amb_dot")) | pl.col("en_full"))).any()
        ).item()
    )
    comma_evidence = bool(
        frame.select((evidence_rows & ((pl.col("comma") & ~pl.col("amb_comma")) | pl.col("ru_full"))).any()).item()
    )
    convention = {(True, False): "dot", (False, True): "comma", (False, False): "none", (True, True): "mixed"}[
        (dot_evidence, comma_evidence)
    ]
    c = pl.col("c")
    as_dot = c.cast(pl.Float64, strict=False)
    drop_commas = c.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
    drop_dots = c.str.replace_all(".", "", literal=True).cast(pl.Float64, strict=False)
    comma_to_dot = (
        c.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    )

    is_int = c.str.contains(_INT)
    ambiguous = pl.col("amb_dot") | pl.col("amb_comma")
    value = (
        pl.when(pl.col("numeric") & pl.col("good"))
        .then(pl.col("fast"))
        .when(~pl.col("spaced_ok"))
        .then(None)
        .when(is_int)
        .then(as_dot)
        .when(ambiguous & pl.lit(convention == "dot"))
        .then(pl.when(pl.col("amb_dot")).then(as_dot).otherwise(drop_commas))
        .when(ambiguous & pl.lit(convention == "comma"))
        .then(pl.when(pl.col("amb_comma")).then(comma_to_dot).otherwise(drop_dots))
        .when(ambiguous)
        .then(None)
        .when(pl.col("en_full"))
        .then(drop_commas)
        .when(pl.col("ru_full"))
        .then(comma_to_dot)
        .when(pl.col("groups_comma") & pl.lit(convention != "comma"))
        .then(drop_commas)
        .when(pl.col("groups_dot") & pl.lit(convention != "dot"))
        .then(drop_dots)
        .when(pl.col("dot") & pl.lit(convention != "mixed"))
        .then(as_dot)
        .when(pl.col("comma") & pl.lit(convention != "mixed"))
        .then(comma_to_dot)
        .otherwise(None)
    )
    code = (
        pl.when(pl.col("s") == "")
        .then(pl.lit("ingest.empty"))
        .when(pl.col("s").str.contains(_NON_FINITE))
        .then(pl.lit("ingest.value_not_finite"))
        .when(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .then(None)
        .when(ambiguous & pl.lit(convention == "mixed"))
        .then(pl.lit("ingest.number_mixed"))
        .when(ambiguous)
        .then(pl.lit("ingest.number_ambiguous"))
        .when((pl.col("dot") | pl.col("comma")) & pl.lit(convention == "mixed"))
        .then(pl.lit("ingest.number_mixed"))
        .otherwise(pl.lit("ingest.value_not_number"))
    )
    result = frame.with_columns(value.alias("value")).with_columns(code.alias("code"))
    values = result.select(pl.when(pl.col("code").is_null()).then(pl.col("value")).alias("v"))["v"]
    return values, result["code"]


@dataclass(frozen=True, slots=True)
class ReadPeriods:
    """Period cells read: `dates` (Date, null where unread), `codes` (String error codes, null where read), `spans`
    (String: what a quarter, ISO week or month-name label spans, "quarter", "week" or "month", null for every other
    cell; None when no cell is such a label) and `short_year` (Boolean: the date was read from a two-digit year,
    `01.03.24` or `мар.24`; None when no cell was)."""

    dates: pl.Series
    codes: pl.Series
    spans: pl.Series | None
    short_year: pl.Series | None


def parse_dates(raw: pl.Series, *, excel_serials: bool = False) -> tuple[pl.Series, pl.Series, pl.Series | None]:
    """(Date values, error codes, spans) for text cells: `read_periods` without the two-digit-year marks."""
    read = read_periods(raw, excel_serials=excel_serials)
    return read.dates, read.codes, read.spans


def read_periods(raw: pl.Series, *, excel_serials: bool = False) -> ReadPeriods:
    """Dates, error codes, label spans and two-digit-year marks for text cells (see `ReadPeriods`).

    A file of ISO dates costs one strict parse; the other patterns, and the labels (`periods.read_label`), only run
    when some cell is not an ISO date, and labels only among the cells no date pattern reads.
    """
    raw = raw.fill_null("")
    fast = raw.str.to_date("%Y-%m-%d", strict=False, exact=True)
    frame = pl.DataFrame({"raw": raw, "d": fast})
    if fast.null_count() == 0:
        return ReadPeriods(*_date_range_check(frame), None, None)
    s = pl.col("raw").str.strip_chars()
    zero_time = r"( 0?0:00(:00(\.0+)?)?|T00:00(:00)?)?$"
    short_dotted = s.str.contains(r"^\d{1,2}\.\d{1,2}\.\d{2}" + zero_time)
    frame = frame.with_columns(short_dotted.alias("_yy"))
    candidates = [
        pl.when(s.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}" + zero_time)).then(
            s.str.slice(0, 10).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        ),
        # the year first, with slashes (2024/03/01, 2024/3/1: Excel's short date in East Asian locales, SAP's
        # yyyy/mm/dd): no reading puts the day before the month here, unlike 01/03/2024 (refused, `_SLASHED`)
        pl.when(s.str.contains(r"^\d{4}/\d{1,2}/\d{1,2}" + zero_time)).then(
            s.str.extract(r"^(\d{4}/\d{1,2}/\d{1,2})").str.to_date("%Y/%m/%d", strict=False)
        ),
        pl.when(s.str.contains(r"^\d{1,2}\.\d{1,2}\.\d{4}" + zero_time)).then(
            s.str.extract(r"^(\d{1,2}\.\d{1,2}\.\d{4})").str.to_date("%d.%m.%Y", strict=False)
        ),
        # 20yy, not strftime's %y (which reads 70..99 as 19yy: a silent guess at the century)
        pl.when(pl.col("_yy")).then(
            s.str.replace(r"^(\d{1,2}\.\d{1,2}\.)(\d{2}).*$", "${1}20${2}").str.to_date("%d.%m.%Y", strict=False)
        ),
        pl.when(s.str.contains(r"^\d{4}-\d{1,2}$")).then((s + "-01").str.to_date("%Y-%m-%d", strict=False)),
        pl.when(s.str.contains(r"^\d{1,2}\.\d{4}$")).then(("01." + s).str.to_date("%d.%m.%Y", strict=False)),
        pl.when(s.str.contains(r"^\d{4}$")).then((s + "-01-01").str.to_date("%Y-%m-%d", strict=False)),
    ]
    if excel_serials:
        serial = s.cast(pl.Float64, strict=False)
        whole = serial.is_not_null() & (serial == serial.floor()) & (serial >= 1) & (serial < 200_000)
        candidates.append(
            pl.when(whole & s.str.contains(r"^\d+(\.0+)?$")).then(
                pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial.cast(pl.Int64, strict=False))
            )
        )
    frame = frame.with_columns(pl.coalesce(pl.col("d"), *candidates).alias("d"))
    frame = frame.with_columns((pl.col("_yy") & pl.col("d").is_not_null()).alias("_yy"))
    unread = frame.filter(pl.col("d").is_null())["raw"]
    labels = read_labels(unread) if not unread.is_empty() else None
    if labels is None or labels.is_empty():
        return ReadPeriods(*_date_range_check(frame), None, _marks(frame["_yy"]))
    frame = frame.join(labels, left_on="raw", right_on="text", how="left", maintain_order="left")
    frame = frame.with_columns(
        pl.coalesce("d", "first_day").alias("d"), (pl.col("_yy") | pl.col("short_year").fill_null(False)).alias("_yy")
    )
    dates, codes = _date_range_check(frame)
    # a label of the right shape that names no real period ("2021-W53", "5 кв. 2024") says so, not "not a date"
    no_such = frame["span"].is_not_null() & frame["first_day"].is_null()
    codes = pl.select(pl.when(no_such).then(pl.lit("ingest.period_label_invalid")).otherwise(codes)).to_series()
    return ReadPeriods(dates, codes.alias("code"), frame["span"], _marks(frame["_yy"] & dates.is_not_null()))


def _marks(flags: pl.Series) -> pl.Series | None:
    """`flags` as the short_year column, or None when no cell is marked."""
    return flags.alias("_short_year") if bool(flags.any()) else None


_SLASHED = r"^\s*\d{1,2}/\d{1,2}/(\d{4}|\d{2})(\s.*)?$"  # 01/03/24, 3/1/2024 (a time may follow)


def _date_range_check(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    dates = frame["d"]
    if dates.null_count() == 0 and dates.len():
        low, high = dates.min(), dates.max()
        if isinstance(low, date) and isinstance(high, date) and _MIN_YEAR <= low.year <= high.year <= _MAX_YEAR:
            return dates, pl.Series("code", dtype=pl.String).extend_constant(None, dates.len())
    year = pl.col("d").dt.year()
    ok = pl.col("d").is_not_null() & (year >= _MIN_YEAR) & (year <= _MAX_YEAR)
    out = frame.select(
        pl.when(ok).then(pl.col("d")).alias("d"),
        pl.when(ok)
        .then(None)
        .when(pl.col("raw").str.strip_chars() == "")
        .then(pl.lit("ingest.empty"))
        .when(pl.col("raw").str.contains(_SLASHED))
        .then(pl.lit("ingest.date_slashes"))
        .otherwise(pl.lit("ingest.date_invalid"))
        .alias("code"),
    )
    return out["d"], out["code"]


def _cell(raw: RawSheet, field: str) -> pl.Expr:
    position = raw.header.fields.get(field)
    if position is None:
        return pl.lit("", pl.String)
    return pl.col(f"c{position}").fill_null("")


def _is_number(raw: RawSheet, position: int | None) -> pl.Expr:
    """Whether the cell at `position` is a stored number (readers of typed formats say so in n<position>)."""
    name = f"n{position}"
    return pl.col(name) if position is not None and name in raw.body.columns else pl.lit(False)


def _is_percent(raw: RawSheet, position: int | None) -> pl.Expr:
    """Whether the cell at `position` is formatted as a percentage (XLSX readers say so in p<position>)."""
    name = f"p{position}"
    return pl.col(name).fill_null(False) if position is not None and name in raw.body.columns else pl.lit(False)


def _long_records(raw: RawSheet) -> pl.DataFrame:
    columns = [
        _cell(raw, "site_code").alias("site_code"),
        _cell(raw, "metric_code").alias("metric_code"),
        _cell(raw, "period").alias("_period_raw"),
        _cell(raw, "value").alias("_value_raw"),
        _is_number(raw, raw.header.fields.get("value")).alias("_value_numeric"),
        _is_percent(raw, raw.header.fields.get("value")).alias("_value_percent_cell"),
        pl.col("_line"),
    ]
    if "unit" in raw.header.fields:
        columns.append(_cell(raw, "unit").str.strip_chars().alias("_unit_raw"))
    return raw.body.select(columns)


def _wide_records(raw: RawSheet) -> pl.DataFrame:
    parts = []
    for position, label in raw.header.period_columns:
        parts.append(
            raw.body.select(
                _cell(raw, "site_code").alias("site_code"),
                _cell(raw, "metric_code").alias("metric_code"),
                pl.lit(label).alias("_period_raw"),
                pl.col(f"c{position}").fill_null("").alias("_value_raw"),
                _is_number(raw, position).alias("_value_numeric"),
                _is_percent(raw, position).alias("_value_percent_cell"),
                pl.col("_line"),
                _cell(raw, "unit").str.strip_chars().alias("_unit_raw"),
                pl.lit(label).alias("_period_col"),
                pl.lit(label).alias("_value_col"),
                pl.lit(position).alias("_pos"),
            )
        )
    wide = pl.concat(parts).filter(pl.col("_value_raw").str.strip_chars() != "")
    if "unit" not in raw.header.fields:
        wide = wide.drop("_unit_raw")
    return wide.sort("_line", "_pos")  # `_pos`, the column of each period, for the totals check (`totals`)


_TOTAL_PATTERN = r"(?i)^\s*(итог|всег|барлы|жиын|total|grand|subtotal)"


def _totals_lines(raw: RawSheet, records: pl.DataFrame, periods: pl.Series) -> list[int]:
    """Lines of rows whose first non-empty cell, or whose site or metric cell, reads "Итого", "Барлығы", "Total" ...
    and that are not a full observation (an empty site or metric, or no date): only those rows are examined, so
    10M data rows cost two comparisons each. (The label sits in the site column even when the export puts the
    value column first.)"""
    if raw.header.layout == "wide":
        s_cell, m_cell = _cell(raw, "site_code"), _cell(raw, "metric_code")
        suspect = (s_cell.str.strip_chars() == "") | (m_cell.str.strip_chars() == "")
        suspect = suspect | s_cell.str.contains(_TOTAL_PATTERN) | m_cell.str.contains(_TOTAL_PATTERN)
        lines = raw.body.filter(suspect)["_line"]
    else:
        suspect = (pl.col("site_code") == "") | (pl.col("metric_code") == "") | pl.col("_no_date")
        lines = records.with_columns(periods.is_null().alias("_no_date")).filter(suspect)["_line"]
    if lines.is_empty():
        return []
    rows = raw.body.filter(pl.col("_line").is_in(lines.implode()))
    width = len([c for c in rows.columns if c.startswith("c")])
    first = pl.coalesce([pl.when(pl.col(f"c{i}").str.strip_chars() != "").then(pl.col(f"c{i}")) for i in range(width)])
    labels = rows.select(
        "_line", first.alias("f"), _cell(raw, "site_code").alias("s"), _cell(raw, "metric_code").alias("m")
    )
    return [line for line, *cells in labels.iter_rows() if any(is_total_label(cell) for cell in cells)]


def parse_sheet(raw: RawSheet, registry: RegistryView | None = None) -> ParsedFile:
    """Typed observations and the reader's errors for one RawSheet.

    With a registry, values in a unit column are converted to each metric's registry unit (an unknown or
    inconvertible unit is an error); without one, every unit except the empty cell is an error.
    """
    notes: list[tuple[str, dict[str, Any]]] = list(raw.notes)
    labels = dict(raw.header.labels)
    records = _wide_records(raw) if raw.header.layout == "wide" else _long_records(raw)
    xlsx = raw.source_format == "xlsx"
    read = read_periods(records["_period_raw"], excel_serials=xlsx)
    periods, period_codes = read.dates, read.codes
    if read.spans is not None:  # what each quarter, week or month-name label spans, for the validator's frequency rules
        records = records.with_columns(read.spans.alias("_period_span"))
    if read.short_year is not None:  # read from a two-digit year: a note, and the validator's words for the future
        records = records.with_columns(read.short_year.alias("_short_year"))
    totals = _totals_lines(raw, records, periods.alias("period"))
    if totals:
        notes.append(("ingest.note.totals_dropped", {"lines": ", ".join(map(str, totals[:20]))}))
        keep = ~records["_line"].is_in(pl.Series(totals, dtype=pl.Int64).implode())
        records, periods, period_codes = records.filter(keep), periods.filter(keep), period_codes.filter(keep)
    column_notes, column_errors = review_columns(raw, totals, excel_serials=xlsx)
    notes.extend(column_notes)
    if "_short_year" in records.columns:
        notes.extend(_short_year_note(records, periods))
    written = records["_value_raw"]
    percent_text = written.str.contains("%", literal=True)  # a byte search; the pattern only where one is found
    if percent_text.any():
        percent_text = written.str.contains(_PERCENT_SIGN)
        written = written.str.replace(_PERCENT_SIGN, "")
    values, value_codes = parse_numbers(written, numeric=records["_value_numeric"])
    if registry is not None and totals_positions(raw):  # a wide file's totals column, checked against its periods
        summed = records.with_columns(values.alias("value"))
        notes.extend(totals_column_notes(raw, summed, written, totals, registry.sum_metrics()))
    records = records.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_rec"),
        periods.alias("period"),
        values.alias("value"),
        (percent_text | (records["_value_percent_cell"] & records["_value_numeric"])).alias("_percent"),
    )
    if bool(records["_percent"].any()):
        records, percent_note = _as_shown_in_percent(records)
        notes.append(percent_note)
    errors: list[pl.DataFrame] = list(column_errors)
    sheet = raw.name
    for field in ("site_code", "metric_code"):
        short = records.select((pl.col(field).str.len_bytes() < 4).alias("s"))["s"]  # only short cells can be blank
        if not bool(short.any()):
            continue
        empty = short & records.select((pl.col(field).str.strip_chars() == "").alias("e"))["e"]
        if bool(empty.any()):
            errors.append(
                error_rows(
                    records.filter(empty),
                    sheet=sheet,
                    column=pl.lit(labels.get(field, field)),
                    value=pl.col(field),
                    code="ingest.empty",
                )
            )
            records = records.with_columns(pl.when(~empty).then(pl.col(field)).alias(field))
    for field, codes in (("period", period_codes), ("value", value_codes)):
        bad = codes.is_not_null()
        if bool(bad.any()):
            subset = records.filter(bad).with_columns(codes.filter(bad).alias("_code"))
            errors.append(
                error_rows(
                    subset,
                    sheet=sheet,
                    column=field_label(subset, labels, field),
                    value=field_text(subset, field),
                    code=pl.col("_code"),
                )
            )
    for line in raw.extra_cells_lines:
        hit = records.filter(pl.col("_line") == line).head(1)
        if hit.is_empty():
            continue
        errors.append(
            error_rows(
                hit,
                sheet=sheet,
                column=pl.lit(None, pl.String),
                value=pl.lit(None, pl.String),
                code="ingest.extra_cells",
            )
        )
    if bool(records["_percent"].any()):
        records, conflicts = _percent_unit(records, labels, sheet)
        errors.append(conflicts)
    if "_unit_raw" in records.columns:
        column = pl.lit(labels["unit"]) if "unit" in labels else field_label(records, labels, "value")
        records, unit_errors, unit_notes = _convert_units(records, registry, column, sheet)
        errors.append(unit_errors)
        notes.extend(unit_notes)
    keep_cols = ["site_code", "metric_code", "period", "value", "_rec", "_line", "_period_raw", "_value_raw"]
    keep_cols += [c for c in ("_period_col", "_value_col", "_period_span", "_short_year") if c in records.columns]
    found = pl.concat(errors) if errors else empty_errors()
    return ParsedFile(
        frame=records.select(keep_cols),
        errors=found,
        notes=tuple(notes),
        columns=labels,
        source_format=raw.source_format,
        sheet=sheet,
    )


def _short_year_note(records: pl.DataFrame, periods: pl.Series) -> list[tuple[str, dict[str, Any]]]:
    """How dates written with a two-digit year were read ("01.03.24 → 2024-03-01"): the first three spellings."""
    read = records.select("_period_raw", periods.alias("_d")).filter(records["_short_year"])
    if read.is_empty():
        return []
    firsts = read.unique("_period_raw", keep="first", maintain_order=True)
    shown = [f"{text.strip()} → {day.isoformat()}" for text, day in firsts.head(3).iter_rows()]
    example = ", ".join(shown) + (", …" if firsts.height > 3 else "")
    return [("ingest.note.two_digit_years", {"count": read.height, "example": example})]


_PERCENT_SIGN = r"\s*%\s*$"


def _percent_points(value: float | None) -> float | None:
    """A fraction as the percentage Excel shows, digit for digit: 0.955 → 95.5 (not 95.49999999999999)."""
    if value is None:
        return None
    return float(Decimal(repr(value)).scaleb(2))


def _as_shown_in_percent(records: pl.DataFrame) -> tuple[pl.DataFrame, tuple[str, dict[str, Any]]]:
    """XLSX cells formatted as percentages, as Excel shows them (×100, written "95.5%"), and the note that says so."""
    # only the percent cells go through Python (a when/then would run it over every row of the file)
    at = records.select(pl.arg_where(pl.col("_value_percent_cell") & pl.col("_value_numeric"))).to_series()
    if at.len():
        shown = [_percent_points(v) for v in records["value"].gather(at).to_list()]
        texts = [None if v is None else f"{v:.15g}%" for v in shown]
        raw = records["_value_raw"].gather(at).to_list()
        records = records.with_columns(
            records["value"].scatter(at, pl.Series(shown, dtype=pl.Float64)),
            records["_value_raw"].scatter(at, pl.Series([t or r for t, r in zip(texts, raw, strict=True)])),
        )
    lines = records.filter(pl.col("_percent"))["_line"].unique().sort()
    shown_lines = ", ".join(map(str, lines.head(20).to_list())) + (" …" if lines.len() > 20 else "")
    return records, ("ingest.note.percent_values", {"count": int(records["_percent"].sum()), "lines": shown_lines})


def _percent_unit(
    records: pl.DataFrame, labels: dict[str, str], sheet: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Percentages carry the unit %, in the unit column (or a new one); a unit column that names another unit beside
    a percentage is an error (which of the two is meant?)."""
    if "_unit_raw" not in records.columns:
        records = records.with_columns(pl.lit("", pl.String).alias("_unit_raw"))
    unit = pl.col("_unit_raw").fill_null("").str.strip_chars()
    # each distinct spelling is judged once, not once per row
    percent_spellings = [u for u in records.select(unit.unique()).to_series().to_list() if _is_percent_unit(u)]
    other = pl.col("_percent") & (unit != "") & ~unit.is_in(pl.Series(percent_spellings, dtype=pl.String).implode())
    conflicts = error_rows(
        records.filter(other),
        sheet=sheet,
        column=pl.lit(labels.get("unit", "unit")),
        value=pl.col("_value_raw"),
        code="ingest.percent_with_other_unit",
        detail=pl.col("_unit_raw"),
    )
    # the value's own unit from here on (a conflict is one error, not a second one for the other unit)
    records = records.with_columns(
        pl.when(pl.col("_percent")).then(pl.lit("%")).otherwise(pl.col("_unit_raw")).alias("_unit_raw")
    )
    return records, conflicts


def _is_percent_unit(unit: str) -> bool:
    return canonical_unit(unit) == "%"


def _convert_units(
    records: pl.DataFrame, registry: RegistryView | None, column: pl.Expr, sheet: str | None
) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, dict[str, Any]]]]:
    """Multiply each value by the factor from its unit cell to its metric's registry unit."""
    pairs = records.select("metric_code", "_unit_raw").unique()
    metric_units = (
        dict(zip(registry.metrics["metric_code"].str.to_uppercase(), registry.metrics["unit"], strict=True))
        if registry is not None
        else {}
    )
    rows = []
    for metric, unit in pairs.iter_rows():
        target = metric_units.get(str(metric).strip().upper()) if metric is not None else None
        if target is None:
            # unknown metric: reported by the validator; the unit cannot be judged
            factor = 1.0 if not unit else None
            code = None if not unit else "skip"
        else:
            factor = conversion_factor(unit or "", target)
            code = (
                None if factor is not None else ("ingest.unit_inconvertible" if _known(unit) else "ingest.unit_unknown")
            )
        rows.append((metric, unit, factor, code, target or ""))
    table = pl.DataFrame(
        rows,
        schema={
            "metric_code": pl.String,
            "_unit_raw": pl.String,
            "_factor": pl.Float64,
            "_unit_code": pl.String,
            "_target": pl.String,
        },
        orient="row",
    )
    joined = records.join(table, on=["metric_code", "_unit_raw"], how="left", nulls_equal=True)
    bad = joined.filter(pl.col("_unit_code").is_not_null() & (pl.col("_unit_code") != "skip"))
    errors = error_rows(
        bad,
        sheet=sheet,
        column=column,
        value=pl.col("_unit_raw"),
        code=pl.col("_unit_code"),
        detail=pl.col("_target"),
    )
    converted = table.filter(pl.col("_factor").is_not_null() & (pl.col("_factor") != 1.0))
    notes: list[tuple[str, dict[str, Any]]] = []
    if not converted.is_empty():
        detail = ", ".join(
            f"{u} → {t} (×{f:g})" for u, t, f in converted.select("_unit_raw", "_target", "_factor").iter_rows()
        )
        notes.append(("ingest.note.units_converted", {"detail": detail}))
    joined = joined.with_columns(
        pl.when(pl.col("_factor").is_not_null()).then(pl.col("value") * pl.col("_factor")).alias("value")
    ).drop("_factor", "_unit_code", "_target", "_unit_raw")
    return joined, errors, notes


def _known(unit: str | None) -> bool:
    from pilot_roi.ingest.units import is_known_unit

    return bool(unit) and is_known_unit(unit or "")
