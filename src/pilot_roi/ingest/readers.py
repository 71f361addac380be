"""Readers, one per file format, registered in READERS: bytes in, the header and a frame of text cells out.

Every reader returns a RawSheet: the header (found below any title lines by its aliases), and the body as
String columns c0..cN-1 with `_line`, the 1-based line of the file (XLSX: the row of the sheet; Parquet: the line the
row would have in a CSV written with its column names as line 1, so row k is line k + 1, as in a CSV or a sheet of
the same table). Formats whose cells carry a type (XLSX, Parquet) add Boolean columns n<i> for the value (or period)
columns: true where the cell is a stored number rather than text, so that only text decides how the file writes
its numbers (see `parse.parse_numbers`). XLSX adds p<i> where a value column has cells Excel shows as percentages
(`xlsx_formats`): the stored 0.955 of a cell that shows 95.5% is 95.5 %. A file that cannot be read at all
raises InvalidInput; nothing else escapes. A file named as a workbook (.xlsx, .xlsm, .xls) that is none (random bytes,
a cut ZIP, a text file renamed) is refused as "not a readable Excel workbook", whatever else is wrong with its bytes,
unless it reads as a text table (some systems save CSV under an Excel name): then it loads as one, with a note.

Text files are decoded as UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1251 by trial decoding,
which is exact for these encodings; the delimiter is the one of `; tab , |` under which a header row appears.
Large, simple files (no quotes, no blank lines) are split by polars' vectorised CSV reader; everything else
by Python's csv module, which keeps exact line numbers through quoted line breaks and blank lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.ingest.headers import HeaderMatch, NearHeader, find_header, find_near_header, is_total_label
from pilot_roi.ingest.xlsx_formats import percent_cells

log = logging.getLogger(__name__)

#: Files at least this big, without quotes or blank lines, are split by polars rather than the csv module.
FAST_CSV_BYTES = 8 * 1024 * 1024

_DELIMITERS = (";", "\t", ",", "|")
_SAMPLE_CHARS = 256 * 1024
_HEADER_ROWS = 50


@dataclass(frozen=True, slots=True)
class RawSheet:
    """A table found in a file: its header and its body as text cells (see the module docstring).

    `first_column` is the 0-based column of the sheet that c0 is (XLSX: the first column the sheet uses; else 0), so
    that a column can be named by its letter."""

    name: str | None
    header: HeaderMatch
    header_line: int
    body: pl.DataFrame
    source_format: str
    notes: tuple[tuple[str, dict[str, Any]], ...] = ()
    extra_cells_lines: tuple[int, ...] = ()
    first_column: int = 0


def _refuse(key: str, **params: Any) -> InvalidInput:
    return InvalidInput([Problem(key, params=params)])


def _no_header(considered: str = "", near: tuple[NearHeader, str] | None = None) -> InvalidInput:
    """No header row: in words, which headers were not understood when a row names the site and metric columns
    (`near`: that row and where it is, "3" or "3 (Sheet)"); else which columns are needed."""
    if near is not None:
        row, where = near
        shown = ", ".join(row.not_understood[:12]) + (", …" if len(row.not_understood) > 12 else "")
        if row.missing:  # e.g. "metric_code; period; KMG-ANPZ; KMG-PNHZ": sites (or metrics) written as columns
            key = {
                1: f"ingest.header_without_{row.missing[0].removesuffix('_code')}",
                2: "ingest.header_without_site_and_metric",
            }
            return _refuse(key[len(row.missing)], value=shown or "—", detail=where)
        return _refuse("ingest.header_not_understood", value=shown or "—", detail=where)
    return _refuse("ingest.no_header", detail=considered)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with BOM, UTF-16 with BOM, UTF-8, else Windows-1251."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            text, encoding = data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 (BOM)"
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text, encoding = data.decode("utf-16"), "UTF-16"
        else:
            try:
                text, encoding = data.decode("utf-8"), "UTF-8"
            except UnicodeDecodeError:
                text, encoding = data.decode("cp1251"), "Windows-1251"
    except UnicodeDecodeError as exc:
        raise _refuse("ingest.encoding_unknown") from exc
    if "\x00" in text:
        raise _refuse("ingest.binary_text")
    return text, encoding


def _rows_with_lines(text: str, delimiter: str, limit: int | None = None) -> tuple[list[list[str]], list[int]]:
    """csv rows and the 1-based line where each starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    starts: list[int] = []
    previous = 0
    try:
        for row in reader:
            rows.append(row)
            starts.append(previous + 1)
            previous = reader.line_num
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        if limit is not None:  # a sample cut inside a quoted cell: keep what was read
            return rows, starts
        raise _refuse("ingest.csv_unreadable", line=previous + 1, detail=str(exc)) from exc
    return rows, starts


def _sniff(text: str) -> tuple[str, HeaderMatch, list[list[str]], list[int]]:
    sample = text[:_SAMPLE_CHARS]
    best: tuple[str, HeaderMatch, list[list[str]], list[int]] | None = None
    near: tuple[NearHeader, str] | None = None
    for delimiter in _DELIMITERS:
        rows, starts = _rows_with_lines(sample, delimiter, limit=_HEADER_ROWS + 5)
        found = find_header(rows, _HEADER_ROWS)
        if found is not None and (best is None or len(found.fields) > len(best[1].fields)):
            best = (delimiter, found, rows, starts)
        if best is None:
            almost = find_near_header(rows, _HEADER_ROWS)
            if almost is not None and (near is None or almost.fields > near[0].fields):
                near = (almost, str(starts[almost.index]))
    if best is None:
        raise _no_header(near=near)
    return best


def _cells_frame(rows: list[list[str]], lines: list[int], width: int) -> tuple[pl.DataFrame, list[int]]:
    columns: list[list[str]] = [[] for _ in range(width)]
    kept_lines: list[int] = []
    extra: list[int] = []
    for row, line in zip(rows, lines, strict=True):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                extra.append(line)
            row = row[:width]
        elif len(row) < width:
            row = row + [""] * (width - len(row))
        for position, cell in enumerate(row):
            columns[position].append(cell)
        kept_lines.append(line)
    data: dict[str, Any] = {f"c{i}": pl.Series(col, dtype=pl.String) for i, col in enumerate(columns)}
    data["_line"] = pl.Series(kept_lines, dtype=pl.Int64)
    return pl.DataFrame(data), extra


def _utf8_sample(data: bytes) -> tuple[str, str] | None:
    """The first _SAMPLE_CHARS bytes decoded, when they are UTF-8 (the full file is checked by polars later)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    bom = data.startswith(codecs.BOM_UTF8)
    chunk = data[len(codecs.BOM_UTF8) if bom else 0 : _SAMPLE_CHARS]
    if len(data) > _SAMPLE_CHARS:
        chunk = chunk[: chunk.rfind(b"\n") + 1]
    try:
        return chunk.decode("utf-8"), "UTF-8 (BOM)" if bom else "UTF-8"
    except UnicodeDecodeError:
        return None


def _fast_body(
    data: bytes, sample: str, encoding: str, delimiter: str, rows: list[list[str]], starts: list[int], header_index: int
) -> tuple[pl.DataFrame, list[int]] | None:
    """The body of a UTF-8 file split by polars (which also checks that the whole body is UTF-8), or None when
    the file is not simple enough to keep exact line numbers (quotes, blank lines) or polars refuses it."""
    if any(start != i + 1 for i, start in enumerate(starts[: header_index + 2])):
        return None
    lines = sample.splitlines(keepends=True)
    if len(lines) <= header_index + 1:
        return None
    offset = len("".join(lines[: header_index + 1]).encode("utf-8"))
    body = data[(len(codecs.BOM_UTF8) if encoding == "UTF-8 (BOM)" else 0) + offset :]
    # Quotes could hide line breaks inside cells; without them, polars' row count equals the line count exactly
    # when its rows are the file's lines (blank lines included), which the check below confirms.
    if b'"' in body:
        return None
    expected = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    width = len(rows[header_index])
    try:
        frame = pl.read_csv(
            body,
            has_header=False,
            separator=delimiter,
            quote_char=None,
            infer_schema=False,
            truncate_ragged_lines=False,
            raise_if_empty=False,
            encoding="utf8",
        )
    except pl.exceptions.PolarsError:
        return None
    del body
    if frame.height != expected or frame.width < width:
        return None
    frame.columns = [f"c{i}" for i in range(frame.width)]
    extra: list[int] = []
    first_line = header_index + 2
    if frame.width > width:
        spill = pl.any_horizontal(
            pl.col(f"c{i}").str.strip_chars().str.len_bytes() > 0 for i in range(width, frame.width)
        )
        extra = (frame.with_row_index("_i").filter(spill)["_i"] + first_line).to_list()
        frame = frame.select([f"c{i}" for i in range(width)])
    frame = frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + first_line).alias("_line"))
    return _drop_blank_rows(frame, width), extra


def _drop_blank_rows(frame: pl.DataFrame, width: int) -> pl.DataFrame:
    """Rows whose cells are all empty or blank are not data. Only short first cells are examined closely."""
    c0 = pl.col("c0")
    suspects = frame.select((c0.is_null() | (c0.str.len_bytes() < 4)).alias("s"))["s"]
    if not bool(suspects.any()):
        return frame
    cells = [pl.col(f"c{i}") for i in range(width)]
    blank = pl.all_horizontal(c.is_null() | (c.str.strip_chars() == "") for c in cells)
    return frame.filter(~blank)


def read_text(data: bytes, *, fast_bytes: int = FAST_CSV_BYTES) -> RawSheet:
    """A CSV/TSV file (any of the supported encodings and delimiters)."""
    fmt_of = {"\t": "tsv"}
    if len(data) >= fast_bytes:
        sample = _utf8_sample(data)
        if sample is not None:
            sample_text, encoding = sample
            delimiter, header, rows, starts = _sniff(sample_text)
            fast = _fast_body(data, sample_text, encoding, delimiter, rows, starts, header.index)
            if fast is not None:
                notes = (("ingest.note.encoding", {"encoding": encoding, "delimiter": _show(delimiter)}),)
                body, extra = fast
                return RawSheet(
                    None, header, starts[header.index], body, fmt_of.get(delimiter, "csv"), notes, tuple(extra)
                )
    text, encoding = decode_text(data)
    delimiter, header, sample_rows, sample_starts = _sniff(text)
    width = len(sample_rows[header.index])
    all_rows, all_starts = _rows_with_lines(text, delimiter)
    del text
    body, extra = _cells_frame(all_rows[header.index + 1 :], all_starts[header.index + 1 :], width)
    notes = (("ingest.note.encoding", {"encoding": encoding, "delimiter": _show(delimiter)}),)
    return RawSheet(None, header, sample_starts[header.index], body, fmt_of.get(delimiter, "csv"), notes, tuple(extra))


def _show(delimiter: str) -> str:
    return {"\t": "TAB"}.get(delimiter, delimiter)


def _excel_cells(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.cast(pl.String)
    frame.columns = [f"c{i}" for i in range(frame.width)]
    return frame


def _exact_numbers(workbook: Any, name: str, cells: pl.DataFrame) -> pl.DataFrame:
    """`cells` with each numeric cell written as the shortest text that reads back to the very number stored.

    fastexcel writes a numeric cell as text the way Excel *displays* it, with at most 9 decimals: 1017.279209603239
    arrives as "1017.279209603" and 1.5e-10 as "0". Read as floats too, the sheet gives the stored numbers; where a
    cell's text reads as a plain number other than the stored one, the stored number's text replaces it. A text
    cell is never touched (its float is parsed from that same text), nor anything that is not a plain number.
    """
    try:
        numbers = workbook.load_sheet(name, header_row=None, dtypes="float", skip_rows=0).to_polars()
    except Exception:  # the text load worked; without floats the cells keep their displayed digits
        return cells
    if numbers.shape != cells.shape:
        return cells
    numbers.columns = [f"n{i}" for i in range(numbers.width)]
    both = pl.concat([cells, numbers], how="horizontal")
    exact = []
    for i, column in enumerate(cells.columns):
        text, number = pl.col(column), pl.col(f"n{i}")
        shown = text.cast(pl.Float64, strict=False)
        rounded = number.is_not_null() & number.is_finite() & shown.is_not_null() & (shown != number)
        exact.append(pl.when(rounded).then(number.cast(pl.String)).otherwise(text).alias(column))
    return both.select(exact)


def _value_positions(header: HeaderMatch) -> list[int]:
    """The columns that hold values: the value column (long layout), or every period column and every totals column
    (wide layout; the totals are checked against the periods, `totals`)."""
    if header.layout == "wide":
        periods = [position for position, _ in header.period_columns]
        used = {*header.fields.values(), *periods}
        totals = [p for p, text in enumerate(header.cells) if p not in used and is_total_label(text)]
        return periods + totals
    return [header.fields["value"]]


def _numeric_cells(workbook: Any, name: str, positions: list[int], height: int) -> list[pl.Series]:
    """Boolean n<i> for each position: whether the cell is stored as a number (a numeric or date cell, or a formula
    whose cached result is a number) rather than as text.

    The text load cannot tell them apart ("1.500" typed as text by an SAP export and the number 1.5 both arrive as
    plain text), yet only text follows the file's decimal convention. fastexcel's boolean load gives a value for
    exactly the numeric cells (text, errors and blanks are null). If that load fails, every cell counts as text:
    stricter (an ambiguous number is refused), never a wrong number.
    """
    text = [pl.Series(f"n{p}", [False] * height, dtype=pl.Boolean) for p in positions]
    try:
        # Whole sheet: fastexcel's use_columns counts from column A, the frame from the first used column.
        flags = workbook.load_sheet(name, header_row=None, dtypes="boolean", skip_rows=0).to_polars()
    except Exception:  # fastexcel raises its own hierarchy and plain errors alike
        return text
    if flags.height != height or flags.width <= max(positions, default=-1):
        return text
    return [flags.to_series(p).is_not_null().alias(f"n{p}") for p in positions]


def _percent_flags(cells: set[tuple[int, int]], positions: list[int], height: int) -> list[pl.Series]:
    """Boolean p<i> for each value position that has a cell Excel shows as a percentage (none: no columns)."""
    flags = []
    for position in positions:
        rows = [row for row, column in cells if column == position and row < height]
        if rows:
            mask = [False] * height
            for row in rows:
                mask[row] = True
            flags.append(pl.Series(f"p{position}", mask, dtype=pl.Boolean))
    return flags


def read_xlsx(data: bytes, *, fast_bytes: int = FAST_CSV_BYTES) -> RawSheet:
    """An Excel workbook (XLSX or XLS): the first sheet, in workbook order, that has a header row.

    Numeric cells keep every digit Excel stored (see `_exact_numbers`), as a CSV export of the same rows would.
    """
    import fastexcel

    try:
        workbook = fastexcel.read_excel(data)
        names = list(workbook.sheet_names)
    except Exception as exc:  # fastexcel raises its own hierarchy and plain errors alike for broken files
        # calamine's words ("Cannot detect file format", "Invalid Zip") tell an engineer nothing they can act on: the
        # message says what the file is not and what to do; the detail stays in the log
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        log.info("workbook not readable: %s", detail)
        raise _refuse("ingest.xlsx_unreadable", detail=detail) from exc
    considered: list[str] = []
    near: tuple[NearHeader, str] | None = None
    damaged = False
    for name in names:
        considered.append(name)
        try:
            sheet = workbook.load_sheet(name, header_row=None, dtypes="string", skip_rows=0)
            frame = _excel_cells(sheet.to_polars())
        except Exception as exc:  # an unreadable sheet is skipped; the others may hold the data
            log.info("sheet %r not readable: %s", name, exc)
            damaged = True
            continue
        first_column = _first_column(sheet)
        rows = frame.head(_HEADER_ROWS).rows()
        header = find_header(rows, _HEADER_ROWS)
        if header is None:
            almost = find_near_header(rows, _HEADER_ROWS) if near is None else None
            if almost is not None:
                near = (almost, f"{almost.index + 1} ({name})")
            continue
        width = len(rows[header.index])
        frame = _exact_numbers(workbook, name, frame)
        positions = _value_positions(header)
        frame = frame.with_columns(_numeric_cells(workbook, name, positions, frame.height))
        percent = _percent_flags(percent_cells(data, name), positions, frame.height)
        frame = frame.with_columns(percent)
        body = frame.slice(header.index + 1).with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int64) + header.index + 2).alias("_line")
        )
        cells = [pl.col(f"c{i}") for i in range(width)]
        blank = pl.all_horizontal(c.is_null() | (c.str.strip_chars() == "") for c in cells)
        body = body.filter(~blank).with_columns([c.fill_null("") for c in cells])
        others = _other_data_sheets(workbook, names[names.index(name) + 1 :])
        if others:  # loading one of them would leave the rest out without a word: refuse, change nothing
            raise _refuse("ingest.xlsx_several_data_sheets", detail=", ".join([name, *others]))
        notes = [("ingest.note.sheet_chosen", {"sheet": name, "considered": ", ".join(considered)})]
        return RawSheet(
            name,
            header,
            header.index + 1,
            body.select(
                [*(f"c{i}" for i in range(width)), *(f"n{p}" for p in positions), *(c.name for c in percent), "_line"]
            ),
            "xlsx",
            tuple(notes),
            first_column=first_column,
        )
    if damaged and near is None:  # the data may be on the sheet that could not be read: "no header" would mislead
        raise _refuse("ingest.xlsx_unreadable")
    raise _no_header(f" ({', '.join(names)})" if names else "", near=near)


def _first_column(sheet: Any) -> int:
    """The sheet column (0 = A) of the frame's first column: fastexcel's frame starts at the first column in use."""
    try:
        columns = sheet.available_columns()
        return int(columns[0].absolute_index) if columns else 0
    except Exception:  # only a column letter in a message depends on it
        return 0


def _other_data_sheets(workbook: Any, names: list[str]) -> list[str]:
    """The sheets among `names` that hold data too: a header row with at least one filled row below it within
    their first rows (a code list, instructions or a pivot summary has no data header; an empty copy of the
    data sheet has no rows)."""
    found = []
    for name in names:
        try:
            sheet = workbook.load_sheet(name, header_row=None, dtypes="string", skip_rows=0, n_rows=_HEADER_ROWS + 1)
            rows = _excel_cells(sheet.to_polars()).rows()
        except Exception:  # an unreadable sheet holds nothing we could load
            continue
        header = find_header(rows, _HEADER_ROWS)
        if header is not None and any(
            any(cell is not None and str(cell).strip() for cell in row) for row in rows[header.index + 1 :]
        ):
            found.append(name)
    return found


#: The line of a Parquet file's column names, as if the table were written to a CSV (see the module docstring): its
#: errors then name the same line as a CSV or a sheet of the same rows, header on line 1, would.
PARQUET_HEADER_LINE = 1


def _parquet_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A Parquet column as text cells: dates as ISO dates, numbers and text as they are."""
    column = pl.col(name)
    if dtype == pl.Date:
        return column.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return column.dt.to_string("%Y-%m-%d %H:%M:%S")
    return column.cast(pl.String)


def _parquet_texts_one_by_one(frame: pl.DataFrame, header: HeaderMatch) -> pl.DataFrame:
    """The columns as text where they have one. A column of a type without cell text that observations are read from
    refuses the file, naming it and its type; any other is a placeholder, named in a note like any column nothing is
    read from (`columns`), never a reason to refuse."""
    read_from = {*header.fields.values(), *(p for p, _ in header.period_columns)}
    texts = []
    for position, (name, dtype) in enumerate(frame.schema.items()):
        try:
            texts.append(frame.select(_parquet_text(name, dtype)).to_series())
        except pl.exceptions.PolarsError as exc:
            if position in read_from:
                raise _refuse("ingest.parquet_column_type", value=str(dtype), detail=name) from exc
            texts.append(pl.Series(name, [f"<{dtype}>"] * frame.height, dtype=pl.String))
    return pl.DataFrame(texts)


def read_parquet(data: bytes, *, fast_bytes: int = FAST_CSV_BYTES) -> RawSheet:
    """A Parquet file: column names are the header (line 1); `_line` of row k is k + 1 (`PARQUET_HEADER_LINE`)."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow/polars raise many types for corrupt files
        raise _refuse("ingest.parquet_unreadable", detail=str(exc).splitlines()[0][:200] if str(exc) else "") from exc
    header = find_header([frame.columns], 1)
    if header is None:
        raise _no_header()
    try:
        body = frame.select(_parquet_text(name, dtype) for name, dtype in frame.schema.items())
    except pl.exceptions.PolarsError:  # lists, structs of lists, durations: no cell text; column by column to say which
        body = _parquet_texts_one_by_one(frame, header)
    body.columns = [f"c{i}" for i in range(body.width)]
    cells = [pl.col(c) for c in body.columns]
    dtypes = list(frame.schema.values())
    # A numeric column holds numbers, not text: "1.234" cast from a Float64 is never thousands.
    numeric = [
        (pl.col(f"c{p}").is_not_null() & pl.lit(dtypes[p].is_numeric())).alias(f"n{p}")
        for p in _value_positions(header)
    ]
    first_line = PARQUET_HEADER_LINE + 1
    body = body.with_columns(*numeric, (pl.int_range(pl.len(), dtype=pl.Int64) + first_line).alias("_line"))
    blank = pl.all_horizontal(c.is_null() | (c.str.strip_chars() == "") for c in cells)
    body = body.filter(~blank).with_columns([c.fill_null("") for c in cells])
    return RawSheet(None, header, PARQUET_HEADER_LINE, body, "parquet")


Reader = Callable[..., RawSheet]

#: Format name -> reader. Add a format by registering its reader here (and its magic bytes or extension below).
READERS: dict[str, Reader] = {"csv": read_text, "tsv": read_text, "xlsx": read_xlsx, "parquet": read_parquet}

_EXTENSIONS = {
    "csv": "csv",
    "txt": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "xls": "xlsx",
    "parquet": "parquet",
    "pq": "parquet",
}
_MAGIC = ((b"PK\x03\x04", "xlsx"), (b"\xd0\xcf\x11\xe0", "xlsx"), (b"PAR1", "parquet"))


def _named_format(file_name: str) -> str | None:
    """The format the file's name claims (by its extension), or None."""
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return _EXTENSIONS.get(extension)


def detect_format(data: bytes, file_name: str) -> str:
    """The format by content (ZIP/OLE → Excel, PAR1 → Parquet), else by extension, else text."""
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    fmt = _named_format(file_name) or "csv"
    return "csv" if fmt in ("xlsx", "parquet") else fmt


def _text_named_as_workbook(data: bytes, fast_bytes: int) -> RawSheet:
    """A file named .xlsx (.xlsm, .xls) without a workbook's bytes: a text table saved under an Excel name loads as
    one, with a note; anything else is refused as not a readable workbook, not in the words of the text reader
    ("encoding not recognised" for random bytes or a damaged download says nothing to someone who sent a workbook)."""
    try:
        sheet = read_text(data, fast_bytes=fast_bytes)
    except InvalidInput as exc:
        log.info("named as a workbook, not one, nor a text table: %s", "; ".join(p.key for p in exc.problems))
        raise _refuse("ingest.xlsx_unreadable") from exc
    notes = (("ingest.note.text_named_as_workbook", {}), *sheet.notes)
    return RawSheet(
        sheet.name, sheet.header, sheet.header_line, sheet.body, sheet.source_format, notes, sheet.extra_cells_lines
    )


def read_raw(data: bytes, file_name: str, *, fast_bytes: int = FAST_CSV_BYTES) -> RawSheet:
    """Read any supported file into a RawSheet; InvalidInput if it cannot be read."""
    if not data or not data.strip():
        raise _refuse("ingest.empty_file")
    fmt = detect_format(data, file_name)
    if fmt in ("csv", "tsv") and _named_format(file_name) == "xlsx":  # no workbook's (nor Parquet's) bytes
        return _text_named_as_workbook(data, fast_bytes)
    return READERS[fmt](data, fast_bytes=fast_bytes)
