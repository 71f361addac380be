from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot_roi.errors import InvalidInput
from pilot_roi.estimation.panel import first_treated_period, from_arrays, period_days, period_months, prepare_panel


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


def _days(*iso: str) -> np.ndarray:
    return np.array(iso, dtype="datetime64[D]")


def _index(labels: np.ndarray, *go_lives: str) -> list[int]:
    go = (_days(*go_lives) - np.datetime64("1970-01-01", "D")).astype(np.int64)
    return first_treated_period(labels, go).tolist()


def test_period_lengths_follow_the_calendar_not_the_gaps() -> None:
    assert period_months(_days("2024-01-01", "2024-02-01", "2024-05-01")) == 1  # months with two missing
    assert period_months(_days("2024-01-01", "2024-07-01", "2025-04-01")) == 3
    assert period_months(_days("2023-01-01", "2025-01-01")) == 12
    assert period_months(_days("2024-01-01", "2024-01-31")) is None
    assert period_months(_days("2024-01-01")) is None  # one label: nothing to say
    assert period_days(_days("2024-01-01", "2024-01-08", "2024-01-29")) == 7  # Mondays
    assert period_days(_days("2024-01-07", "2024-01-14")) is None  # Sundays: a start or an end?
    assert period_days(_days("2024-01-01", "2024-01-02")) is None  # daily data is not weeks


def test_a_go_live_maps_to_the_period_that_holds_it_where_labels_open_their_periods() -> None:
    months = _days("2024-01-01", "2024-02-01", "2024-03-01", "2024-05-01")  # April missing
    assert _index(months, "2024-02-01", "2024-02-15", "2024-02-29", "2024-03-01") == [1, 1, 1, 2]
    assert _index(months, "2024-04-10") == [3]  # a month with no label: the next period
    assert _index(months, "2023-12-20", "2024-05-31", "2024-06-01") == [0, 3, 4]
    quarters = _days("2024-01-01", "2024-04-01", "2024-07-01")
    assert _index(quarters, "2024-03-31", "2024-04-02", "2024-09-30") == [0, 1, 2]
    weeks = _days("2024-01-01", "2024-01-08", "2024-01-15")
    assert _index(weeks, "2024-01-10", "2024-01-14", "2024-01-15") == [1, 1, 2]


def test_a_go_live_maps_to_the_next_period_where_labels_are_points_or_ends() -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-10"))
    assert _index(days, "2024-01-05") == [4]
    month_ends = _days("2024-01-31", "2024-02-29", "2024-03-31")
    assert _index(month_ends, "2024-02-15", "2024-02-29", "2024-03-01") == [1, 1, 2]
    sundays = _days("2024-01-07", "2024-01-14")
    assert _index(sundays, "2024-01-08") == [1]


def test_a_monthly_go_live_in_mid_month_treats_that_month() -> None:
    months = [dt.date(2024, m, 1) for m in range(1, 7)]
    df = pl.DataFrame(
        {
            "site": ["A"] * 6 + ["B"] * 6,
            "month": months * 2,
            "value": [1.0] * 12,
            "go_live": [dt.date(2024, 3, 15)] * 6 + [None] * 6,
        }
    )
    p = prepare_panel(df, "site", "month", "value", "go_live")
    assert p.first_treated.tolist() == [2, -1]  # March, live for half of it, is no longer pre-period
    assert p.post.sum() == 4


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
