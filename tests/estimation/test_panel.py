from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot_roi.errors import InvalidInput
from pilot_roi.estimation.panel import from_arrays, prepare_panel


def _frame() -> pl.DataFrame:
    days = [dt.date(2024, 1, d) for d in range(1, 11)]
    rows = []
    for site, go in (("A", dt.date(2024, 1, 6)), ("B", None), ("C", None)):
        for i, d in enumerate(days):
            rows.append({"site": site, "day": d, "value": float(i + (5 if site == "A" else 0)), "go_live": go})
    return pl.DataFrame(rows)


def test_dates_are_indexed_and_go_live_mapped() -> None:
    p = prepare_panel(_frame(), "site", "day", "value", "go_live")
    assert p.time_kind == "date"
    assert p.n_units == 3 and p.n_times == 10 and p.is_balanced
    assert p.first_treated.tolist() == [5, -1, -1]
    assert np.all(np.diff(p.time_ordinal) == 1)
    assert p.post.sum() == 5


def test_pandas_and_polars_give_the_same_arrays() -> None:
    a = prepare_panel(_frame(), "site", "day", "value", "go_live")
    b = prepare_panel(_frame().to_pandas(), "site", "day", "value", "go_live")
    for name in ("unit_idx", "time_idx", "y", "first_treated", "time_ordinal"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_go_live_between_periods_maps_to_the_next_period() -> None:
    df = pl.DataFrame(
        {"u": [1, 1, 1, 2, 2, 2], "t": [2000, 2002, 2004] * 2, "y": [1.0] * 6, "g": [2001] * 3 + [None] * 3}
    )
    p = prepare_panel(df, "u", "t", "y", "g")
    assert p.time_kind == "int"
    assert p.first_treated.tolist() == [1, -1]


def test_never_treated_value_and_nan_mean_never() -> None:
    df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "g": [0, 0, 2.0, 2.0]})
    assert prepare_panel(df, "u", "t", "y", "g", never_treated_value=0).first_treated.tolist() == [-1, 1]
    df["g"] = [np.nan, np.nan, 2.0, 2.0]
    assert prepare_panel(df, "u", "t", "y", "g").first_treated.tolist() == [-1, 1]


def test_missing_outcomes_are_counted_not_silently_dropped() -> None:
    df = _frame().with_columns(
        pl.when(pl.col("day") == dt.date(2024, 1, 3)).then(None).otherwise(pl.col("value")).alias("value")
    )
    p = prepare_panel(df, "site", "day", "value", "go_live")
    assert p.n_missing_outcome == 3
    assert p.n_obs == 27
    assert p.n_times == 9  # the day with no value at all is not a period


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda df: df.drop("value"), "estimation.missing_column"),
        (lambda df: pl.concat([df, df.head(1)]), "estimation.duplicate_rows"),
        (
            lambda df: df.with_columns(
                pl.when(pl.col("day") == dt.date(2024, 1, 2))
                .then(dt.date(2024, 1, 9))
                .otherwise(pl.col("go_live"))
                .alias("go_live")
            ),
            "estimation.go_live_varies",
        ),
        (lambda df: df.with_columns(pl.lit("x").alias("value")), "estimation.outcome_not_numeric"),
        (lambda df: df.with_columns(pl.lit(None, pl.String).alias("site")), "estimation.null_unit"),
    ],
)
def test_bad_input_is_refused_with_a_message_key(mutate, key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        prepare_panel(mutate(_frame()), "site", "day", "value", "go_live")
    assert key in [p.key for p in err.value.problems]
    assert all(line for line in err.value.render("ru"))


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_never_changes_the_panel(rnd) -> None:
    df = _frame()
    perm = list(range(df.height))
    rnd.shuffle(perm)
    a = prepare_panel(df, "site", "day", "value", "go_live")
    b = prepare_panel(df[perm], "site", "day", "value", "go_live")
    assert (
        np.array_equal(a.y, b.y) and np.array_equal(a.unit_idx, b.unit_idx) and np.array_equal(a.time_idx, b.time_idx)
    )


def test_from_arrays_and_subsets() -> None:
    units, times = np.meshgrid(np.arange(4), np.arange(6), indexing="ij")
    p = from_arrays(
        units.ravel(), times.ravel(), np.arange(24.0), np.array([3, -1, -1, 2]), start_date=dt.date(2024, 1, 1)
    )
    assert p.time_kind == "date" and str(p.time_labels[0]) == "2024-01-01"
    sub = p.subset_units(np.array([True, False, True, True]))
    assert sub.n_units == 3 and sub.first_treated.tolist() == [3, -1, 2]
    assert np.array_equal(sub.wide()[1], p.wide()[2])
    with pytest.raises(ValueError, match="duplicate"):
        from_arrays(np.array([0, 0]), np.array([1, 1]), np.array([1.0, 2.0]), np.array([-1]))
