"""Period labels that name a span rather than a day: quarters, ISO weeks and months by name, in ru, kk and en.

1C, SAP and Excel exports head the columns of a wide file (or fill the period cells of a long one) with labels such
as `2024-Q1`, `Q1 2024`, `1 кв. 2024`, `I квартал 2024 г.`, `2024 ж. 1 тоқсан`, `2024-W05`, `W05 2024`,
`5 нед. 2024`, `2024 ж. 5 апта`, `янв. 2024`, `Январь 2024 г.`, `Jan 2024`, `қаң. 2024`. Each reads as the first day
of what it names, as the warehouse stores such periods: a quarter as 1 January, April, July or October; an ISO week
as its Monday (ISO 8601: week 1 is the week holding 4 January, so `2025-W01` is Monday 30 December 2024); a month as
its 1st. The label's span travels with it, so that the validator can refuse a label whose span is not the metric's
period (a quarter's total stored as a month's value would be a silent wrong number).

Years are four digits, except in a month name followed by a two-digit year: `мар.24`, `Mar-24`, `Mar '24`, `март 24`
are what Excel shows (and writes to a CSV) for a date formatted `ММM.ГГ` / `mmm-yy`, and read as March 2024 (20yy, as
`01.03.24` reads; `PeriodLabel.short_year` says so, for the note that tells the user). Typed into a cell, Excel takes
`Jan-24` for 24 January of the current year, but that cell then shows and exports as `24-Jan`: a text `Jan-24` in a
file is a month. Nothing silent can come of the other reading either: a month label is refused for a daily or weekly
metric, and the 1st of the month is the only day a monthly or coarser metric takes. The year never comes first in two
digits (`24-мар` is Excel's `d-mmm`, 24 March), and quarters and weeks keep four (`Q1 24`, `1Q24` are not read). A
label of the right shape that names no real period (`2021-W53`: 2021 has 52 ISO weeks; `5 кв. 2024`) is recognised as
a label, so the user is told what is wrong with it, but has no date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

Span = Literal["quarter", "week", "month"]

#: Month number -> the words that name it: ru (nominative, genitive, abbreviations), en, kk (names, abbreviations).
MONTH_WORDS: dict[int, tuple[str, ...]] = {
    1: ("январь", "января", "янв", "january", "jan", "қаңтар", "қаң"),
    2: ("февраль", "февраля", "февр", "фев", "february", "feb", "ақпан", "ақп"),
    3: ("март", "марта", "мар", "march", "mar", "наурыз", "наур", "нау"),
    4: ("апрель", "апреля", "апр", "april", "apr", "сәуір", "сәу"),
    5: ("май", "мая", "may", "мамыр", "мам"),
    6: ("июнь", "июня", "июн", "june", "jun", "маусым", "маус", "мау"),
    7: ("июль", "июля", "июл", "july", "jul", "шілде", "шіл"),
    8: ("август", "августа", "авг", "august", "aug", "тамыз", "там"),
    9: ("сентябрь", "сентября", "сент", "сен", "september", "sept", "sep", "қыркүйек", "қырк", "қыр"),
    10: ("октябрь", "октября", "окт", "october", "oct", "қазан", "қаз"),
    11: ("ноябрь", "ноября", "нояб", "ноя", "november", "nov", "қараша", "қар"),
    12: ("декабрь", "декабря", "дек", "december", "dec", "желтоқсан", "желт", "жел"),
}
_MONTH_OF = {word: month for month, words in MONTH_WORDS.items() for word in words}

# Building blocks, matched against the label in lower case with ё written е. The same text is a Python and a Rust
# (polars) regular expression: no look-around, no back-references.
_SEP = r"[\s\-–/,.'’]*"  # between parts: "2024-Q1", "Q1/2024", "янв.2024", "Week 5, 2024" (also none: "2024Q1")
_SEP1 = r"[\s\-–/,.'’]+"  # between two numbers: "W05 2024" (never "W052024")
_YEAR_WORD = r"(?:\s*(?:года|год|г|жылғы|жылы|жыл|ж)\.?)?"
_YEAR = r"(?P<year>\d{4})" + _YEAR_WORD  # "2024", "2024 г.", "2024 ж.", "2024 жылғы"
_YY = r"(?P<yy>\d{2})" + _YEAR_WORD  # "24" after a month name: 2024
_ORD = r"(?:-?(?:ый|ий|й|ая|я|інші|ыншы|ші|шы|st|nd|rd|th))?"  # "1-й", "5-я", "1-ші", "1st"
_QUARTER = r"(?P<quarter>\d|[iі]v|[iі]{1,3})"  # arabic or roman (Latin I or the Cyrillic І of a Kazakh keyboard)
_QUARTER_WORD = r"(?:квартал[аеу]?|кварт\.?|кв\.?|тоқсан[ы]?|токсан[ы]?|quarter|qtr\.?)"
_WEEK = r"(?P<week>\d{1,2})"
_WEEK_WORD = r"(?:недел[яиюе]|нед\.?|апта[сы]*|week|wk\.?)"
_MONTH = "(?P<month>" + "|".join(sorted(_MONTH_OF, key=len, reverse=True)) + r")\.?"

#: (span, pattern): every spelling read, each anchored at both ends.
_FORMS: tuple[tuple[Span, str], ...] = (
    ("quarter", _YEAR + _SEP + "q" + _QUARTER),  # 2024-Q1, 2024 Q1, 2024Q1
    ("quarter", "q" + _QUARTER + _SEP1 + _YEAR),  # Q1 2024, Q1-2024
    ("quarter", _QUARTER + "q" + _SEP + _YEAR),  # 1Q 2024, 1Q2024
    ("quarter", _QUARTER + _ORD + _SEP + _QUARTER_WORD + _SEP + _YEAR),  # 1 кв. 2024, I квартал 2024 г., 1 тоқсан 2024
    ("quarter", _YEAR + _SEP + _QUARTER + _ORD + _SEP + _QUARTER_WORD),  # 2024 ж. 1 тоқсан, 2024 жылғы 1-тоқсан
    ("quarter", _QUARTER_WORD + _SEP + _QUARTER + _SEP1 + _YEAR),  # квартал 1 2024, Quarter 1, 2024
    ("quarter", _YEAR + _SEP + _QUARTER_WORD + _SEP + _QUARTER),  # 2024 кв. 1
    ("week", _YEAR + _SEP + "w" + _WEEK),  # 2024-W05 (ISO 8601), 2024W05
    ("week", "w" + _WEEK + _SEP1 + _YEAR),  # W05 2024
    ("week", _WEEK + _ORD + _SEP + _WEEK_WORD + _SEP + _YEAR),  # 5 нед. 2024, 5-я неделя 2024, 5 апта 2024
    ("week", _YEAR + _SEP + _WEEK + _ORD + _SEP + _WEEK_WORD),  # 2024 ж. 5 апта, 2024 жылғы 5-апта
    ("week", _WEEK_WORD + _SEP + _WEEK + _SEP1 + _YEAR),  # неделя 5 2024, Week 5, 2024
    ("week", _YEAR + _SEP + _WEEK_WORD + _SEP + _WEEK),  # 2024 нед. 5, 2024 week 5
    ("month", _MONTH + _SEP + _YEAR),  # янв. 2024, Январь 2024 г., Jan 2024, қаң. 2024
    ("month", _YEAR + _SEP + _MONTH),  # 2024 ж. қаңтар, 2024 жылғы қаңтар
    ("month", _MONTH + _SEP + _YY),  # мар.24, Mar-24, Mar '24, март 24 г. (Excel's ММM.ГГ / mmm-yy)
)
_COMPILED = tuple((span, re.compile(rf"^\s*{pattern}\s*$")) for span, pattern in _FORMS)
#: Any label at all, for a vectorised first pass over many cells (group names dropped: one name, one group).
ANY_LABEL = "|".join(rf"(?:^\s*{re.sub(r'[(][?]P<[a-z]+>', '(?:', pattern)}\s*$)" for _, pattern in _FORMS)
_ANY = re.compile(ANY_LABEL)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(frozen=True, slots=True)
class PeriodLabel:
    """What a label names: its `span`, and the span's `first_day` (None when no real period, e.g. `2021-W53`);
    `short_year` when its year was written in two digits (`мар.24`: 2024)."""

    span: Span
    first_day: date | None
    short_year: bool = False


def _lower(text: str) -> str:
    return text.lower().replace("ё", "е")


def _first_day(span: Span, found: dict[str, str]) -> date | None:
    year = int(found["year"]) if found.get("year") else 2000 + int(found["yy"])
    try:
        if span == "quarter":
            written = found["quarter"].replace("і", "i")
            quarter = _ROMAN[written] if written in _ROMAN else int(written)
            return date(year, 3 * quarter - 2, 1) if 1 <= quarter <= 4 else None
        if span == "week":
            return date.fromisocalendar(year, int(found["week"]), 1)  # ValueError for week 0, 54, 53 of a 52-week year
        return date(year, _MONTH_OF[found["month"]], 1)
    except ValueError:
        return None


def read_label(text: object) -> PeriodLabel | None:
    """The period a quarter, ISO week or month-name label names, or None when `text` is no such label."""
    if text is None:
        return None
    lowered = _lower(str(text))
    if not _ANY.match(lowered):
        return None
    for span, pattern in _COMPILED:
        found = pattern.match(lowered)
        if found is not None:
            groups = found.groupdict()
            return PeriodLabel(span, _first_day(span, groups), short_year=bool(groups.get("yy")))
    return None  # pragma: no cover - _ANY is the union of the forms


def read_labels(texts: pl.Series) -> pl.DataFrame:
    """The distinct labels among `texts`: columns text, first_day (Date, null when no real period), span (String),
    short_year (Boolean: the year was written in two digits).

    One vectorised pass finds the cells of label shape; only their distinct values are read one by one, so a long file
    of quarter labels costs one regex per row and a handful of Python calls.
    """
    distinct = texts.drop_nulls().unique()
    shaped = distinct.filter(
        distinct.str.to_lowercase().str.replace_all("ё", "е", literal=True).str.contains(ANY_LABEL)
    )
    rows = []
    for text in shaped.to_list():
        label = read_label(text)
        if label is not None:
            rows.append((text, label.first_day, label.span, label.short_year))
    schema = {"text": pl.String, "first_day": pl.Date, "span": pl.String, "short_year": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row")
