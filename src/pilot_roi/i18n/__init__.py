"""Russian, Kazakh and English text and number formats.

Messages live in `messages/*.yaml`, one file per part of the product, each key with `ru`, `kk` and `en`.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
LANGS = ("ru", "kk", "en")
# libyaml's loader when PyYAML was built with it: the pure-Python one spent ~0.5 s of every CLI command here
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Every message key with its text per language, merged from all catalogue files."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_MESSAGES_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"message key {key!r} defined twice (second time in {path.name})")
            merged[key] = texts
    return merged


def t(key: str, lang: str, **params: Any) -> str:
    """The message `key` in `lang`, with `{placeholders}` filled; falls back to English, then to the key."""
    texts = catalog().get(key)
    if texts is None:
        return key if not params else f"{key} {params}"
    template = texts.get(lang) or texts.get("en") or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


_UNIT_KEY_JUNK = re.compile(r"[^a-z0-9]+")


def unit_key(unit: str) -> str | None:
    """The message key of a registry unit: "1000 m3" → unit.1000_m3, "g/kWh" → unit.g_per_kwh, "%" → unit.percent.

    None for an empty unit or one with letters outside ASCII (already written in Russian or Kazakh).
    """
    text = unit.strip().lower().replace("³", "3").replace("%", " percent ").replace("/", " per ")
    if not text.isascii():
        return None
    slug = _UNIT_KEY_JUNK.sub("_", text).strip("_")
    return f"unit.{slug}" if slug else None


def unit_label(unit: str, lang: str) -> str:
    """A registry unit as the reader writes it ("t" → "т" in Russian); the registry text itself when it has no
    translation, so an unknown unit, or one an engineer already typed in Russian, is shown as entered."""
    key = unit_key(unit)
    if key is None or key not in catalog():
        return unit
    return t(key, lang)


def frequency_word(frequency: str, lang: str) -> str:
    """A metric's frequency in words ("monthly" → "ежемесячно"); an unknown one as its code."""
    key = f"dash.admin.form.frequency.{frequency}"
    word = t(key, lang)
    return frequency if word == key else word


_DECIMAL = {"ru": ",", "kk": ",", "en": "."}
_GROUP = {"ru": "\u00a0", "kk": "\u00a0", "en": ","}
_SCALES = {
    "ru": ((1e12, "трлн"), (1e9, "млрд"), (1e6, "млн"), (1e3, "тыс.")),
    "kk": ((1e12, "трлн"), (1e9, "млрд"), (1e6, "млн"), (1e3, "мың")),
    "en": ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k")),
}


def format_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """A number with the locale's thousands separator and decimal mark: 1 234,5 (ru, kk) or 1,234.5 (en)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", _DECIMAL.get(lang, ".")).replace("\x00", _GROUP.get(lang, ","))


def format_money(value: float | None, lang: str, decimals: int = 1) -> str:
    """Tenge in words a minister reads: "1,2 млрд ₸", "1.2 bn ₸"; small amounts in full."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    for scale, word in _SCALES.get(lang, _SCALES["en"]):
        if abs(value) >= scale:
            return f"{format_number(value / scale, lang, decimals)} {word} ₸"
    return f"{format_number(value, lang, 0)} ₸"


def format_percent(value: float | None, lang: str, decimals: int = 1) -> str:
    """A percentage with the locale's decimal mark: "-4,2 %" (ru, kk) or "-4.2%" (en)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    number = format_number(value, lang, decimals)
    return f"{number}%" if lang == "en" else f"{number}\u00a0%"
