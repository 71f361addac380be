"""Pure builders between the Admin page's registry forms and registry documents. No Dash, no warehouse.

`site_document(fields)` (and the metric and pilot ones) turn a form's raw values, as the client sent them,
into a *partial registry document*: `{"sites": [item]}`, exactly what a registry YAML file naming that one
site parses to. They only bound and reshape; they never judge. Whatever is wrong (an unknown subsidiary,
a negative value, a go-live before the data start) is left for `pilot_roi.registry`'s validator, so a form
and a file are refused with the same messages. `site_fields(item)` and the others go the other way, from
a stored item to the form's values (to edit an existing code).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

MAX_FIELD_CHARS = 200  # callback inputs come from the client: anything longer is cut before validation
MAX_LINES_CHARS = 20_000  # the pilot's "site, go-live" lines
MAX_LIST_ITEMS = 500  # codes chosen in a multi-select

LANGS = ("ru", "kk", "en")
NAME_FIELDS = tuple(f"name_{lang}" for lang in LANGS)
SITE_FIELDS = ("code", "subsidiary", *NAME_FIELDS, "region")
METRIC_FIELDS = (
    "code", *NAME_FIELDS, "unit", "frequency", "aggregation", "higher_is_better", "value_kzt_per_unit",
    "min_value", "max_value",
)  # fmt: skip
PILOT_FIELDS = (
    "code", *NAME_FIELDS, "subsidiary", "use_case", "sites", "controls", "metrics", "capex_kzt",
    "opex_kzt_per_year",
)  # fmt: skip

_SPACES = re.compile(r"[ \u00a0\u202f\u2009_']")
_INT = re.compile(r"[+-]?\d+")
_DOT = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")
_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)")
_THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3},\d{3}")  # "1,500": 1.5 or 1500? refused, never guessed
_COMMA_GROUPS = re.compile(r"[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?|[+-]?\d{1,3}(,\d{3})+\.\d+")  # "1,200,000.5"
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_LINE_SPLIT = re.compile(r"\s*[,;\t ]\s*")


def text(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """A client-sent field as bounded, stripped text (anything not text is empty)."""
    return value[:limit].strip() if isinstance(value, str) else ""


def number(value: object) -> int | float | str | None:
    """A number typed in any of the product's conventions ("1 200 000", "4200,5", "4200.5"), or None if empty.

    Text that is not plainly one number (and an ambiguous "1,500") comes back as the text itself, for the
    validator to refuse with the value shown.
    """
    if isinstance(value, bool):
        return text(value) or None
    if isinstance(value, int | float):
        return value
    raw = text(value)
    compact = _SPACES.sub("", raw).replace("\u2212", "-")
    if not compact:
        return None
    if _INT.fullmatch(compact):
        return int(compact)
    if _DOT.fullmatch(compact):
        return float(compact)
    if _COMMA.fullmatch(compact) and not _THOUSANDS_COMMA.fullmatch(compact):
        return float(compact.replace(",", "."))
    if _COMMA_GROUPS.fullmatch(compact):
        return float(compact.replace(",", ""))
    return raw


def day(value: object) -> str:
    """A date as typed: dd.mm.yyyy becomes yyyy-mm-dd; anything else is left for the validator."""
    raw = text(value)
    found = _DMY.fullmatch(raw)
    if found:
        try:
            return date(int(found[3]), int(found[2]), int(found[1])).isoformat()
        except ValueError:
            return raw
    return raw


def codes(value: object) -> list[str]:
    """The codes chosen in a multi-select (a list of text), bounded; a single text is one code."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [code for code in (text(v) for v in value[:MAX_LIST_ITEMS]) if code]


def site_lines(value: object) -> list[dict[str, str]]:
    """The pilot's treated sites from lines "SITE_CODE, YYYY-MM-DD" (blank lines skipped; `,` `;` tab or space)."""
    entries: list[dict[str, str]] = []
    for line in text(value, MAX_LINES_CHARS).splitlines():
        parts = _LINE_SPLIT.split(line.strip(), maxsplit=1)
        if not parts[0]:
            continue
        entry = {"site": parts[0]}
        if len(parts) > 1 and parts[1]:
            entry["go_live"] = day(parts[1])
        entries.append(entry)
    return entries


def boolean(value: object) -> bool | str | None:
    """A yes/no choice ("true"/"false" from a select, or a real bool); anything else as text for the validator."""
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    return {"true": True, "false": False, "": None}.get(raw, raw)


def _name(fields: Mapping[str, object]) -> dict[str, str]:
    # Languages left empty are left out: the validator fills them from the others, as it does for a file.
    return {lang: name for lang in LANGS if (name := text(fields.get(f"name_{lang}")))}


def _without_empty(item: dict[str, Any]) -> dict[str, Any]:
    """A registry item leaves optional fields out rather than writing them empty."""
    return {key: value for key, value in item.items() if value not in (None, "", [])}


def site_document(fields: Mapping[str, object]) -> dict[str, Any]:
    """The partial registry document naming the one site of the form."""
    item = {
        "code": text(fields.get("code")),
        "subsidiary": text(fields.get("subsidiary")),
        "name": _name(fields),
        "region": text(fields.get("region")),
    }
    return {"sites": [_without_empty(item)]}


def metric_document(fields: Mapping[str, object]) -> dict[str, Any]:
    """The partial registry document naming the one metric of the form (with its KZT value per unit)."""
    item = {
        "code": text(fields.get("code")),
        "name": _name(fields),
        "unit": text(fields.get("unit")),
        "frequency": text(fields.get("frequency")),
        "aggregation": text(fields.get("aggregation")),
        "higher_is_better": boolean(fields.get("higher_is_better")),
        "value_kzt_per_unit": number(fields.get("value_kzt_per_unit")),
        "min_value": number(fields.get("min_value")),
        "max_value": number(fields.get("max_value")),
    }
    return {"metrics": [_without_empty(item)]}


def pilot_document(fields: Mapping[str, object]) -> dict[str, Any]:
    """The partial registry document naming the one pilot of the form: sites with go-lives, controls, metrics, costs."""
    item = {
        "code": text(fields.get("code")),
        "name": _name(fields),
        "subsidiary": text(fields.get("subsidiary")),
        "use_case": text(fields.get("use_case")),
        "sites": site_lines(fields.get("sites")),
        "controls": codes(fields.get("controls")),
        "metrics": codes(fields.get("metrics")),
        "capex_kzt": number(fields.get("capex_kzt")),
        "opex_kzt_per_year": number(fields.get("opex_kzt_per_year")),
    }
    return {"pilots": [_without_empty(item)]}


def _plain(value: object) -> str:
    """A stored value as the form shows it: 4200.0 as "4200", None as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _name_fields(item: Mapping[str, Any]) -> dict[str, str]:
    name = item.get("name") or {}
    return {f"name_{lang}": str(name.get(lang) or "") for lang in LANGS}


def site_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The site form's values for a stored site item (see `pilot_roi.registry.stored_items`)."""
    return {
        "code": item["code"],
        "subsidiary": item["subsidiary"],
        **_name_fields(item),
        "region": _plain(item.get("region")),
    }


def metric_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The metric form's values for a stored metric item."""
    return {
        "code": item["code"],
        **_name_fields(item),
        "unit": item["unit"],
        "frequency": item["frequency"],
        "aggregation": item["aggregation"],
        "higher_is_better": "true" if item["higher_is_better"] else "false",
        "value_kzt_per_unit": _plain(item["value_kzt_per_unit"]),
        "min_value": _plain(item.get("min_value")),
        "max_value": _plain(item.get("max_value")),
    }


def pilot_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The pilot form's values for a stored pilot item; treated sites as "SITE, YYYY-MM-DD" lines."""
    lines = [f"{s['site']}, {_plain(s['go_live'])}" for s in item.get("sites") or []]
    return {
        "code": item["code"],
        **_name_fields(item),
        "subsidiary": item["subsidiary"],
        "use_case": item["use_case"],
        "sites": "\n".join(lines),
        "controls": list(item.get("controls") or []),
        "metrics": list(item.get("metrics") or []),
        "capex_kzt": _plain(item["capex_kzt"]),
        "opex_kzt_per_year": _plain(item["opex_kzt_per_year"]),
    }


def empty_fields(names: tuple[str, ...]) -> dict[str, Any]:
    """A blank form (a new code): empty text, and empty lists for the multi-selects."""
    return {name: [] if name in ("controls", "metrics") else "" for name in names}


@dataclass(frozen=True, slots=True)
class RegistryForm:
    """One of the Admin page's registry forms: its registry section, its fields and its two builders."""

    kind: str
    section: Literal["sites", "metrics", "pilots"]
    fields: tuple[str, ...]
    document: Callable[[Mapping[str, object]], dict[str, Any]]
    prefill: Callable[[Mapping[str, Any]], dict[str, Any]]


FORMS: dict[str, RegistryForm] = {
    "site": RegistryForm("site", "sites", SITE_FIELDS, site_document, site_fields),
    "metric": RegistryForm("metric", "metrics", METRIC_FIELDS, metric_document, metric_fields),
    "pilot": RegistryForm("pilot", "pilots", PILOT_FIELDS, pilot_document, pilot_fields),
}
