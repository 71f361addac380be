"""Numbers read out of loosely typed records: warehouse rows, diagnostics JSON, registry fields."""

from __future__ import annotations

import math


def finite_or_none(value: object) -> float | None:
    """`value` as a finite float; None for None, a bool (a flag is not a number), text that is not a number,
    NaN and infinities."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
