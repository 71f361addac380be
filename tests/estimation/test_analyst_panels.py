"""`estimate_effect` on panels an analyst brings (not warehouse data): unusual but valid frames are read,
bad ones are refused with a ValueError that names the column or option, never a traceback from polars,
pyarrow or numpy, and never a silently different number."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pilot_roi import estimate_effect
from pilot_roi.errors import InvalidInput
from pilot_roi.estimation.panel import prepare_panel

FAST = {"diagnostics": False, "robustness": False}
START = dt.date(2024, 1, 1)


def _panel(n_units: int = 6, n_weeks: int = 14, go_week: int = 9) -> pd.DataFrame:
    """Weekly panel: units 0-1 go live at `go_week` (+3.0), the rest never; integer copies in t/g."""
    rng = np.random.default_rng(3)
    rows = []
    for u in range(n_units):
        treated = u < 2
        for w in range(n_weeks):
            rows.append(
                {
                    "site": f"S{u}",
                    "week": START + dt.timedelta(weeks=w),
                    "value": 10.0 + u + 0.1 * w + rng.normal() + (3.0 if treated and w >= go_week else 0.0),
                    "go_live": START + dt.timedelta(weeks=go_week) if treated else None,
                    "t": w + 1,
                    "g": go_week + 1 if treated else None,
                }
            )
    return pd.DataFrame(rows)


def _arrays(df: object, **names: str) -> tuple[list[int], list[int], list[float], list[int]]:
    cols = {"unit": "site", "time": "week", "outcome": "value", "first_treated": "go_live", **names}
    p = prepare_panel(df, cols["unit"], cols["time"], cols["outcome"], cols["first_treated"])
    return p.unit_idx.tolist(), p.time_idx.tolist(), p.y.tolist(), p.first_treated.tolist()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda df: df.drop(columns="value"), id="missing_column"),
        pytest.param(lambda df: pd.concat([df, df.head(1)]), id="duplicate_rows"),
        pytest.param(lambda df: df.assign(week="soon"), id="unreadable_date"),
        pytest.param(lambda df: df.assign(value=np.nan), id="no_outcome_values"),
        pytest.param(lambda df: df.head(0), id="empty_frame"),
    ],
)
def test_a_bad_panel_is_a_value_error_with_message_keys(mutate) -> None:
    with pytest.raises(ValueError) as err:
        estimate_effect(mutate(_panel()), "site", "week", "value", "go_live", **FAST)
    assert isinstance(err.value, InvalidInput) and err.value.problems
    assert all(line for line in err.value.render("kk"))


def test_text_dates_that_read_two_ways_are_refused() -> None:
    # Month starts written month-first: read day-first they would be 12 consecutive days (a daily panel).
    df = _panel(n_weeks=12).assign(
        week=lambda d: d["t"].map(lambda m: f"{m:02d}/01/2024"), go_live=lambda d: d["g"].map(lambda _: None)
    )
    with pytest.raises(InvalidInput) as err:
        prepare_panel(df, "site", "week", "value", "go_live")
    assert [p.key for p in err.value.problems] == ["estimation.bad_date"]
    assert "01/01/2024" in str(err.value)


@pytest.mark.parametrize(
    "fmt", ["%Y-%m-%d", "%Y-%m-%d 00:00:00", "%Y-%m-%dT00:00:00", "%Y-%m-%dT09:30:00+05:00", "%Y/%m/%d", "%d.%m.%Y"]
)
def test_unambiguous_text_dates_read_like_dates(fmt: str) -> None:
    base = _panel()
    text = base.assign(
        week=base["week"].map(lambda d: d.strftime(fmt)),
        go_live=base["go_live"].map(lambda d: None if d is None else d.strftime(fmt)),
    )
    assert _arrays(text) == _arrays(base)


@pytest.mark.parametrize(
    ("column", "never"),
    [
        ("go_live", "never"),  # text on a date column
        ("go_live", 0),  # R's 0 on a date column
        ("g", dt.date(1970, 1, 1)),  # a date on a numeric column
        ("g", "0"),  # text on a numeric column
        ("g", True),  # True == 1: would silently mark go-live 1 as never treated
    ],
)
def test_never_treated_value_of_another_kind_than_the_column_is_refused(column: str, never: object) -> None:
    time = "week" if column == "go_live" else "t"
    with pytest.raises(ValueError, match=f"never_treated_value=.*column '{column}'"):
        estimate_effect(_panel(), "site", time, "value", column, never_treated_value=never, **FAST)


def test_a_date_never_treated_value_matches_text_go_lives_as_dates() -> None:
    # Compared as text, "01.01.1970" would not match the date and the units would go live in 1970.
    df = _panel()
    df["go_live"] = df["go_live"].map(lambda d: "01.01.1970" if d is None else d.strftime("%d.%m.%Y"))
    p = prepare_panel(df, "site", "week", "value", "go_live", never_treated_value=dt.date(1970, 1, 1))
    assert p.first_treated.tolist() == [9, 9, -1, -1, -1, -1]


def test_r_zero_for_never_treated_is_refused_unless_declared() -> None:
    df = _panel().assign(t=lambda d: d["t"] + 2000, g=lambda d: (d["g"] + 2000).fillna(0).astype(int))
    with pytest.raises(ValueError, match=r"'g' is 0 for 4 unit\(s\).*never_treated_value=0"):
        estimate_effect(df, "site", "t", "value", "g", **FAST)
    res = estimate_effect(df, "site", "t", "value", "g", never_treated_value=0, **FAST)
    assert res.ok and res.method == "did" and res.n_controls == 4


def test_pandas_columns_the_panel_does_not_use_are_never_read() -> None:
    df = _panel()
    df["note"] = [1 if i % 2 else "x" for i in range(len(df))]  # pyarrow cannot convert this column
    df.columns = [*df.columns[:-2], "note", "note"]  # and two columns share a name
    assert _arrays(df) == _arrays(_panel())


def test_pandas_integer_column_labels() -> None:
    df = _panel()
    df.columns = list(range(df.shape[1]))
    assert _arrays(df, unit="0", time="1", outcome="2", first_treated="3") == _arrays(_panel())
    assert estimate_effect(df, 0, 1, 2, 3, **FAST).ok  # type: ignore[arg-type]


def test_pandas_object_columns_of_mixed_types() -> None:
    df = _panel()
    df["site"] = df["site"].map(lambda s: int(s[1:]) if s in ("S1", "S4") else s).astype(object)
    p = prepare_panel(df, "site", "week", "value", "go_live")
    assert sorted(p.unit_labels.tolist()) == ["1", "4", "S0", "S2", "S3", "S5"] and p.n_obs == len(df)
    clash = df.assign(site=df["site"].map(lambda s: "1" if s == "S0" else s))  # 1 and "1": one unit as text
    with pytest.raises(ValueError, match="'site' mixes unit label types"):
        prepare_panel(clash, "site", "week", "value", "go_live")
    bad_y = _panel().assign(value=lambda d: d["value"].astype(object))
    bad_y.loc[3, "value"] = "n/a"
    with pytest.raises(InvalidInput, match="value: The outcome must be numeric") as err:
        prepare_panel(bad_y, "site", "week", "value", "go_live")
    assert [p.key for p in err.value.problems] == ["estimation.outcome_not_numeric"]
    bad_t = _panel().assign(week=lambda d: d["week"].astype(object))
    bad_t.loc[3, "week"] = "2024-01-22"
    with pytest.raises(InvalidInput, match="week: The time column") as err:
        prepare_panel(bad_t, "site", "week", "value", "go_live")
    assert [p.key for p in err.value.problems] == ["estimation.bad_time_type"]


def test_pandas_periods_are_their_first_day() -> None:
    df = _panel()
    df["month"] = pd.to_datetime(df["week"]).dt.to_period("M")
    df["go_month"] = pd.to_datetime(df["go_live"]).dt.to_period("M")
    df = df.drop_duplicates(["site", "month"])
    p = prepare_panel(df, "site", "month", "value", "go_month")
    assert p.time_kind == "date" and [str(t) for t in p.time_labels] == [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
    ]
    assert p.first_treated.tolist() == [2, 2, -1, -1, -1, -1]


def test_a_boolean_outcome_is_a_zero_one_share() -> None:
    df = _panel()
    yes_no = df.assign(value=df["value"] > 13)
    p = prepare_panel(yes_no, "site", "week", "value", "go_live")
    assert p.y.tolist() == (df["value"] > 13).astype(float).tolist()
    assert estimate_effect(pl.from_pandas(yes_no), "site", "week", "value", "go_live", **FAST).ok


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("alpha", "0.05"),
        ("alpha", None),
        ("seed", 1.5),
        ("seed", None),
        ("seed", "abc"),
        ("n_boot", 199.5),
        ("few_treated", "3"),
        ("few_treated", -1),
        ("min_pre_periods", 0),
        ("min_post_periods", "2"),
        ("event_bin", -1),
        ("max_gap_share", "x"),
        ("diagnostics", "no"),
    ],
)
def test_option_values_are_checked_and_named(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{option}=.* is not allowed; give "):
        estimate_effect(_panel(), "site", "week", "value", "go_live", **{**FAST, option: value})


def test_numpy_scalars_are_fine_options() -> None:
    res = estimate_effect(_panel(), "site", "week", "value", "go_live", alpha=np.float64(0.1), seed=np.int64(7), **FAST)
    assert res.ok and type(res.diagnostics["alpha"]) is float and type(res.diagnostics["seed"]) is int


@pytest.mark.parametrize(
    ("method_options", "match"),
    [
        (["its"], "method_options must map a method name"),
        ({"diff": {}}, "method_options key='diff' is not allowed"),
        ({"its": 5}, r"method_options\['its'\] must be a dict"),
        ({"did": {"bogus": 1}}, "unknown did option"),
        ({"staggered_did": {"alpha": 0.9}}, "alpha=0.9 is not allowed"),
    ],
)
def test_method_options_are_checked(method_options: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        estimate_effect(_panel(), "site", "week", "value", "go_live", method_options=method_options, **FAST)  # type: ignore[arg-type]


def test_a_column_argument_must_be_a_name() -> None:
    with pytest.raises(ValueError, match=r"unit=\['site'\] must be the name of a column"):
        estimate_effect(_panel(), ["site"], "week", "value", "go_live", **FAST)  # type: ignore[arg-type]
