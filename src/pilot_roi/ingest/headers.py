"""Header aliases in en, ru and kk, and finding the header row below any title lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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


def is_total_label(text: object) -> bool:
    """Whether a cell starts a totals row ("Итого", "Барлығы", "Total", ...)."""
    norm = normalize_header(text)
    return bool(norm) and norm.startswith(_TOTALS)


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """Where the header is and what its columns mean.

    `index` is the 0-based row of the header among the rows searched; `fields` maps a field to its column
    position; `labels` maps a field to the header text as written; `period_columns` (wide layout only) lists
    (position, header text) of the columns whose header is a period.
    """

    index: int
    fields: dict[str, int]
    labels: dict[str, str]
    period_columns: tuple[tuple[int, str], ...]
    duplicates: tuple[str, ...]

    @property
    def layout(self) -> str:
        """ "long" (a period and a value column) or "wide" (one column per period)."""
        return "wide" if self.period_columns and "value" not in self.fields else "long"


_PERIOD_HEADER = re.compile(
    r"^\s*(\d{4}-\d{1,2}(-\d{1,2})?([ T]00:00(:00(\.0+)?)?)?|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}\.\d{4}|\d{4})\s*$"
)


def match_header(row: Sequence[object]) -> HeaderMatch | None:
    """The meaning of a row's cells if it is a header (it names site and metric, and either period and value,
    or has period columns); None otherwise."""
    fields: dict[str, int] = {}
    labels: dict[str, str] = {}
    duplicates: list[str] = []
    periods: list[tuple[int, str]] = []
    for position, cell in enumerate(row):
        field = _LOOKUP.get(normalize_header(cell))
        if field is None:
            text = "" if cell is None else str(cell).strip()
            if text and _PERIOD_HEADER.match(text):
                periods.append((position, text))
            continue
        if field in fields:
            duplicates.append(str(cell))
            continue
        fields[field] = position
        labels[field] = str(cell).strip()
    if "site_code" not in fields or "metric_code" not in fields:
        return None
    long_form = "period" in fields and "value" in fields
    if not long_form and not periods:
        return None
    return HeaderMatch(
        index=-1,
        fields=fields,
        labels=labels,
        period_columns=() if long_form else tuple(periods),
        duplicates=tuple(duplicates),
    )


def find_header(rows: Sequence[Sequence[object]], limit: int = 50) -> HeaderMatch | None:
    """The first of the first `limit` rows that is a header (title lines above it are skipped)."""
    for index, row in enumerate(rows[:limit]):
        found = match_header(row)
        if found is not None:
            return HeaderMatch(index, found.fields, found.labels, found.period_columns, found.duplicates)
    return None
