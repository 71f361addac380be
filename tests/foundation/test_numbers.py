"""finite_or_none: the one reader of numbers out of warehouse rows and diagnostics JSON."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from pilot_roi.numbers import finite_or_none


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (-2.5, -2.5),
        ("3.25", 3.25),
        (Decimal("12.5"), 12.5),
        (np.float64(0.125), 0.125),
        (np.int64(7), 7.0),
    ],
)
def test_numbers_come_back_as_floats(value: object, expected: float) -> None:
    number = finite_or_none(value)
    assert isinstance(number, float)
    assert number == expected


@pytest.mark.parametrize("value", [None, True, False, "abc", "", math.nan, math.inf, -math.inf, [1.0], {"p": 0.1}])
def test_what_is_not_a_finite_number_is_none(value: object) -> None:
    # a flag such as "parameter_uncertainty": true is not the number 1
    assert finite_or_none(value) is None
