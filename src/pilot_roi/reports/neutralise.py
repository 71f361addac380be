"""Formula-injection neutralisation for text cells of XLSX and CSV reports.

`pilot_roi.safe_export.neutralise_value` is the shared rule (a leading apostrophe before `=`, `+`, `-`,
`@`, tab, carriage return). Reports add two cases a user could type into a pilot or file name: the
trigger after leading spaces, and the full-width forms (＝ ＋ － ＠) that some spreadsheets normalise.
Numbers are written as numbers and need nothing.
"""

from __future__ import annotations

from pilot_roi.safe_export import neutralise_value

_EXTRA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def neutralise(text: str) -> str:
    """`text` made inert in a spreadsheet (shown as text, never evaluated)."""
    out = str(neutralise_value(text))
    if out and out.lstrip(" \u00a0")[:1] in _EXTRA_TRIGGERS:
        return "'" + out
    return out
