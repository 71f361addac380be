"""A small registry shared by the registry and security tests: two subsidiaries, their sites, one daily metric."""

from __future__ import annotations

import copy
from typing import Any

SUBSIDIARIES: list[dict[str, Any]] = [
    {"code": "KMG", "name": {"ru": "КазМунайГаз", "kk": "ҚазМұнайГаз", "en": "KazMunayGas"}, "sector": "oil_gas"},
    {"code": "KTZ", "name": {"ru": "КТЖ", "kk": "ҚТЖ", "en": "KTZ"}, "sector": "rail"},
]
SITES: dict[str, dict[str, Any]] = {
    "KMG-ANPZ": {"code": "KMG-ANPZ", "subsidiary": "KMG", "name": {"en": "Atyrau refinery"}, "region": "Atyrau"},
    "KMG-PNHZ": {"code": "KMG-PNHZ", "subsidiary": "KMG", "name": {"en": "Pavlodar refinery"}, "region": "Pavlodar"},
    "KMG-SHNOS": {"code": "KMG-SHNOS", "subsidiary": "KMG", "name": {"en": "Shymkent refinery"}, "region": "Shymkent"},
    "KTZ-AST": {"code": "KTZ-AST", "subsidiary": "KTZ", "name": {"en": "Astana depot"}, "region": "Astana"},
}
ENERGY_GJ: dict[str, Any] = {
    "code": "energy_gj", "name": {"ru": "Энергия", "kk": "Энергия", "en": "Energy use"}, "unit": "GJ",
    "frequency": "daily", "aggregation": "sum", "higher_is_better": False, "value_kzt_per_unit": 4200, "min_value": 0,
}  # fmt: skip


def sample_registry(*site_codes: str) -> dict[str, Any]:
    """A fresh registry document (a deep copy: callers may change it) with the named sites, in that order."""
    return copy.deepcopy(
        {"subsidiaries": SUBSIDIARIES, "sites": [SITES[c] for c in site_codes], "metrics": [ENERGY_GJ]}
    )
