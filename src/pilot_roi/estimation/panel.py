"""A long panel (unit × time → outcome) turned into integer-indexed numpy arrays, validated once.

Every estimator in `pilot_roi.estimation` takes a `PanelData`, never a DataFrame: the boundary
(`prepare_panel`) converts, validates and records what it could not use; the methods only see arrays.

Interface (stable; the synthetic-control and ITS modules rely on it):

- `prepare_panel(df, unit, time, outcome, first_treated, *, never_treated_value=None) -> PanelData`
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
  Observations are sorted by (unit_idx, time_idx); (unit, time) pairs are unique.
- Helpers: `n_units`, `n_times`, `n_obs`, `treated` (bool per unit), `never_treated` (bool per unit),
  `post` (bool per observation: the unit is treated and the period is at or after its go-live),
  `is_balanced`, `wide()` → float64 (n_units, n_times) with NaN for missing cells, `time_frame(values)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from pilot_roi.errors import InvalidInput, Problem

TimeKind = Literal["date", "int"]

_EPOCH = np.datetime64("1970-01-01", "D")


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
        return PanelData(
            unit_idx=_ro(new_index[self.unit_idx[rows]].astype(np.int64)),
            time_idx=_ro(self.time_idx[rows]),
            y=_ro(self.y[rows]),
            first_treated=_ro(self.first_treated[keep]),
            unit_labels=_ro(self.unit_labels[keep]),
            time_labels=self.time_labels,
            time_ordinal=self.time_ordinal,
            time_kind=self.time_kind,
            unit=self.unit,
            time=self.time,
            outcome=self.outcome,
            first_treated_col=self.first_treated_col,
            n_missing_outcome=self.n_missing_outcome,
        )

    def with_first_treated(self, first_treated: np.ndarray) -> PanelData:
        """The same observations with another go-live per unit (placebo tests, simulations)."""
        return PanelData(
            unit_idx=self.unit_idx,
            time_idx=self.time_idx,
            y=self.y,
            first_treated=_ro(np.asarray(first_treated, np.int64)),
            unit_labels=self.unit_labels,
            time_labels=self.time_labels,
            time_ordinal=self.time_ordinal,
            time_kind=self.time_kind,
            unit=self.unit,
            time=self.time,
            outcome=self.outcome,
            first_treated_col=self.first_treated_col,
            n_missing_outcome=self.n_missing_outcome,
        )

    def with_outcome(self, y: np.ndarray) -> PanelData:
        """The same design with another outcome vector (n_obs,), e.g. a simulated one."""
        y = np.asarray(y, np.float64)
        if y.shape != self.y.shape:
            raise ValueError(f"outcome has shape {y.shape}, expected {self.y.shape}")
        return PanelData(
            unit_idx=self.unit_idx,
            time_idx=self.time_idx,
            y=_ro(y.copy()),
            first_treated=self.first_treated,
            unit_labels=self.unit_labels,
            time_labels=self.time_labels,
            time_ordinal=self.time_ordinal,
            time_kind=self.time_kind,
            unit=self.unit,
            time=self.time,
            outcome=self.outcome,
            first_treated_col=self.first_treated_col,
            n_missing_outcome=self.n_missing_outcome,
        )


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


def _to_polars(df: Any) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(df, pd.DataFrame):
        return pl.from_pandas(df.reset_index(drop=True))
    raise InvalidInput([Problem("estimation.not_a_frame", params={"kind": type(df).__name__})])


def _time_kind(dtype: pl.DataType) -> TimeKind | None:
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return "date"
    if dtype.is_integer():
        return "int"
    return None


def _as_time(series: pl.Series, kind: TimeKind, column: str) -> pl.Series:
    """`series` cast to the panel's time kind (Date or Int64); values that cannot be read raise InvalidInput."""
    dtype = series.dtype
    if kind == "date":
        if dtype == pl.Date:
            return series
        if isinstance(dtype, pl.Datetime):
            return series.dt.date()
        if dtype == pl.String:
            parsed = series.str.to_date(strict=False)
            bad = series.is_not_null() & parsed.is_null()
            if bad.any():
                first = series.filter(bad)[0]
                raise InvalidInput([Problem("estimation.bad_date", where=column, params={"value": str(first)})])
            return parsed
    else:
        if dtype.is_integer():
            return series.cast(pl.Int64)
        if dtype.is_float():
            finite = series.filter(series.is_not_null() & series.is_finite())
            if (finite != finite.round(0)).any():
                raise InvalidInput([Problem("estimation.time_not_integer", where=column)])
            return series.fill_nan(None).cast(pl.Int64, strict=False)
        if dtype == pl.Null:
            return series.cast(pl.Int64)
    if dtype == pl.Null:
        return series.cast(pl.Date)
    raise InvalidInput([Problem("estimation.bad_time_type", where=column, params={"dtype": str(dtype), "kind": kind})])


def prepare_panel(
    df: Any,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    *,
    never_treated_value: int | float | str | dt.date | None = None,
) -> PanelData:
    """Validate a long panel (polars or pandas) and convert it to a `PanelData`.

    - `unit`: any hashable label column (no nulls).
    - `time`: a date/datetime or an integer column (no nulls); datetimes are taken as dates.
      Strings are parsed as ISO dates.
    - `outcome`: numeric; rows with a null/NaN/inf outcome are not used and are counted in
      `n_missing_outcome` (they are gaps, reported by the data-sufficiency checks).
    - `first_treated`: the go-live (same kind as `time`), null for never-treated units; must be constant
      within a unit. NaN and ±inf also mean never treated, as does `never_treated_value` (e.g. 0 in R's
      `did` convention). A go-live between observed periods maps to the first period at or after it.

    Raises `InvalidInput` (with every problem found) on a missing column, wrong types, null units or
    times, duplicate (unit, time) rows, or a go-live that varies within a unit. Nothing is dropped silently.
    """
    frame = _to_polars(df)
    missing = [c for c in (unit, time, outcome, first_treated) if c not in frame.columns]
    if missing:
        raise InvalidInput(
            [
                Problem("estimation.missing_column", params={"column": c, "columns": ", ".join(frame.columns)})
                for c in missing
            ]
        )
    problems: list[Problem] = []
    kind = _time_kind(frame.schema[time])
    if kind is None and frame.schema[time] == pl.String:
        kind = "date"
    if kind is None and frame.schema[time].is_float():
        kind = "int"
    if kind is None:
        raise InvalidInput(
            [
                Problem(
                    "estimation.bad_time_type",
                    where=time,
                    params={"dtype": str(frame.schema[time]), "kind": "date/int"},
                )
            ]
        )
    if not frame.schema[outcome].is_numeric() and frame.schema[outcome] != pl.Null:
        problems.append(
            Problem("estimation.outcome_not_numeric", where=outcome, params={"dtype": str(frame.schema[outcome])})
        )
    if problems:
        raise InvalidInput(problems)

    t_series = _as_time(frame[time], kind, time)
    ft_raw = frame[first_treated]
    if never_treated_value is not None:
        ft_raw = pl.select(
            pl.when(ft_raw == never_treated_value).then(None).otherwise(ft_raw).alias(first_treated)
        ).to_series()
    if ft_raw.dtype.is_float():
        ft_raw = pl.select(pl.when(ft_raw.is_finite()).then(ft_raw).otherwise(None).alias(first_treated)).to_series()
    ft_series = _as_time(ft_raw, kind, first_treated)
    y_series = frame[outcome].cast(pl.Float64)

    work = pl.DataFrame(
        {
            "_unit": frame[unit],
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
        raise InvalidInput(problems)

    finite = work["_y"].is_not_null() & work["_y"].is_finite()
    n_missing = int(work.height - finite.sum())
    used = work.filter(finite)
    if used.height == 0:
        raise InvalidInput([Problem("estimation.no_rows", where=outcome)])

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

    per_unit = work.group_by("_unit").agg(pl.col("_ft").first()).join(unit_map, on="_unit").sort("_u")
    ft_vals = per_unit["_ft"]
    ft_idx = np.full(unit_labels.len(), -1, dtype=np.int64)
    has = ft_vals.is_not_null().to_numpy()
    if has.any():
        if kind == "date":
            ft_ord = (ft_vals.drop_nulls().to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
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
    )
