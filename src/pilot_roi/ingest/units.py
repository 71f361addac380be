"""Units as engineers write them, and the conversions between them.

Each spelling maps to a canonical unit; each canonical unit has a dimension and a factor to that dimension's
base unit. A value converts from the file's unit to the metric's registry unit when both share a dimension.
A registry unit not listed here accepts only its own spelling (after normalisation).
"""

from __future__ import annotations

import re

# canonical unit -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "t": ("mass", 1.0),
    "kt": ("mass", 1_000.0),
    "Mt": ("mass", 1_000_000.0),
    "kg": ("mass", 0.001),
    "kWh": ("energy", 1.0),
    "Wh": ("energy", 0.001),
    "MWh": ("energy", 1_000.0),
    "GWh": ("energy", 1_000_000.0),
    "GJ": ("energy", 1e9 / 3.6e6),
    "MJ": ("energy", 1e6 / 3.6e6),
    "TJ": ("energy", 1e12 / 3.6e6),
    "Gcal": ("energy", 4.1868e9 / 3.6e6),
    "Mcal": ("energy", 4.1868e6 / 3.6e6),
    "m3": ("volume", 1.0),
    "thousand m3": ("volume", 1_000.0),
    "million m3": ("volume", 1_000_000.0),
    "l": ("volume", 0.001),
    "h": ("time", 1.0),
    "min": ("time", 1 / 60),
    "day": ("time", 24.0),
    "km": ("length", 1.0),
    "m": ("length", 0.001),
    "thousand km": ("length", 1_000.0),
    "pcs": ("count", 1.0),
    "thousand pcs": ("count", 1_000.0),
    "%": ("percent", 1.0),
    "KZT": ("money", 1.0),
    "thousand KZT": ("money", 1_000.0),
    "million KZT": ("money", 1_000_000.0),
}

# spelling (normalised by `normalize_unit`) -> canonical unit
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "t": ("t", "т", "тн", "тонна", "тонн", "тонны", "tonne", "tonnes", "ton", "tons"),
    "kt": ("kt", "кт", "тыс т", "тыс тонн", "мың т", "мың тонна", "thousand t", "thousand tonnes"),
    "Mt": ("mt", "млн т", "млн тонн", "млн т", "million t"),
    "kg": ("kg", "кг"),
    "kWh": ("kwh", "квтч", "квт ч", "kw h"),
    "Wh": ("wh", "втч", "вт ч"),
    "MWh": ("mwh", "мвтч", "мвт ч", "тыс квтч", "мың квтч"),
    "GWh": ("gwh", "гвтч", "гвт ч", "млн квтч"),
    "GJ": ("gj", "гдж"),
    "MJ": ("mj", "мдж"),
    "TJ": ("tj", "тдж"),
    "Gcal": ("gcal", "гкал"),
    "Mcal": ("mcal", "мкал"),
    "m3": ("m3", "м3", "куб м", "мкуб", "cubic m", "cu m"),
    "thousand m3": ("тыс м3", "мың м3", "тыс куб м", "thousand m3", "1000 m3"),
    "million m3": ("млн м3", "million m3"),
    "l": ("l", "л", "литр", "литров", "litre", "liter"),
    "h": ("h", "hr", "hour", "hours", "ч", "час", "часов", "сағ", "сағат"),
    "min": ("min", "мин", "минут"),
    "day": ("day", "days", "сут", "сутки", "дн", "тәулік"),
    "km": ("km", "км"),
    "m": ("м",),
    "thousand km": ("тыс км", "мың км", "thousand km"),
    "pcs": ("pcs", "pc", "шт", "штук", "дана", "ед", "units", "unit"),
    "thousand pcs": ("тыс шт", "мың дана", "thousand pcs"),
    "%": ("%", "pct", "percent", "процент", "пайыз"),
    "KZT": ("kzt", "тенге", "теңге", "тг", "₸"),
    "thousand KZT": ("тыс тенге", "тыс тг", "мың теңге", "thousand kzt", "kkzt"),
    "million KZT": ("млн тенге", "млн тг", "млн теңге", "million kzt", "mkzt"),
}

_SEPARATORS = re.compile(r"[\s.·⋅*×_\-/]+")


def normalize_unit(text: str) -> str:
    """Lower case, superscript 3 → 3, dots, middle dots, stars and spaces removed between words kept as one space."""
    lowered = text.strip().lower().replace("³", "3").replace("\u00a0", " ")
    return _SEPARATORS.sub(" ", lowered).strip()


_CANONICAL: dict[str, str] = {}
for _canon, _spellings in _SPELLINGS.items():
    for _spelling in (*_spellings, _canon):
        _CANONICAL.setdefault(normalize_unit(_spelling), _canon)
        _CANONICAL.setdefault(normalize_unit(_spelling).replace(" ", ""), _canon)


def canonical_unit(text: str) -> str | None:
    """The canonical name of a unit spelling ("т" → "t", "кВт·ч" → "kWh"), or None if unknown."""
    norm = normalize_unit(text)
    return _CANONICAL.get(norm) or _CANONICAL.get(norm.replace(" ", ""))


def conversion_factor(given: str, registry_unit: str) -> float | None:
    """Multiply a value in `given` by this to express it in `registry_unit`; None when impossible or unknown.

    An empty `given` means the registry unit (factor 1).
    """
    if not given.strip():
        return 1.0
    if normalize_unit(given) == normalize_unit(registry_unit):
        return 1.0
    source, target = canonical_unit(given), canonical_unit(registry_unit)
    if source is None or target is None:
        return None
    (dim_s, f_s), (dim_t, f_t) = UNITS[source], UNITS[target]
    if dim_s != dim_t:
        return None
    return f_s / f_t


def is_known_unit(text: str) -> bool:
    """Whether a unit spelling is recognised at all."""
    return canonical_unit(text) is not None
