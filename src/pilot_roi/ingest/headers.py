"""Header aliases in en, ru and kk, and finding the header row below any title lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pilot_roi.ingest.periods import read_label

#: Field -> spellings accepted in a header cell (compared after `normalize_header`).
ALIASES: dict[str, tuple[str, ...]] = {
    "site_code": ("site_code", "site", "site code", "код объекта", "объект", "код площадки", "нысан коды", "нысан"),
    "metric_code": (
        "metric_code",
        "metric",
        "metric code",
        "код показателя",
        "показатель",
        "көрсеткіш коды",
        "көрсеткіш",
    ),
    "period": ("period", "date", "дата", "период", "күні", "күн", "кезең"),
    "value": ("value", "значение", "величина", "мәні", "мән"),
    "unit": (
        "unit",
        "units",
        "ед. изм.",
        "ед изм",
        "единица",
        "единица измерения",
        "өлш. бірл.",
        "өлш бірл",
        "өлшем бірлігі",
    ),
    "comment": ("comment", "comments", "комментарий", "примечание", "түсініктеме", "ескерту"),
}

#: First cells of a totals row (compared after normalisation, as a prefix).
TOTAL_WORDS = ("итого", "всего", "барлығы", "жиыны", "жиынтығы", "total", "grand total", "subtotal")

_NON_WORD = re.compile(r"[^0-9a-zа-яёәғқңөұүһі]+")


def normalize_header(text: object) -> str:
    """Lower case, ё→е, punctuation and spaces removed: "Ед. изм." → "едизм", "site_code" → "sitecode"."""
    if text is None:
        return ""
    lowered = str(text).replace("\u00a0", " ").strip().lower().replace("ё", "е")
    return _NON_WORD.sub("", lowered)


_LOOKUP: dict[str, str] = {normalize_header(a): f for f, aliases in ALIASES.items() for a in aliases}
_TOTALS = tuple(normalize_header(w) for w in TOTAL_WORDS)


def field_of(text: object) -> str | None:
    """The field a header cell names ("Ед. изм." → "unit"), or None."""
    return _LOOKUP.get(normalize_header(text))


def is_total_label(text: object) -> bool:
    """Whether a cell starts a totals row ("Итого", "Барлығы", "Total", ...)."""
    norm = normalize_header(text)
    return bool(norm) and norm.startswith(_TOTALS)


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """Where the header is and what its columns mean.

    `index` is the 0-based row of the header among the rows searched; `fields` maps a field to its column
    position; `labels` maps a field to the header text as written; `period_columns` (wide layout only) lists
    (position, header text) of the columns whose header is a period; `cells` is the whole header row as written
    (stripped; "" for a blank cell), for naming the columns no observation is read from (`columns`).
    """

    index: int
    fields: dict[str, int]
    labels: dict[str, str]
    period_columns: tuple[tuple[int, str], ...]
    duplicates: tuple[str, ...]
    cells: tuple[str, ...] = ()

    @property
    def layout(self) -> str:
        """ "long" (a period and a value column) or "wide" (one column per period)."""
        return "wide" if self.period_columns and "value" not in self.fields else "long"


_PERIOD_HEADER = re.compile(
    r"^\s*(\d{4}-\d{1,2}(-\d{1,2})?([ T]00:00(:00(\.0+)?)?)?"  # 2024-03-01, 2024-03
    r"|\d{4}/\d{1,2}/\d{1,2}( 0?0:00(:00(\.0+)?)?)?"  # 2024/03/01, 2024/3/1: the year first, so never ambiguous
    r"|\d{1,2}\.\d{1,2}\.(\d{4}|\d{2})|\d{1,2}\.\d{4}|\d{4})\s*$"  # 01.03.2024, 01.03.24, 03.2024, 2024
)


def is_period_header(text: str) -> bool:
    """Whether a header cell names a period: a date (01.03.2024, 2024-03-01, 2024/03/01, and 01.03.24 as 1C writes it:
    20yy), a month (2024-03, 03.2024), a year, or a quarter, ISO week or month-name label (`periods.read_label`:
    2024-Q1, 1 кв. 2024, 2024-W05, янв. 2024, мар.24, ...)."""
    return bool(_PERIOD_HEADER.match(text)) or read_label(text) is not None


@dataclass(frozen=True, slots=True)
class _RowCells:
    fields: dict[str, int]
    labels: dict[str, str]
    duplicates: tuple[str, ...]
    periods: tuple[tuple[int, str], ...]
    unknown: tuple[str, ...]


def _read_row(row: Sequence[object]) -> _RowCells:
    fields: dict[str, int] = {}
    labels: dict[str, str] = {}
    duplicates: list[str] = []
    periods: list[tuple[int, str]] = []
    unknown: list[str] = []
    for position, cell in enumerate(row):
        field = _LOOKUP.get(normalize_header(cell))
        if field is None:
            text = "" if cell is None else str(cell).strip()
            if text and is_period_header(text):
                periods.append((position, text))
            elif text:
                unknown.append(text)
            continue
        if field in fields:
            duplicates.append(str(cell))
            continue
        fields[field] = position
        labels[field] = str(cell).strip()
    return _RowCells(fields, labels, tuple(duplicates), tuple(periods), tuple(unknown))


def match_header(row: Sequence[object]) -> HeaderMatch | None:
    """The meaning of a row's cells if it is a header (it names site and metric, and either period and value,
    or has period columns); None otherwise."""
    cells = _read_row(row)
    fields = cells.fields
    if "site_code" not in fields or "metric_code" not in fields:
        return None
    long_form = "period" in fields and "value" in fields
    if not long_form and not cells.periods:
        return None
    return HeaderMatch(
        index=-1,
        fields=fields,
        labels=cells.labels,
        period_columns=() if long_form else cells.periods,
        duplicates=cells.duplicates,
        cells=tuple("" if cell is None else str(cell).strip() for cell in row),
    )


def find_header(rows: Sequence[Sequence[object]], limit: int = 50) -> HeaderMatch | None:
    """The first of the first `limit` rows that is a header (title lines above it are skipped)."""
    for index, row in enumerate(rows[:limit]):
        found = match_header(row)
        if found is not None:
            return HeaderMatch(index, found.fields, found.labels, found.period_columns, found.duplicates, found.cells)
    return None


@dataclass(frozen=True, slots=True)
class NearHeader:
    """A row that reads like a header yet is none: it names the site and metric columns but has no value column and
    no cell read as a period, or it names two of the four fields but not the site or the metric (sites or metrics
    written as columns, a layout the product does not read).

    `index` is its 0-based row among the rows searched; `fields` how many fields its cells name; `not_understood`
    its other non-empty cells, as written; `missing` the fields it lacks of site and metric (empty for the first
    kind).
    """

    index: int
    fields: int
    not_understood: tuple[str, ...]
    missing: tuple[str, ...] = ()


def find_near_header(rows: Sequence[Sequence[object]], limit: int = 50) -> NearHeader | None:
    """The first of the first `limit` rows that names the site and metric columns, else the first that names two
    fields but not both of those (called when `find_header` found no header, to tell the user what is wrong with
    that row)."""
    partial: NearHeader | None = None
    for index, row in enumerate(rows[:limit]):
        cells = _read_row(row)
        missing = tuple(f for f in ("site_code", "metric_code") if f not in cells.fields)
        if not missing:
            return NearHeader(index, len(cells.fields), cells.unknown)
        if partial is None and len(cells.fields) >= 2:
            unknown = cells.unknown + tuple(text for _, text in cells.periods)
            partial = NearHeader(index, len(cells.fields), unknown, missing)
    return partial
