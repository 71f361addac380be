"""The same panel in any representation an analyst may bring gives the same answer, or a refusal in words.

Baseline: the polars frame of `test_metamorphic.panel` (site text, time Date or Int64, outcome Float64, go-live
Date/Int64 with null for never treated). Every representation below must give every number of the result (the
`flat` view of `test_metamorphic`: headline, event study, counterfactual path, robustness methods, placebo and
leave-one-out diagnostics) bit for bit; only labels that the representation itself renames may differ.

Designs: difference-in-differences with controls (weekly, wild bootstrap; monthly, HAR with annual harmonics),
staggered adoption (daily with gaps), interrupted time series (daily structural, monthly segmented) and
synthetic control (daily), plus the staggered integer-period design for integer representations.

Rules pinned here (and where a representation is not the same panel):
- A representation that changes the values is compared with the same change made on the baseline: an int
  outcome with the rounded floats, float32 with the float32 values, a Decimal with its decimal values.
- Time stamps are dates: a datetime (any unit, pandas Timestamp, a time of day) is its date, a time-zone aware
  one its date in its own zone (local midnight in Asia/Almaty is that day), text in an unambiguous form reads
  as a date, a pandas period as its first day. Integer periods are not dates: they carry no calendar, so
  seasonal terms (day of week, annual harmonics) and weekly event-study bins of daily data do not apply to them,
  so ITS daily, DiD-HAR monthly and a daily event study legitimately differ from the dated panel; the numbers
  that use no calendar agree.
- A go-live maps to the period that holds it where the labels are the periods' first days (every label the 1st
  of a month, or a Monday a week or more apart: how the warehouse stores them), otherwise to the first period at
  or after it; so a go-live on 15 June makes June the first treated month whether months are stamped on the 1st
  or the 30th. A whole-period shift of every label and go-live (weekly data on Sundays instead of Mondays,
  monthly on the last day instead of the 1st) changes nothing.
- An outcome that is null, NaN, pd.NA or ±inf is a gap: the same numbers as without those rows, and the count
  is in `diagnostics["design"]["n_missing_outcome"]`.
- Refused (InvalidPanel, a ValueError, with a message in ru/kk/en): duplicate (site, period) rows whatever
  their values, a go-live that varies within a site (a null on some rows included), a go-live of another kind
  than the time, an empty frame, a missing or misspelt column, a frame that is not a frame.
- Known and left: site codes as int 1..12 vs text "1".."12" order the sites differently (numbers vs text), so
  Monte Carlo numbers drawn per site in label order (wild bootstrap) move within their Monte Carlo error; the
  closed forms agree (checked on the HAR design).
"""

from __future__ import annotations

import dataclasses
import decimal
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from test_metamorphic import CASES, QUIET, Case, flat, panel

from pilot_roi import estimate_effect
from pilot_roi.errors import InvalidInput
from pilot_roi.estimation.panel import InvalidPanel, prepare_panel
from pilot_roi.i18n import catalog

_BY_NAME = {c.name: c for c in CASES}
DESIGNS = {
    "did_weekly": _BY_NAME["did_wild_bootstrap_weekly"],
    # the HAR design without diagnostics and robustness (they triple its run time and are covered elsewhere)
    "did_monthly": dataclasses.replace(_BY_NAME["did_har_monthly_gaps"], options=QUIET),
    "staggered_daily": _BY_NAME["staggered_never_treated_daily_gaps"],
    "its_daily": _BY_NAME["its_structural_daily_pooled"],
    "its_monthly": _BY_NAME["its_segmented_monthly"],
    "sc_daily": _BY_NAME["synthetic_control_one_treated_daily"],
}
INT_DESIGN = _BY_NAME["staggered_influence_function_int"]
TZ = "Asia/Almaty"
NAMES = ("site", "t", "value", "g")
HEADLINE = ("status", "method", "n_treated", "n_controls", "att", "se", "ci_low", "ci_high", "p_value", "att_pct")


def run(case: Case, df: Any, names: tuple[str, str, str, str] = NAMES) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimate_effect(
            df, *names, method=case.method, seed=case.seed, n_boot=199,
            method_options=case.method_options, **case.options,
        )  # fmt: skip


_BASE: dict[int, dict[str, Any]] = {}


def base(case: Case) -> dict[str, Any]:
    if id(case) not in _BASE:
        _BASE[id(case)] = flat(run(case, panel(case)))
    return _BASE[id(case)]


def differences(expected: dict[str, Any], got: dict[str, Any], labels_renamed: bool = False) -> list[str]:
    """Every key whose value is not bit for bit the same (NaN equals NaN)."""
    out = []
    for key in sorted(set(expected) | set(got)):
        if labels_renamed and key.endswith("most_influential_site"):
            continue
        a, b = expected.get(key, "<absent>"), got.get(key, "<absent>")
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            same = a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        elif isinstance(a, float) and isinstance(b, float):
            same = a == b or (np.isnan(a) and np.isnan(b))
        else:
            same = type(a) is type(b) and a == b
        if not same:
            out.append(f"{key}: {a!r} != {b!r}")
    return out


def assert_same(case: Case, got: Any, expected: dict[str, Any] | None = None, labels_renamed: bool = False) -> None:
    diff = differences(base(case) if expected is None else expected, flat(got), labels_renamed)
    assert not diff, "\n".join(diff[:8])


def _dates(df: pl.DataFrame, fn: Callable[[pl.Expr], pl.Expr]) -> pl.DataFrame:
    return df.with_columns(fn(pl.col("t")), fn(pl.col("g")))


def _pd_dates(df: pl.DataFrame, fn: Callable[[pd.Series], Any]) -> pd.DataFrame:
    out = df.to_pandas()
    out["t"] = fn(pd.to_datetime(out["t"]))
    out["g"] = fn(pd.to_datetime(out["g"]))
    return out


def _objects(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype=object)


# Representations of a dated panel: (frame) -> frame that must give the baseline's numbers bit for bit.
REPRESENTATIONS: dict[str, Callable[[pl.DataFrame], Any]] = {
    "lazy_polars": lambda df: df.lazy(),
    "pandas": lambda df: df.to_pandas(),
    "pandas_index_reversed": lambda df: df.to_pandas().set_axis(pd.Index(np.arange(df.height)[::-1] * 3 + 7)),
    "pandas_index_text": lambda df: df.to_pandas().set_axis(pd.Index([f"r{i}" for i in range(df.height)])),
    "pandas_index_multi": lambda df: df.to_pandas().set_index(["site", "t"], drop=False),
    "pandas_rows_shuffled": lambda df: df.to_pandas().sample(frac=1.0, random_state=5),
    "pandas_categorical_sites": lambda df: df.to_pandas().astype({"site": "category"}),
    "pandas_categorical_sites_reversed": lambda df: df.to_pandas().assign(
        site=lambda d: pd.Categorical(d["site"], categories=sorted(d["site"].unique(), reverse=True), ordered=True)
    ),
    "polars_categorical_sites": lambda df: df.with_columns(pl.col("site").cast(pl.Categorical)),
    "polars_enum_sites_reversed": lambda df: df.with_columns(
        pl.col("site").cast(pl.Enum(sorted(df["site"].unique().to_list(), reverse=True)))
    ),
    "pandas_nullable": lambda df: df.to_pandas().convert_dtypes(),
    "pandas_pyarrow": lambda df: df.to_pandas(use_pyarrow_extension_array=True),
    "outcome_float64_pyarrow": lambda df: df.to_pandas().astype({"value": "double[pyarrow]"}),
    "sites_int_in_order": lambda df: df.with_columns(pl.col("site").str.slice(1).cast(pl.Int64) + 100).to_pandas(),
    "time_date_objects": lambda df: df.to_pandas().assign(t=_objects(df["t"].to_list()), g=_objects(df["g"].to_list())),
    "time_datetime64_ns": lambda df: _pd_dates(df, lambda s: s.astype("datetime64[ns]")),
    "time_datetime64_us": lambda df: _pd_dates(df, lambda s: s.astype("datetime64[us]")),
    "time_datetime64_s": lambda df: _pd_dates(df, lambda s: s.astype("datetime64[s]")),
    "time_timestamp_objects": lambda df: _pd_dates(df, lambda s: _objects(list(s))),
    "time_tz_almaty_pandas": lambda df: _pd_dates(df, lambda s: s.dt.tz_localize(TZ)),
    "time_tz_almaty_polars": lambda df: _dates(df, lambda c: c.cast(pl.Datetime("us")).dt.replace_time_zone(TZ)),
    "time_datetime_polars": lambda df: _dates(df, lambda c: c.cast(pl.Datetime("ns"))),
    "time_iso_text": lambda df: _dates(df, lambda c: c.dt.strftime("%Y-%m-%d")),
    "time_iso_text_pandas": lambda df: _dates(df, lambda c: c.dt.strftime("%Y-%m-%d")).to_pandas(),
    "time_iso_text_pyarrow": lambda df: _dates(df, lambda c: c.dt.strftime("%Y-%m-%d")).to_pandas(
        use_pyarrow_extension_array=True
    ),
    "time_dotted_text": lambda df: _dates(df, lambda c: c.dt.strftime("%d.%m.%Y")),
    "go_live_datetime_at_noon": lambda df: df.with_columns(pl.col("g").cast(pl.Datetime("us")) + pl.duration(hours=12)),
    "go_live_iso_text": lambda df: df.with_columns(pl.col("g").dt.strftime("%Y-%m-%d")),
    "go_live_text_with_nan": lambda df: df.to_pandas().assign(
        g=[np.nan if d is None else d.isoformat() for d in df["g"].to_list()]
    ),
    "go_live_nat": lambda df: df.to_pandas().assign(g=lambda d: pd.to_datetime(d["g"])),
    "go_live_none_objects": lambda df: df.to_pandas().assign(g=_objects(df["g"].to_list())),
    "go_live_string_dtype": lambda df: df.to_pandas().assign(
        g=pd.array([None if d is None else d.isoformat() for d in df["g"].to_list()], dtype="string")
    ),
}


@pytest.mark.parametrize("design", DESIGNS)
def test_every_representation_of_a_dated_panel_gives_the_baseline_numbers(design: str) -> None:
    case = DESIGNS[design]
    df = panel(case)
    failures = []
    for name, represent in REPRESENTATIONS.items():
        diff = differences(base(case), flat(run(case, represent(df))), labels_renamed=name.startswith("sites_int"))
        if diff:
            failures.append(f"{name}: {diff[:3]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("design", ["did_weekly", "did_monthly", "its_monthly"])
@pytest.mark.parametrize("frame", ["polars", "pandas"])
def test_column_names_with_spaces_and_cyrillic(design: str, frame: str) -> None:
    case = DESIGNS[design]
    names = ("код объекта", "неделя / month", "выручка, тг", "go live")
    df = panel(case).rename(dict(zip(NAMES, names, strict=True)))
    got = flat(run(case, df if frame == "polars" else df.to_pandas(), names))
    assert got.pop("diag.outcome", None) is None and differences(base(case), got) == []


@pytest.mark.parametrize("design", ["did_weekly", "did_monthly", "staggered_daily", "its_monthly", "sc_daily"])
@pytest.mark.parametrize("kind", ["int64", "int32_pandas", "float32", "float32_pandas", "decimal", "decimal_pandas"])
def test_outcome_types_give_the_numbers_of_their_values(design: str, kind: str) -> None:
    case = DESIGNS[design]
    df = panel(case)
    if kind.startswith("int"):
        expected = df.with_columns(pl.col("value").round(0))
        given: Any = expected.with_columns(pl.col("value").cast(pl.Int64))
        given = given.to_pandas().astype({"value": "int32"}) if kind == "int32_pandas" else given
    elif kind.startswith("float32"):
        expected = df.with_columns(pl.col("value").cast(pl.Float32).cast(pl.Float64))
        given = df.with_columns(pl.col("value").cast(pl.Float32))
        given = given.to_pandas() if kind == "float32_pandas" else given
    else:  # decimals of 6 places: the baseline holds the double nearest to each
        text = [f"{v:.6f}" for v in df["value"]]
        expected = df.with_columns(pl.Series("value", [float(s) for s in text]))
        if kind == "decimal":
            given = df.with_columns(pl.Series("value", text).str.to_decimal(scale=6))
            assert isinstance(given.schema["value"], pl.Decimal)
        else:
            given = df.to_pandas().assign(value=[decimal.Decimal(s) for s in text])
    assert_same(case, run(case, given), flat(run(case, expected)))


WEEKLY = {
    "did_weekly": DESIGNS["did_weekly"],
    "its_weekly": _BY_NAME["its_structural_weekly"],
    "sc_weekly": _BY_NAME["synthetic_control_conformal"],
}


@pytest.mark.parametrize("design", WEEKLY)
@pytest.mark.parametrize("go_live", ["moved_with_the_weeks", "on_the_monday"])
def test_weekly_data_on_sundays_or_mondays_give_the_same_numbers(design: str, go_live: str) -> None:
    # weeks stamped on the Sunday are not read as ISO week starts (a Sunday may end a week or begin one), so a
    # go-live on a Monday maps to the next Sunday stamp, the first period at or after it: with Monday stamps that
    # is the week that opens on the next Monday (a go-live on the Sunday itself would be inside the Monday week)
    case = WEEKLY[design]
    df = panel(case)
    sundays = df.with_columns(pl.col("t") - pl.duration(days=1))
    if go_live == "moved_with_the_weeks":
        sundays = sundays.with_columns(pl.col("g") - pl.duration(days=1))
        assert_same(case, run(case, sundays))
    else:
        shifted = flat(run(case, df.with_columns(pl.col("g") + pl.duration(days=7))))  # the next Monday
        assert_same(case, run(case, sundays), shifted)


@pytest.mark.parametrize("design", ["did_monthly", "its_monthly"])
@pytest.mark.parametrize(
    "labels",
    [
        "month_end",  # both the months and the go-lives on the last day
        "month_end_go_live_on_the_1st",  # the months on the last day, the go-live the day it happened
        "pandas_period",
        "pandas_month_end_timestamps",
    ],
)
def test_monthly_data_on_the_1st_or_the_last_day_give_the_same_numbers(design: str, labels: str) -> None:
    # before the fix, DiD's annual harmonics took their phase from the day of the year: month ends moved it by a
    # varying month length and the estimate by 0.2% of its standard error
    case = DESIGNS[design]
    df = panel(case)
    given: Any = {
        "month_end": lambda: _dates(df, lambda c: c.dt.month_end()),
        "month_end_go_live_on_the_1st": lambda: df.with_columns(pl.col("t").dt.month_end()),
        "pandas_period": lambda: _pd_dates(df, lambda s: s.dt.to_period("M")),
        "pandas_month_end_timestamps": lambda: _pd_dates(df, lambda s: s + pd.offsets.MonthEnd(0)),
    }[labels]()
    assert_same(case, run(case, given))


# a weekly pandas period starts on its Monday: the weekly design's period_starts case
_INSIDE = [
    (design, labels)
    for design in ("did_monthly", "its_monthly", "did_weekly")
    for labels in ("period_starts", "period_ends", "pandas_period")
    if (design, labels) != ("did_weekly", "pandas_period")
]


@pytest.mark.parametrize(("design", "labels"), _INSIDE)
@pytest.mark.parametrize("days_in", [1, 2, 14, 27])
def test_a_go_live_inside_a_period_makes_that_period_the_first_treated(design: str, days_in: int, labels: str) -> None:
    # the baseline's go-lives open their periods; the same go-lives `days_in` days later are still inside them
    # (a week holds 7 days: the weekly design takes 1, 2 and 6). Before the rule, months stamped on the 1st moved
    # the go-live to the next month and counted the half-treated month as pre-period
    case = DESIGNS[design]
    df = panel(case)
    if case.kind == "weekly":
        days_in = {1: 1, 2: 2, 14: 6, 27: 6}[days_in]
    later = pl.col("g") + pl.duration(days=days_in)
    given: Any = {
        "period_starts": lambda: df.with_columns(later),
        "period_ends": lambda: df.with_columns(pl.col("t").dt.month_end(), later),
        "pandas_period": lambda: (
            df.with_columns(later).to_pandas().assign(t=lambda f: pd.to_datetime(f["t"]).dt.to_period("M"))
        ),
    }[labels]()
    if case.kind == "weekly" and labels == "period_ends":  # weeks stamped on their Sunday
        given = df.with_columns(pl.col("t") + pl.duration(days=6), later)
    got = run(case, given)
    assert_same(case, got)
    if labels != "period_ends":  # realized gain starts at the label of the period that holds the go-live
        assert got.diagnostics["design"]["first_go_live_used"] == df["g"].min()


@pytest.mark.parametrize(
    "represent",
    [
        pytest.param(lambda df: df.to_pandas(), id="pandas_int64_go_live_float_nan"),
        pytest.param(lambda df: df.to_pandas().convert_dtypes(), id="pandas_nullable_Int64"),
        pytest.param(lambda df: df.to_pandas(use_pyarrow_extension_array=True), id="pandas_pyarrow"),
        pytest.param(lambda df: df.with_columns(pl.col("t", "g").cast(pl.Int32)), id="polars_int32"),
        pytest.param(lambda df: df.with_columns(pl.col("t", "g").cast(pl.Float64)), id="polars_float_periods"),
        pytest.param(lambda df: df.with_columns(pl.col("t", "g") + 2000), id="periods_from_2000"),
        pytest.param(
            lambda df: df.with_columns(pl.col("site").str.slice(1).cast(pl.Int64) + 100), id="sites_int_in_order"
        ),
    ],
)
def test_integer_periods_in_any_representation(represent: Callable[[pl.DataFrame], Any]) -> None:
    case = INT_DESIGN
    assert_same(case, run(case, represent(panel(case))), labels_renamed=True)


@pytest.mark.parametrize("design", ["did_weekly", "staggered_daily", "sc_daily"])
def test_integer_periods_equal_the_dates_where_no_calendar_is_used(design: str) -> None:
    # periods counted in days (daily) or weeks (weekly) from the start: the same gaps, no calendar
    case = DESIGNS[design]
    df = panel(case)
    step = 1 if case.kind == "daily" else 7
    start = df["t"].min()
    ints = df.with_columns(((pl.col(c) - pl.lit(start)).dt.total_days() // step).cast(pl.Int64) for c in ("t", "g"))
    if design != "staggered_daily":
        assert_same(case, run(case, ints))
        return
    # daily dates get event-study bins of whole weeks, integers do not know they are days: the headline agrees
    got, expected = flat(run(case, ints)), base(case)
    assert [got[k] for k in HEADLINE] == [expected[k] for k in HEADLINE]


def test_site_codes_as_numbers_or_text_agree_on_closed_forms() -> None:
    # 1..12 sort as numbers, "1".."12" as text: another site order, the same closed-form numbers (HAR, no draws)
    case = DESIGNS["did_monthly"]
    df = panel(case)
    codes = {s: i + 1 for i, s in enumerate(sorted(df["site"].unique()))}
    numbers = df.with_columns(pl.col("site").replace_strict(codes, return_dtype=pl.Int64))
    a, b = flat(run(case, numbers)), flat(run(case, numbers.with_columns(pl.col("site").cast(pl.String))))
    for key in ("att", "se", "ci_low", "ci_high", "p_value", "att_pct"):
        assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-12), key


# --- gaps in the outcome ------------------------------------------------------------------------------------


@pytest.mark.parametrize("design", ["did_weekly", "its_monthly", "sc_daily"])
@pytest.mark.parametrize("missing", ["nan", "null", "inf", "-inf", "pd_NA", "pyarrow_null", "decimal_nan"])
def test_a_missing_or_infinite_outcome_is_a_counted_gap(design: str, missing: str) -> None:
    case = DESIGNS[design]
    df = panel(case)
    hit = (np.arange(df.height) % 17 == 3) & (df["t"] != df["g"]).fill_null(True).to_numpy()  # not on a go-live
    expected = flat(run(case, df.filter(pl.Series(~hit))))
    if missing in ("nan", "null", "inf", "-inf"):
        value = {"nan": float("nan"), "null": None, "inf": float("inf"), "-inf": float("-inf")}[missing]
        given: Any = df.with_columns(pl.when(pl.Series(hit)).then(value).otherwise(pl.col("value")).alias("value"))
    elif missing == "pd_NA":
        given = df.to_pandas().astype({"value": "Float64"})
        given.loc[hit, "value"] = pd.NA
    elif missing == "pyarrow_null":
        given = df.with_columns(pl.when(pl.Series(hit)).then(None).otherwise(pl.col("value")).alias("value"))
        given = given.to_pandas(use_pyarrow_extension_array=True)
    else:
        given = df.to_pandas().assign(value=[decimal.Decimal(f"{v:.6f}") for v in df["value"]])
        given.loc[hit, "value"] = decimal.Decimal("NaN")
        expected = flat(run(case, df.filter(pl.Series(~hit)).with_columns(pl.col("value").round(6))))
    res = run(case, given)
    assert_same(case, res, expected)
    assert res.diagnostics["design"]["n_missing_outcome"] == int(hit.sum())


def test_a_panel_without_missing_outcomes_says_none_are_missing() -> None:
    res = run(DESIGNS["did_weekly"], panel(DESIGNS["did_weekly"]))
    assert res.diagnostics["design"]["n_missing_outcome"] == 0


# --- refusals -------------------------------------------------------------------------------------------------


def _in_words(err: InvalidInput) -> None:
    """Every problem has its message in ru, kk and en, filled (no key, no placeholder left)."""
    texts = catalog()
    for p in err.problems:
        assert set(texts[p.key]) >= {"ru", "kk", "en"}, p.key
        for lang in ("ru", "kk", "en"):
            line = p.render(lang)
            assert p.key not in line and not re.search(r"\{\w+\}", line), line
            if lang != "en":
                assert re.search("[а-яА-ЯәғқңөұүһіӘҒҚҢӨҰҮҺІ]", line), line


def _weekly() -> pl.DataFrame:
    return panel(DESIGNS["did_weekly"])


def _one_row_changed(df: pd.DataFrame, column: str, value: Any, treated: bool = True) -> pd.DataFrame:
    out = df.copy()
    rows = out.index[out["g"].notna()] if treated else out.index
    out.loc[rows[3], column] = value
    return out


REFUSALS: list[Any] = [
    pytest.param(lambda: pl.concat([_weekly(), _weekly()[5:6]]), ["estimation.duplicate_rows"], id="duplicate_row"),
    pytest.param(
        lambda: pd.concat([_weekly().to_pandas(), _weekly().to_pandas().iloc[[5]].assign(value=0.0)]),
        ["estimation.duplicate_rows"],
        id="duplicate_pair_other_value",
    ),
    pytest.param(
        lambda: pd.concat([_weekly().to_pandas(), _weekly().to_pandas().iloc[[5]].assign(value=np.nan)]),
        ["estimation.duplicate_rows"],
        id="duplicate_pair_one_without_value",
    ),
    pytest.param(
        lambda: _weekly().with_columns(pl.col("t").dt.truncate("1mo")),  # weekly rows stamped with their month
        ["estimation.duplicate_rows"],
        id="weeks_stamped_with_their_month",
    ),
    pytest.param(
        lambda: _one_row_changed(_weekly().to_pandas(), "g", pd.Timestamp("2023-06-05")),
        ["estimation.go_live_varies"],
        id="go_live_inconsistent_in_a_site",
    ),
    pytest.param(
        lambda: _one_row_changed(_weekly().to_pandas(), "g", pd.NaT),
        ["estimation.go_live_varies"],
        id="go_live_null_on_one_row_of_a_treated_site",
    ),
    pytest.param(
        lambda: _weekly().with_columns(
            pl.when(pl.col("t") >= pl.col("g")).then(pl.col("g")).otherwise(None).alias("g")
        ),
        ["estimation.go_live_varies"],
        id="go_live_only_on_post_rows",
    ),
    pytest.param(lambda: _weekly().head(0), ["estimation.no_rows"], id="empty_polars"),
    pytest.param(lambda: _weekly().to_pandas().head(0), ["estimation.no_rows"], id="empty_pandas"),
    pytest.param(lambda: pd.DataFrame(), ["estimation.missing_column"] * 4, id="empty_pandas_without_columns"),
    pytest.param(lambda: _weekly().drop("g"), ["estimation.missing_column"], id="missing_column"),
    pytest.param(
        lambda: _weekly().rename({"site": "Site"}).to_pandas(), ["estimation.missing_column"], id="misspelt_column"
    ),
    pytest.param(
        lambda: _weekly().to_pandas().set_index("site"), ["estimation.missing_column"], id="site_in_the_pandas_index"
    ),
    pytest.param(
        lambda: _weekly().with_columns(pl.lit(float("nan")).alias("value")), ["estimation.no_rows"], id="no_values"
    ),
    pytest.param(
        lambda: _weekly().with_columns(pl.col("value").cast(pl.String)),
        ["estimation.outcome_not_numeric"],
        id="outcome_text",
    ),
    pytest.param(
        lambda: _one_row_changed(_weekly().to_pandas(), "t", pd.NaT, treated=False),
        ["estimation.null_time"],
        id="time_NaT",
    ),
    pytest.param(
        lambda: _one_row_changed(_weekly().to_pandas(), "site", None, treated=False),
        ["estimation.null_unit"],
        id="site_empty",
    ),
    pytest.param(
        lambda: _weekly().with_columns(pl.col("g").dt.strftime("%d.%m.%Y").fill_null("")),
        ["estimation.bad_date"],
        id="go_live_empty_text",
    ),
    pytest.param(
        lambda: _weekly().with_columns(pl.col("g").dt.year()), ["estimation.bad_go_live_type"], id="go_live_int_dates"
    ),
    pytest.param(
        lambda: _weekly().with_columns(pl.col("t").dt.ordinal_day()),
        ["estimation.bad_go_live_type"],
        id="go_live_date_int_periods",
    ),
    pytest.param(
        lambda: (
            _weekly()
            .to_pandas()
            .assign(g=lambda d: d["g"].astype(object).where(d.index % 2 == 0, d["g"].astype(str)).astype(object))
        ),
        ["estimation.bad_go_live_type"],
        id="go_live_mixed_objects",
    ),
    pytest.param(lambda: _weekly().to_dicts(), ["estimation.not_a_frame"], id="list_of_dicts"),
    pytest.param(lambda: _weekly().to_numpy(), ["estimation.not_a_frame"], id="numpy_array"),
]


@pytest.mark.parametrize(("make", "keys"), REFUSALS)
def test_a_panel_that_cannot_be_read_is_refused_in_words(make: Callable[[], Any], keys: list[str]) -> None:
    case = DESIGNS["did_weekly"]
    with pytest.raises(InvalidPanel) as err:
        run(case, make())
    assert isinstance(err.value, ValueError)
    assert [p.key for p in err.value.problems] == keys
    _in_words(err.value)


def test_a_single_site_is_an_answer_not_a_traceback() -> None:
    one = _weekly().filter(pl.col("site") == "s00")
    did = run(DESIGNS["did_weekly"], one)
    assert did.status == "insufficient_data" and did.reason
    its = estimate_effect(one, *NAMES, robustness=False, diagnostics=False)
    assert its.ok and its.method == "its"
    control = estimate_effect(_weekly().filter(pl.col("site") == "s11"), *NAMES, robustness=False, diagnostics=False)
    assert control.status == "insufficient_data" and control.reason


def test_prepare_panel_reads_an_enum_of_sites_in_label_order() -> None:
    # the bug: sites were ordered by the Enum's categories, so bootstrap draws (per site, in label order) and the
    # estimate's summation order changed with a representation of the same codes
    df = _weekly()
    reversed_enum = df.with_columns(pl.col("site").cast(pl.Enum(sorted(df["site"].unique().to_list(), reverse=True))))
    a, b = prepare_panel(df, *NAMES), prepare_panel(reversed_enum, *NAMES)
    assert a.unit_labels.tolist() == b.unit_labels.tolist() == sorted(df["site"].unique().to_list())
    assert np.array_equal(a.y, b.y) and np.array_equal(a.first_treated, b.first_treated)
