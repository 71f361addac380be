"""Dash components turned into their JSON wire form once, for views that are cached and served many times.

Dash serialises a callback's output on every request, calling each component's `to_plotly_json` from the
JSON encoder's Python fallback: for the portfolio's ~4,500 components that was ~50 ms of CPU per request
even when the view came from the cache. Plain dicts and lists go through the encoder's C path instead.
The browser receives the same JSON either way.
"""

from __future__ import annotations

from typing import Any

from dash.development.base_component import Component

_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types that hold no component: skipped without a call (a chart's data lists hold thousands of them)."""


def wire(value: Any) -> Any:
    """`value` with every component (nested in props, lists, tuples or dicts) replaced by its JSON form."""
    if isinstance(value, Component):
        value = value.to_plotly_json()
    if isinstance(value, dict):
        return {key: item if type(item) in _PLAIN else wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [item if type(item) in _PLAIN else wire(item) for item in value]
    return value
