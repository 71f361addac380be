"""Which cells of an XLSX sheet Excel shows as percentages.

A cell formatted as a percentage stores 0.955 and shows "95.5%": the engineer reads 95.5, and a metric kept in %
must get 95.5, not 0.955. fastexcel (calamine) gives the stored number only, without its number format, so the
formats are read here from the workbook's own XML: the cell styles whose number format shows a percentage
(built-in formats 9 and 10, or a custom format with a % outside quotes), then the cells that carry one of those
styles. The sheet is scanned only when the workbook has such a style at all, which most exports do not.

Positions are those of fastexcel's frame of the sheet (`header_row=None`): row 0 is the sheet's row 1, column 0
the leftmost column that holds a value. Anything unexpected (an XLS file, a sheet without cell references, XML
that does not parse) gives no percent cells: the stored numbers are then read as they are, as before.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_BUILT_IN_PERCENT = {9, 10}  # "0%" and "0.00%"
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # literal text, escaped characters and [colour]/[condition] parts
# A cell's opening tag (any namespace prefix) and whether a value, formula or inline string follows it.
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(/?)>\s*(<(?:\w+:)?(?:v|f|is)\b)?")
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_STYLE = re.compile(rb'\bs="([0-9]+)"')


def shows_percent(format_code: str) -> bool:
    """Whether an Excel number format code shows its number as a percentage (a % that is not literal text)."""
    return "%" in _QUOTED.sub("", format_code)


def percent_cells(data: bytes, sheet_name: str) -> set[tuple[int, int]]:
    """The (row, column) positions, in fastexcel's frame of `sheet_name`, of the cells with a value that Excel
    shows as percentages; empty when there are none or the workbook cannot be read this way."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            styles = _percent_styles(archive.read("xl/styles.xml"))
            if not styles:
                return set()
            path = _sheet_path(archive, sheet_name)
            if path is None:
                return set()
            return _cells(archive.read(path), styles)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, OSError):
        return set()


def _percent_styles(styles_xml: bytes) -> set[int]:
    """Indexes of the cell styles (cellXfs) whose number format shows a percentage."""
    root = ElementTree.fromstring(styles_xml)
    custom = {int(fmt.get("numFmtId", "-1")): fmt.get("formatCode", "") for fmt in root.iter(f"{_MAIN}numFmt")}
    percent_formats = _BUILT_IN_PERCENT | {fid for fid, code in custom.items() if shows_percent(code)}
    cell_xfs = root.find(f"{_MAIN}cellXfs")
    if cell_xfs is None:
        return set()
    return {i for i, xf in enumerate(cell_xfs.findall(f"{_MAIN}xf")) if int(xf.get("numFmtId", "0")) in percent_formats}


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The archive path of the worksheet named `sheet_name` (workbook.xml names it, its relationships place it)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (s.get(f"{_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet_name),
        None,
    )
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.iter(f"{_PACKAGE_REL}Relationship") if r.get("Id") == rel_id), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def _cells(sheet_xml: bytes, styles: set[int]) -> set[tuple[int, int]]:
    """Positions of the cells with a value in one of `styles`, relative to the leftmost column with a value."""
    wanted = {str(s).encode() for s in styles}
    first_column: int | None = None
    hits: list[tuple[int, int]] = []
    for match in _CELL.finditer(sheet_xml):
        if match.group(2) or match.group(3) is None:  # <c .../> or <c ...></c>: no value, outside the frame
            continue
        attributes = match.group(1)
        ref = _REF.search(attributes)
        if ref is None:  # cells placed by their order alone: positions unknown, read the numbers as stored
            return set()
        column = _column_index(ref.group(1))
        first_column = column if first_column is None else min(first_column, column)
        style = _STYLE.search(attributes)
        if style is not None and style.group(1) in wanted:
            hits.append((int(ref.group(2)) - 1, column))
    if first_column is None:
        return set()
    return {(row, column - first_column) for row, column in hits}
