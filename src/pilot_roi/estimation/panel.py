"""A long panel (unit × time → outcome) turned into integer-indexed numpy arrays, validated once.

Every estimator in `pilot_roi.estimation` takes a `PanelData`, never a DataFrame: the boundary
(`prepare_panel`) converts, validates and records what it could not use; the methods only see arrays.

Interface (stable; the synthetic-control and ITS modules rely on it):

- `prepare_panel(df, unit, time, outcome, first_treated, *, never_treated_value=None, frequency=None) -> PanelData`
- `PanelData` fields (all numpy arrays are read-only):
    `unit_idx`      int64 (n_obs,)   index into `unit_labels`
    `time_idx`      int64 (n_obs,)   index into `time_labels`
    `y`             float64 (n_obs,) outcome, finite
    `first_treated` int64 (n_units,) time index of the unit's first treated period (go-live), -1 for
                    never treated, `n_times` when the go-live falls after the last observed period
    `unit_labels`   (n_units,)       original unit labels, sorted
    `time_labels`   (n_times,)       sorted unique observed times: datetime64[D] for dates, int64 for ints
    `time_ordinal`  int64 (n_times,) days since 1970-01-01 for dates, the integer itself for ints; use its
                    differences for calendar gaps (a missing day) and for seasonality
    `time_kind`     "date" | "int"
    `unit`, `time`, `outcome`, `first_treated_col`: the original column names
    `n_missing_outcome`: rows whose outcome was null/NaN/inf (kept out of the arrays, counted here)
    `frequency`     the caller's stated frequency ("daily" ... "yearly"; the labels checked to start their
                    periods), or None: the design reads it from the spacing of the labels
  Observations are sorted by (unit_idx, time_idx); (unit, time) pairs are unique.
- Helpers: `n_units`, `n_times`, `n_obs`, `treated` (bool per unit), `never_treated` (bool per unit),
  `post` (bool per observation: the unit is treated and the period is at or after its go-live),
  `is_balanced`, `wide()` → float64 (n_units, n_times) with NaN for missing cells, `observed()` → the bool
  mask of the cells that have a value, `time_frame(values)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import numpy as np
import polars as pl

from pilot_roi.errors import InvalidInput, Problem
from pilot_roi.estimation.options import FREQUENCIES, check_choice, check_frequency

TimeKind = Literal["date", "int"]

_EPOCH = np.datetime64("1970-01-01", "D")
_MONDAY = 4  # 1970-01-05, a Monday, is day 4


@dataclass(frozen=True, slots=True)
class PanelData:
    """A validated long panel as numpy arrays (shapes and meaning in the module docstring)."""

    unit_idx: np.ndarray
    time_idx: np.ndarray
    y: np.ndarray
    first_treated: np.ndarray
    unit_labels: np.ndarray
    time_labels: np.ndarray
    time_ordinal: np.ndarray
    time_kind: TimeKind
    unit: str = "unit"
    time: str = "time"
    outcome: str = "outcome"
    first_treated_col: str = "first_treated"
    n_missing_outcome: int = 0
    frequency: str | None = None

    @property
    def n_units(self) -> int:
        """Number of units (sites)."""
        return int(self.unit_labels.shape[0])

    @property
    def n_times(self) -> int:
        """Number of distinct observed periods."""
        return int(self.time_labels.shape[0])

    @property
    def n_obs(self) -> int:
        """Number of (unit, time) observations with a finite outcome."""
        return int(self.y.shape[0])

    @property
    def treated(self) -> np.ndarray:
        """Bool (n_units,): the unit has a go-live (inside or after the panel)."""
        return np.asarray(self.first_treated >= 0)

    @property
    def never_treated(self) -> np.ndarray:
        """Bool (n_units,): the unit never goes live."""
        return np.asarray(self.first_treated < 0)

    @property
    def post(self) -> np.ndarray:
        """Bool (n_obs,): the observation is of a treated unit at or after its go-live."""
        ft = self.first_treated[self.unit_idx]
        return np.asarray((ft >= 0) & (self.time_idx >= ft))

    @property
    def is_balanced(self) -> bool:
        """Every unit is observed in every period."""
        return self.n_obs == self.n_units * self.n_times

    def wide(self) -> np.ndarray:
        """Float64 (n_units, n_times) matrix of the outcome with NaN where a cell is missing."""
        out = np.full((self.n_units, self.n_times), np.nan)
        out[self.unit_idx, self.time_idx] = self.y
        return out

    def observed(self) -> np.ndarray:
        """Bool (n_units, n_times): True where a cell has a value."""
        out = np.zeros((self.n_units, self.n_times), dtype=bool)
        out[self.unit_idx, self.time_idx] = True
        return out

    def time_frame(self, **columns: np.ndarray) -> pl.DataFrame:
        """A polars frame with a `time` column in the original kind (date or int) and `columns` beside it."""
        times: pl.Series
        if self.time_kind == "date":
            times = pl.Series("time", self.time_labels.astype("datetime64[D]")).cast(pl.Date)
        else:
            times = pl.Series("time", self.time_labels.astype(np.int64))
        return pl.DataFrame([times, *(pl.Series(k, np.asarray(v, float)) for k, v in columns.items())])

    def subset_units(self, keep: np.ndarray) -> PanelData:
        """The panel restricted to units where `keep` (bool, n_units) is true; times are kept as they are."""
        keep = np.asarray(keep, bool)
        new_index = np.cumsum(keep) - 1
        rows = keep[self.unit_idx]
        return replace(
            self,
            unit_idx=_ro(new_index[self.unit_idx[rows]].astype(np.int64)),
            time_idx=_ro(self.time_idx[rows]),
            y=_ro(self.y[rows]),
            first_treated=_ro(self.first_treated[keep]),
            unit_labels=_ro(self.unit_labels[keep]),
        )

    def with_first_treated(self, first_treated: np.ndarray) -> PanelData:
        """The same observations with another go-live per unit (placebo tests, simulations)."""
        return replace(self, first_treated=_ro(np.asarray(first_treated, np.int64)))

    def with_outcome(self, y: np.ndarray) -> PanelData:
        """The same design with another outcome vector (n_obs,), e.g. a simulated one."""
        y = np.asarray(y, np.float64)
        if y.shape != self.y.shape:
            raise ValueError(f"outcome has shape {y.shape}, expected {self.y.shape}")
        return replace(self, y=_ro(y.copy()))


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def from_arrays(
    unit_idx: np.ndarray,
    time_idx: np.ndarray,
    y: np.ndarray,
    first_treated: np.ndarray,
    *,
    time_ordinal: np.ndarray | None = None,
    start_date: dt.date | None = None,
) -> PanelData:
    """A `PanelData` from integer indices (simulations, benchmarks): times are the integers 0..T-1, or
    consecutive days from `start_date` when it is given. Rows are sorted by (unit, time); duplicate
    (unit, time) pairs raise ValueError.
    """
    unit_idx = np.asarray(unit_idx, np.int64)
    time_idx = np.asarray(time_idx, np.int64)
    y = np.asarray(y, np.float64)
    n_units = int(unit_idx.max()) + 1
    n_times = int(time_idx.max()) + 1
    order = np.lexsort((time_idx, unit_idx))
    unit_idx, time_idx, y = unit_idx[order], time_idx[order], y[order]
    key = unit_idx * n_times + time_idx
    if np.any(np.diff(key) == 0):
        raise ValueError("duplicate (unit, time) pairs")
    ordinal = np.arange(n_times, dtype=np.int64) if time_ordinal is None else np.asarray(time_ordinal, np.int64)
    kind: TimeKind = "int"
    labels = ordinal.copy()
    if start_date is not None:
        kind = "date"
        first = (np.datetime64(start_date, "D") - _EPOCH).astype(np.int64)
        ordinal = ordinal + first
        labels = ordinal.astype("datetime64[D]")
    return PanelData(
        unit_idx=_ro(unit_idx),
        time_idx=_ro(time_idx),
        y=_ro(y),
        first_treated=_ro(np.asarray(first_treated, np.int64)),
        unit_labels=_ro(np.arange(n_units, dtype=np.int64)),
        time_labels=_ro(labels),
        time_ordinal=_ro(ordinal.astype(np.int64)),
        time_kind=kind,
    )


class InvalidPanel(InvalidInput, ValueError):
    """A panel `prepare_panel` cannot accept: every problem found, with message keys (an `InvalidInput`),
    and a ValueError, which is what the estimation API promises analysts for bad input."""


# Text dates that read one way only: ISO (optionally with a time of day, which is dropped like a datetime's),
# year-first with slashes, and day-first with dots (ru/kk). "01/02/2024" is refused: day- or month-first?
_DATE_PATTERNS = (
    (r"^(\d{4}-\d{1,2}-\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$", "%Y-%m-%d"),
    (r"^(\d{4}/\d{1,2}/\d{1,2})$", "%Y/%m/%d"),
    (r"^(\d{1,2}\.\d{1,2}\.\d{4})$", "%d.%m.%Y"),
)


# The refusal of a go-live column that is neither of the time column's kind nor readable as it.
_GO_LIVE_TYPE = "estimation.bad_go_live_type"


def _to_polars(df: Any, columns: tuple[str, ...]) -> pl.DataFrame:
    """The `columns` of `df` (polars, lazy polars or pandas) as a polars frame; the rest is never read, so
    a column the panel does not use cannot break the conversion."""
    wanted = list(dict.fromkeys(columns))
    if isinstance(df, pl.LazyFrame):
        _check_present(wanted, df.collect_schema().names())
        return df.select(wanted).collect()
    if isinstance(df, pl.DataFrame):
        _check_present(wanted, list(df.columns))
        return df.select(wanted)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(df, pd.DataFrame):
        return _from_pandas(df, wanted, columns)
    raise InvalidPanel([Problem("estimation.not_a_frame", params={"kind": type(df).__name__})])


def _check_present(wanted: list[str], names: list[str]) -> None:
    missing = [c for c in wanted if c not in names]
    if missing:
        listed = ", ".join(names)
        raise InvalidPanel(
            [Problem("estimation.missing_column", params={"column": c, "columns": listed}) for c in missing]
        )


def _from_pandas(df: Any, wanted: list[str], roles: tuple[str, ...]) -> pl.DataFrame:
    """Column by column, so that a pandas column polars cannot read is named (with its role) in the error.

    Column labels are matched as given or as text (a frame with integer labels 0, 1, ... works with "0").
    Period columns (e.g. Period[M]) become the first day of each period. Object columns that mix types are
    refused, except unit labels, which are compared as text when that keeps distinct labels distinct."""
    import pandas as pd

    unit, outcome = roles[0], roles[2]
    labels = list(df.columns)
    series: list[pl.Series] = []
    for name in wanted:
        hits = [i for i, lab in enumerate(labels) if lab == name or str(lab) == str(name)]
        if not hits:
            _check_present(wanted, [str(lab) for lab in labels])
        if len(hits) > 1:
            raise ValueError(
                f"column {name!r} appears {len(hits)} times in the pandas frame; give columns unique names"
            )
        col = df.iloc[:, hits[0]].reset_index(drop=True)
        if isinstance(col.dtype, pd.PeriodDtype):
            col = col.dt.start_time
        try:
            converted = cast(pl.Series, pl.from_pandas(col))
        except Exception as exc:  # pyarrow refuses an object column of mixed types (ArrowInvalid, ArrowTypeError)
            kinds = sorted({type(v).__name__ for v in col.dropna()})
            dtype = f"{col.dtype} ({', '.join(kinds)})"
            if name == unit and col.dtype == object:
                text = col.map(lambda v: None if v is None or v is pd.NaT or v != v else str(v))
                if text.nunique() != col.nunique():
                    raise ValueError(
                        f"column {unit!r} mixes unit label types ({', '.join(kinds)}) and two labels read the same "
                        "as text (e.g. 1 and '1'); give every unit one label of one type"
                    ) from exc
                converted = pl.Series(text.tolist(), dtype=pl.String)
            elif name == outcome:
                raise InvalidPanel(
                    [Problem("estimation.outcome_not_numeric", where=str(name), params={"dtype": dtype})]
                ) from exc
            else:
                key = _GO_LIVE_TYPE if name == roles[3] and name != roles[1] else "estimation.bad_time_type"
                problem = Problem(key, where=str(name), params={"dtype": dtype, "kind": "date/int"})
                raise InvalidPanel([problem]) from exc
        series.append(converted.alias(str(name)))
    return pl.DataFrame(series)


def _time_kind(dtype: pl.DataType) -> TimeKind | None:
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return "date"
    if dtype.is_integer():
        return "int"
    return None


def _parse_dates(series: pl.Series) -> pl.Series:
    """Text dates in one of `_DATE_PATTERNS` (null where none matches)."""
    text = series.str.strip_chars()
    candidates = [text.str.extract(pattern).str.to_date(fmt, strict=False) for pattern, fmt in _DATE_PATTERNS]
    return pl.select(pl.coalesce(candidates)).to_series().alias(series.name)


def _as_time(series: pl.Series, kind: TimeKind, column: str, key: str = "estimation.bad_time_type") -> pl.Series:
    """`series` cast to the panel's time kind (Date or Int64); values that cannot be read raise InvalidPanel
    (`key` for a column of another type: the time column's, or the go-live's)."""
    dtype = series.dtype
    if kind == "date":
        if dtype == pl.Date:
            return series
        if isinstance(dtype, pl.Datetime):
            return series.dt.date()
        if dtype == pl.String:
            parsed = _parse_dates(series)
            bad = series.is_not_null() & parsed.is_null()
            if bad.any():
                first = series.filter(bad)[0]
                raise InvalidPanel([Problem("estimation.bad_date", where=column, params={"value": str(first)})])
            return parsed
    else:
        if dtype.is_integer():
            return series.cast(pl.Int64)
        if dtype.is_float():
            finite = series.filter(series.is_not_null() & series.is_finite())
            if (finite != finite.round(0)).any():
                raise InvalidPanel([Problem("estimation.time_not_integer", where=column)])
            return series.fill_nan(None).cast(pl.Int64, strict=False)
        if dtype == pl.Null:
            return series.cast(pl.Int64)
    if dtype == pl.Null:
        return series.cast(pl.Date)
    raise InvalidPanel([Problem(key, where=column, params={"dtype": str(dtype), "kind": kind})])


def _go_live(series: pl.Series, kind: TimeKind, column: str, never: object) -> pl.Series:
    """The go-live column in the panel's time kind, null for never-treated units (null, NaN, ±inf or `never`).

    `never` is compared with the column as it is for a number or a text; a date is compared with the dates
    read from the column. A `never` of another kind than the column can match nothing: refused (ValueError),
    since ignoring it would turn the never-treated units into units treated on the sentinel date."""
    dtype = series.dtype
    if never is not None and dtype != pl.Null:
        number = isinstance(never, (int, float, np.integer, np.floating)) and not isinstance(never, (bool, np.bool_))
        if (dtype.is_numeric() and number) or (dtype == pl.String and isinstance(never, str)):
            series = _null_where(series, series == never)
        elif isinstance(never, dt.date) and kind == "date" and (dtype == pl.String or _time_kind(dtype) == "date"):
            day = never.date() if isinstance(never, dt.datetime) else never
            dates = _as_time(series, kind, column, _GO_LIVE_TYPE)
            return _null_where(dates, dates == day)
        else:
            raise ValueError(
                f"never_treated_value={never!r} ({type(never).__name__}) cannot mark never-treated units in column "
                f"{column!r} of type {dtype}: give a number for a numeric column, a date for a date column, "
                "or the exact text for a text column"
            )
    if series.dtype.is_float():
        series = _null_where(series, ~series.is_finite())
    return _as_time(series, kind, column, _GO_LIVE_TYPE)


def _refuse_zero_go_live(times: pl.Series, go_live: pl.Series, units: pl.Series, column: str) -> None:
    """A go-live of 0 before an integer panel's first period is R `did`'s / Stata `csdid`'s never-treated code.

    Read as a date it would make those units live before the panel starts: excluded as always treated, so the
    controls silently disappear and the estimate changes. Refused (ValueError) unless `never_treated_value`
    says what 0 means."""
    first = times.min()
    zero = go_live == 0
    if not zero.any() or not isinstance(first, int) or first <= 0:
        return
    n = units.filter(zero).n_unique()
    raise ValueError(
        f"{column!r} is 0 for {n} unit(s), before the first period ({first}); 0 is the never-treated code of "
        "R's did and Stata's csdid: pass never_treated_value=0 if that is meant, or leave those units out if "
        "they went live before the panel starts (they cannot be estimated)"
    )


def period_months(labels: np.ndarray) -> int | None:
    """How many months a period spans when every date label is the first day of a month (12 when every one is
    1 January, 3 when every one starts a quarter, else 1); None when the labels are not month starts.

    Calendar conventions, not the gaps between labels: monthly data with some months missing is still monthly."""
    days = np.asarray(labels, dtype="datetime64[D]")
    if days.size < 2:
        return None
    months = days.astype("datetime64[M]")
    if not (months.astype("datetime64[D]") == days).all():
        return None
    month_of_year = months.astype(np.int64) % 12
    if (month_of_year == 0).all():
        return 12
    if (month_of_year % 3 == 0).all():
        return 3
    return 1


def period_days(labels: np.ndarray) -> int | None:
    """7 when every date label is a Monday and no two are less than a week apart (ISO weeks, labelled as the
    warehouse stores them); None otherwise."""
    ordinal = (np.asarray(labels, dtype="datetime64[D]") - _EPOCH).astype(np.int64)
    if ordinal.size < 2 or ((ordinal - _MONDAY) % 7 != 0).any() or int(np.diff(ordinal).min()) < 7:
        return None
    return 7


# A stated frequency's period length: (months, days); daily periods are single days, so no go-live falls inside one.
_SPANS: dict[str, tuple[int | None, int | None]] = {
    "daily": (None, None),
    "weekly": (None, 7),
    "monthly": (1, None),
    "quarterly": (3, None),
    "yearly": (12, None),
}


def off_period_start(labels: np.ndarray, frequency: str) -> np.ndarray:
    """Bool (n,): the date `labels` that are not the first day of a `frequency` period as the warehouse labels
    periods (PRODUCT.md): a Monday for weeks, the 1st for months, 1 January/April/July/October for quarters,
    1 January for years. Every day starts a daily period."""
    days = np.asarray(labels, dtype="datetime64[D]")
    months, week = _SPANS[check_choice("frequency", frequency, FREQUENCIES)]
    if week is not None:
        return np.asarray(((days - _EPOCH).astype(np.int64) - _MONDAY) % week != 0)
    if months is None:
        return np.zeros(days.shape, dtype=bool)
    month = days.astype("datetime64[M]")
    return np.asarray((month.astype("datetime64[D]") != days) | (month.astype(np.int64) % 12 % months != 0))


def first_treated_period(labels: np.ndarray, go_live: np.ndarray, frequency: str | None = None) -> np.ndarray:
    """The index in the sorted date `labels` (datetime64[D]) of each go-live's first treated period.

    Where the labels are the first days of the periods they stand for (`period_months`, `period_days`), the
    period that holds the go-live: a go-live on 15 June is live for half of June, and June is its first treated
    period whether months are labelled on the 1st (as the warehouse stores them) or on the 30th. Counting June
    as untreated would put half a month of effect into the pre-period that the counterfactual is fitted on.
    Elsewhere (daily data, labels at the end or the middle of their periods), the first period at or after the
    go-live. `go_live` is in days since 1970-01-01; an index of len(labels) means after the last period.

    `frequency` (a stated one, with `labels` at its period starts: `off_period_start`) replaces the reading of
    the labels: "daily" is the first label on or after the go-live day (a daily metric reported only on Mondays
    is not weekly: the Monday before a Wednesday go-live is that Monday's untreated value); the coarser ones
    the period that holds the go-live, by the calendar length of that frequency's period.
    """
    days = np.asarray(labels, dtype="datetime64[D]")
    ordinal = (days - _EPOCH).astype(np.int64)
    go = np.asarray(go_live, dtype=np.int64)
    after = np.searchsorted(ordinal, go, side="left")
    if frequency is None:
        months, week = period_months(days), period_days(days)
    else:
        months, week = _SPANS[check_choice("frequency", frequency, FREQUENCIES)]
    if months is None and week is None:
        return after
    holder = np.searchsorted(ordinal, go, side="right") - 1  # the last period starting on or before the go-live
    start = days[np.maximum(holder, 0)]
    if months is not None:
        end = (start.astype("datetime64[M]") + months).astype("datetime64[D]")
    else:
        end = start + np.timedelta64(week or 0, "D")
    inside = (holder >= 0) & ((_EPOCH + go.astype("timedelta64[D]")) < end)
    return np.where(inside, holder, after).astype(np.int64)


def _check_frequency(labels: np.ndarray, kind: TimeKind, column: str, frequency: str) -> None:
    """Refuse (InvalidPanel) times that contradict a stated `frequency`, rather than estimate with a frequency the
    data does not have: integer times have no calendar to hold it, and a label that does not start a period (a
    Tuesday with "weekly", the 15th or labels days apart with "monthly") leaves open which period holds a go-live."""
    if kind != "date":
        raise InvalidPanel([Problem("estimation.frequency_needs_dates", where=column, params={"frequency": frequency})])
    off = off_period_start(labels, frequency)
    if off.any():
        first = str(labels[np.flatnonzero(off)[0]])
        params = {"value": first, "count": int(off.sum()), "frequency": frequency}
        raise InvalidPanel([Problem(f"estimation.period_not_at_start.{frequency}", where=column, params=params)])


def _null_where(series: pl.Series, mask: pl.Series) -> pl.Series:
    return pl.select(pl.when(mask).then(None).otherwise(series).alias(series.name)).to_series()


def prepare_panel(
    df: Any,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    *,
    never_treated_value: int | float | str | dt.date | None = None,
    frequency: str | None = None,
) -> PanelData:
    """Validate a long panel (polars or pandas) and convert it to a `PanelData`.

    - `unit`: any hashable label column (no nulls); a categorical (pandas) or Enum (polars) one is read as text,
      so that sites are ordered by label, not by the order of the categories.
    - `time`: a date/datetime or an integer column (no nulls); datetimes are taken as dates (a time-zone
      aware one as the date in its own zone), pandas periods as their first day. Text is read as dates in
      an unambiguous form only: ISO "2025-01-31" (a time of day after it is dropped), "2025/01/31" or
      "31.01.2025"; "01/02/2025" is refused (day or month first?).
    - `outcome`: numeric (a boolean is read as 0/1); rows with a null/NaN/inf outcome are not used and are
      counted in `n_missing_outcome` (they are gaps, reported by the data-sufficiency checks).
    - `first_treated`: the go-live (same kind as `time`), null for never-treated units; must be constant
      within a unit. NaN and ±inf also mean never treated, as does `never_treated_value` (e.g. 0 in R's
      `did` convention; a number, a date or a text, of the column's kind). A go-live maps to the period that
      holds it (`first_treated_period`): with dates labelling the periods they begin (every label the first of
      a month, or every label a Monday a week or more apart, as the warehouse stores monthly, quarterly, yearly
      and weekly data) a go-live on 15 June makes the June period the first treated one; otherwise, and with
      integer times, the first period at or after the go-live.
    - `frequency`: the outcome's frequency when it is known ("daily", "weekly", "monthly", "quarterly",
      "yearly"), instead of reading it from the labels: a daily metric reported only on Mondays stays daily (a
      Wednesday go-live is first treated on the next Monday). It needs date times, each the first day of its
      period as the warehouse stores them (`off_period_start`); a panel that contradicts it is refused, never
      read by another frequency. None (the default) reads the labels as above.

    Raises `InvalidPanel` (an `InvalidInput` with every problem found, and a ValueError) on a missing
    column, wrong types, null units or times, duplicate (unit, time) rows, a go-live that varies within
    a unit, or times that contradict `frequency`; ValueError on a `never_treated_value` of another kind than
    the column or a `frequency` that is not one of the five. Nothing is dropped silently.
    """
    frequency = check_frequency(frequency)
    roles = {"unit": unit, "time": time, "outcome": outcome, "first_treated": first_treated}
    for role, name in roles.items():
        if not isinstance(name, (str, int)) or isinstance(name, bool):  # int: a pandas column label
            raise ValueError(f"{role}={name!r} must be the name of a column of the panel (text)")
    frame = _to_polars(df, (unit, time, outcome, first_treated))
    unit, time, outcome, first_treated = str(unit), str(time), str(outcome), str(first_treated)
    kind = _time_kind(frame.schema[time])
    if kind is None and frame.schema[time] == pl.String:
        kind = "date"
    if kind is None and frame.schema[time].is_float():
        kind = "int"
    if kind is None:
        raise InvalidPanel(
            [
                Problem(
                    "estimation.bad_time_type",
                    where=time,
                    params={"dtype": str(frame.schema[time]), "kind": "date/int"},
                )
            ]
        )
    y_dtype = frame.schema[outcome]
    if not (y_dtype.is_numeric() or y_dtype in (pl.Boolean, pl.Null)):  # a yes/no outcome is a 0/1 share
        raise InvalidPanel([Problem("estimation.outcome_not_numeric", where=outcome, params={"dtype": str(y_dtype)})])

    problems: list[Problem] = []
    t_series = _as_time(frame[time], kind, time)
    ft_series = _go_live(frame[first_treated], kind, first_treated, never_treated_value)
    if kind == "int" and never_treated_value is None:
        _refuse_zero_go_live(t_series, ft_series, frame[unit], first_treated)
    y_series = frame[outcome].cast(pl.Float64)

    units = frame[unit]
    if isinstance(units.dtype, (pl.Categorical, pl.Enum)):  # sorted by category order, not by label: as text
        units = units.cast(pl.String)
    work = pl.DataFrame(
        {
            "_unit": units,
            "_time": t_series,
            "_y": y_series,
            "_ft": ft_series,
            "_row": np.arange(frame.height),
        }
    )
    null_units = work.filter(pl.col("_unit").is_null())
    if null_units.height:
        problems.append(
            Problem(
                "estimation.null_unit",
                where=f"{unit}, row {int(null_units['_row'][0]) + 1}",
                params={"count": null_units.height},
            )
        )
    null_times = work.filter(pl.col("_time").is_null())
    if null_times.height:
        problems.append(
            Problem(
                "estimation.null_time",
                where=f"{time}, row {int(null_times['_row'][0]) + 1}",
                params={"count": null_times.height},
            )
        )
    dupes = work.filter(pl.struct("_unit", "_time").is_duplicated())
    if dupes.height:
        first = dupes.row(0, named=True)
        problems.append(
            Problem(
                "estimation.duplicate_rows",
                where=f"row {int(first['_row']) + 1}",
                params={"count": dupes.height, "unit": str(first["_unit"]), "time": str(first["_time"])},
            )
        )
    varying = work.group_by("_unit").agg(pl.col("_ft").n_unique().alias("n")).filter(pl.col("n") > 1)
    if varying.height:
        problems.append(
            Problem(
                "estimation.go_live_varies",
                where=first_treated,
                params={"count": varying.height, "unit": str(varying["_unit"].sort()[0])},
            )
        )
    if problems:
        raise InvalidPanel(problems)

    finite = work["_y"].is_not_null() & work["_y"].is_finite()
    n_missing = int(work.height - finite.sum())
    used = work.filter(finite)
    if used.height == 0:
        raise InvalidPanel([Problem("estimation.no_rows", where=outcome)])

    unit_labels = work["_unit"].unique().sort()
    time_labels = used["_time"].unique().sort()
    unit_map = pl.DataFrame({"_unit": unit_labels, "_u": np.arange(unit_labels.len(), dtype=np.int64)})
    time_map = pl.DataFrame({"_time": time_labels, "_t": np.arange(time_labels.len(), dtype=np.int64)})
    used = used.join(unit_map, on="_unit", how="left").join(time_map, on="_time", how="left").sort("_u", "_t")

    if kind == "date":
        t_np = time_labels.to_numpy().astype("datetime64[D]")
        ordinal = (t_np - _EPOCH).astype(np.int64)
    else:
        t_np = time_labels.to_numpy().astype(np.int64)
        ordinal = t_np.copy()
    if frequency is not None:
        _check_frequency(t_np, kind, time, frequency)

    per_unit = work.group_by("_unit").agg(pl.col("_ft").first()).join(unit_map, on="_unit").sort("_u")
    ft_vals = per_unit["_ft"]
    ft_idx = np.full(unit_labels.len(), -1, dtype=np.int64)
    has = ft_vals.is_not_null().to_numpy()
    if has.any():
        if kind == "date":
            ft_ord = (ft_vals.drop_nulls().to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
            ft_idx[has] = first_treated_period(t_np, ft_ord, frequency)
        else:
            ft_ord = ft_vals.drop_nulls().to_numpy().astype(np.int64)
            ft_idx[has] = np.searchsorted(ordinal, ft_ord, side="left")

    return PanelData(
        unit_idx=_ro(used["_u"].to_numpy().astype(np.int64)),
        time_idx=_ro(used["_t"].to_numpy().astype(np.int64)),
        y=_ro(used["_y"].to_numpy().astype(np.float64)),
        first_treated=_ro(ft_idx),
        unit_labels=_ro(unit_labels.to_numpy()),
        time_labels=_ro(t_np),
        time_ordinal=_ro(ordinal.astype(np.int64)),
        time_kind=kind,
        unit=unit,
        time=time,
        outcome=outcome,
        first_treated_col=first_treated,
        n_missing_outcome=n_missing,
        frequency=frequency,
    )
