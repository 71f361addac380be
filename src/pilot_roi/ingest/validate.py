"""Registry checks over typed observations, vectorised: every problem is collected, none stops the others.

Checks: unknown site or metric, a site of a subsidiary the uploader may not write, a period that does not fit
the metric's frequency (monthly and coarser: the first day of the period; weekly: the Monday of the ISO week),
a period written as a whole year, quarter, month or week for a metric with shorter periods (and as a quarter or a
week for a metric of another frequency), a period in the future, a value outside the metric's bounds, and
conflicting duplicates (exact duplicates collapse into one observation, with a note).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from pilot_roi import clock
from pilot_roi.clock import PERIOD_LENGTH
from pilot_roi.ingest.model import empty_errors, error_rows, field_label, field_text
from pilot_roi.resources import read_sql

_FREQ_OK: dict[str, pl.Expr] = {
    "daily": pl.lit(True),
    "weekly": pl.col("period").dt.weekday() == 1,
    "monthly": pl.col("period").dt.day() == 1,
    "quarterly": (pl.col("period").dt.day() == 1) & pl.col("period").dt.month().is_in([1, 4, 7, 10]),
    "yearly": (pl.col("period").dt.day() == 1) & (pl.col("period").dt.month() == 1),
}
# A period written as a whole year ("2024") or month ("2024-03", "03.2024", "янв. 2024"), a quarter ("2024-Q1",
# "1 кв. 2024") or an ISO week ("2024-W05") reads as its first day. For a metric whose periods are shorter, that day is
# a valid label, so the year's (quarter's, month's, week's) total would be stored silently as the value of its first
# day, week, month or quarter; a quarter or a week is also never a whole year (month): such labels are refused, in
# words, for these frequencies. A month label stays the label of its quarter or year ("2024-07" for the quarter of
# 1 July), as a date would be.
_SPAN_REFUSED_FOR: dict[str, tuple[str, ...]] = {
    "year": ("daily", "weekly", "monthly", "quarterly"),
    "quarter": ("daily", "weekly", "monthly", "yearly"),
    "month": ("daily", "weekly"),
    "week": ("daily", "monthly", "quarterly", "yearly"),
}
# Numeric labels are recognised here; quarter, week and month-name labels by the reader, which marks them in
# `_period_span` (`parse.parse_dates`).
_SPAN_LABELS: dict[str, str] = {
    "year": r"^\s*\d{4}\s*$",
    "month": r"^\s*(\d{4}-\d{1,2}|\d{1,2}\.\d{4})\s*$",
}
_SPAN_LABEL_MAX_BYTES = 9  # "2024-01-01" and "01.01.2024" are longer: a file of full dates skips the patterns


def _period_spans(frame: pl.DataFrame) -> pl.Series | None:
    """What each period label spans ("year", "quarter", "month", "week"; null for a day), or None when no row has a
    span label. A file of full dates costs one length check per row (and nothing when the reader kept no text)."""
    spans = frame["_period_span"] if "_period_span" in frame.columns else None
    raw = frame["_period_raw"] if "_period_raw" in frame.columns else None
    short = raw.str.len_bytes() <= _SPAN_LABEL_MAX_BYTES if raw is not None else None
    if raw is not None and short is not None and bool(short.any()):
        for span, pattern in _SPAN_LABELS.items():
            names_span = (short & raw.str.contains(pattern)).fill_null(False)
            if bool(names_span.any()):
                numeric = pl.select(pl.when(names_span).then(pl.lit(span))).to_series()
                spans = numeric if spans is None else spans.fill_null(numeric)
    return spans


def _not_ended(frame: pl.DataFrame, frequency: pl.Series, today: date) -> list[tuple[str, dict[str, Any]]]:
    """A note when values are for periods that have begun but not ended (this month, this quarter, today): a sum
    over part of a period reads as a drop and would count in realized gain until it is restated. Loaded all the
    same: month-to-date figures are a real need, and restating them later is what restatements are for; a sum's
    estimate leaves them out until the period ends (`runner.read.split_open_periods`)."""
    period = frame["period"]
    begun = (period <= today) & (period > today - timedelta(days=366))  # no period is longer than a year
    if not bool(begun.fill_null(False).any()):
        return []
    recent = pl.DataFrame({"period": period, "frequency": frequency, "metric": frame["metric_code"]}).filter(begun)
    step = pl.col("frequency").replace_strict(PERIOD_LENGTH, default=None, return_dtype=pl.String)
    open_ = recent.filter(pl.col("period").dt.offset_by(step) > today)
    if open_.height == 0:
        return []
    first = open_.sort("period", "metric").row(0, named=True)
    example = f"{first['metric']} {first['period'].isoformat()}"
    return [("ingest.note.periods_not_ended", {"count": open_.height, "example": example, "today": today.isoformat()})]


@dataclass(frozen=True, slots=True)
class RegistryView:
    """The part of the registry ingestion needs.

    sites: site_code, subsidiary_code; metrics: metric_code, unit, frequency, min_value, max_value, aggregation.
    """

    sites: pl.DataFrame
    metrics: pl.DataFrame

    @classmethod
    def from_warehouse(cls, con: duckdb.DuckDBPyConnection) -> RegistryView:
        """Read sites and metrics from the warehouse."""
        sites = con.sql(read_sql("ingest/registry_sites.sql")).pl()
        metrics = con.sql(read_sql("ingest/registry_metrics.sql")).pl()
        return cls(
            sites=sites.cast({"site_code": pl.String, "subsidiary_code": pl.String}),
            metrics=metrics.cast(
                {
                    "metric_code": pl.String,
                    "unit": pl.String,
                    "frequency": pl.String,
                    "min_value": pl.Float64,
                    "max_value": pl.Float64,
                    "aggregation": pl.String,
                }
            ),
        )

    def sum_metrics(self) -> set[str]:
        """The codes (upper case) of the metrics whose aggregation is `sum`."""
        summed = self.metrics.filter(pl.col("aggregation") == "sum")["metric_code"]
        return {code.strip().upper() for code in summed.to_list()}


def _index(frame: pl.DataFrame, field: str, known: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """(frame, position of each code in `known` as UInt32, null when unknown).

    Codes written with another case or surrounding spaces are rewritten to the registry's spelling first; that
    work touches only the distinct unknown codes, so a clean 10M-row file costs one hash per row.
    """
    mapping = {code: i for i, code in enumerate(known.to_list())}
    index = frame[field].replace_strict(mapping, default=None, return_dtype=pl.UInt32)
    unknown = frame[field].filter(index.is_null() & frame[field].is_not_null()).unique()
    if unknown.is_empty():
        return frame, index
    by_upper = {code.upper(): code for code in known.to_list()}
    fixes = {code: by_upper[code.strip().upper()] for code in unknown.to_list() if code.strip().upper() in by_upper}
    if not fixes:
        return frame, index
    frame = frame.with_columns(pl.col(field).replace(fixes))
    return frame, frame[field].replace_strict(mapping, default=None, return_dtype=pl.UInt32)


def validate_observations(
    frame: pl.DataFrame,
    registry: RegistryView,
    *,
    columns: dict[str, str],
    sheet: str | None = None,
    allowed_subsidiaries: Collection[str] | None = None,
    today: date | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, dict[str, Any]]]]:
    """Check typed observations against the registry.

    `frame` is ParsedFile.frame (rows whose typed fields are null were already reported by the reader and are
    skipped here). Returns (frame with canonical codes and exact duplicates collapsed, errors, notes).
    Registry attributes are looked up by position (one hash per row and code column), never by joining the
    whole frame, so a 10M-row file is checked without copying it.
    """
    today = today or clock.today()  # the day in Kazakhstan, not on the server's clock
    errors: list[pl.DataFrame] = []
    sites, metrics = registry.sites, registry.metrics
    frame, site_idx = _index(frame, "site_code", sites["site_code"])
    frame, metric_idx = _index(frame, "metric_code", metrics["metric_code"])

    def report(mask: pl.Series, field: str, code: str, detail: pl.Series | pl.Expr | None = None) -> None:
        if not bool(mask.any()):
            return
        subset = frame.filter(mask)
        if isinstance(detail, pl.Series):
            subset = subset.with_columns(detail.filter(mask).cast(pl.String).alias("_detail"))
            detail = pl.col("_detail")
        value = pl.col(field) if field in ("site_code", "metric_code") else field_text(subset, field)
        errors.append(
            error_rows(
                subset, sheet=sheet, column=field_label(subset, columns, field), value=value, code=code, detail=detail
            )
        )

    report(frame["site_code"].is_not_null() & site_idx.is_null(), "site_code", "ingest.site_unknown")
    report(frame["metric_code"].is_not_null() & metric_idx.is_null(), "metric_code", "ingest.metric_unknown")
    if allowed_subsidiaries is not None:
        subsidiary = sites["subsidiary_code"].gather(site_idx)
        allowed = subsidiary.is_in(pl.Series(sorted(set(allowed_subsidiaries)), dtype=pl.String).implode())
        report(site_idx.is_not_null() & ~allowed, "site_code", "ingest.site_forbidden", subsidiary)

    frequencies = metrics["frequency"].to_list()
    period = frame["period"]

    def of_frequency(frequency: str) -> pl.Series | None:
        positions = [i for i, f in enumerate(frequencies) if f == frequency]
        if not positions:
            return None
        return metric_idx.is_in(pl.Series(positions, dtype=pl.UInt32).implode()) & period.is_not_null()

    spanning = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    spans = _period_spans(frame)
    if spans is not None:
        for span, refused_for in _SPAN_REFUSED_FOR.items():
            names_span = (spans == span).fill_null(False)
            if not bool(names_span.any()):
                continue
            for frequency in refused_for:
                mask = of_frequency(frequency)
                if mask is not None:
                    report(mask & names_span, "period", f"ingest.period_{span}_for_{frequency}")
                    spanning = spanning | (mask & names_span).fill_null(False)
    for frequency, fits in _FREQ_OK.items():
        if frequency == "daily":
            continue
        of_freq = of_frequency(frequency)
        if of_freq is None or not bool(of_freq.any()):
            continue
        ok = frame.select(fits.alias("ok"))["ok"]
        suggestion = period.dt.truncate(PERIOD_LENGTH[frequency]).dt.to_string("%Y-%m-%d")
        report(of_freq & ~ok & ~spanning, "period", f"ingest.period_not_{frequency}", suggestion)
    future = (period > today).fill_null(False)
    if "_short_year" in frame.columns and bool(future.any()):
        # "01.03.85" is 2085 (20yy, never a guess at the century): the message says how the year was read
        short = frame["_short_year"].fill_null(False)
        report(future & short, "period", "ingest.period_future_short_year", pl.lit(today.isoformat()))
        future = future & ~short
    report(future, "period", "ingest.period_future", pl.lit(today.isoformat()))

    value = frame["value"]
    minimum = metrics["min_value"].gather(metric_idx)
    maximum = metrics["max_value"].gather(metric_idx)
    report((value < minimum).fill_null(False), "value", "ingest.value_below_min", minimum)
    report((value > maximum).fill_null(False), "value", "ingest.value_above_max", maximum)

    open_periods = _not_ended(frame, metrics["frequency"].gather(metric_idx), today)
    frame, dup_errors, notes = _duplicates(frame, site_idx, metric_idx, sheet, columns)
    notes.extend(open_periods)
    errors.append(dup_errors)
    found = pl.concat(errors, how="vertical") if errors else empty_errors()
    return frame, found, notes


def _duplicates(
    frame: pl.DataFrame, site_idx: pl.Series, metric_idx: pl.Series, sheet: str | None, columns: dict[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, dict[str, Any]]]]:
    """Collapse exact duplicates of (site, metric, period, value); report keys that carry different values.

    Only rows with a known site and metric and a date take part (the others are rejected anyway). Their key
    packs exactly into one Int64 (site position, metric position, day number): far cheaper than hashing strings.
    """
    keys = ["site_code", "metric_code", "period"]
    days = frame["period"].cast(pl.Int32).cast(pl.Int64) + 1_000_000  # years 1900..2100 stay in (0, 2^21)
    packed = (site_idx.cast(pl.Int64) * 65_536 + metric_idx.cast(pl.Int64)) * 2_097_152 + days
    valid = packed.drop_nulls()
    if valid.is_empty() or valid.n_unique() == valid.len():
        return frame, empty_errors(), []
    candidates = packed.is_duplicated() & packed.is_not_null()
    suspects = frame.filter(candidates)
    groups = suspects.group_by(keys).agg(
        pl.len().alias("_n"),
        pl.col("value").n_unique().alias("_distinct"),
        pl.col("_line").sort().alias("_lines"),
    )
    conflicts = groups.filter((pl.col("_n") > 1) & (pl.col("_distinct") > 1))
    exact = groups.filter((pl.col("_n") > 1) & (pl.col("_distinct") == 1))
    notes: list[tuple[str, dict[str, Any]]] = []
    errors = empty_errors()
    if not conflicts.is_empty():
        bad = suspects.join(conflicts.select(*keys, "_lines"), on=keys, how="inner")
        detail = pl.col("_lines").list.eval(pl.element().cast(pl.String)).list.join(", ")
        errors = error_rows(
            bad,
            sheet=sheet,
            column=field_label(bad, columns, "value"),
            value=field_text(bad, "value"),
            code="ingest.duplicate_conflict",
            detail=detail,
        )
    if not exact.is_empty():
        drop = (
            suspects.join(exact.select(keys), on=keys, how="semi")
            .sort("_rec")
            .filter(pl.col("_rec").cum_count().over(keys) > 1)
            .select("_rec")
        )
        frame = frame.join(drop, on="_rec", how="anti")
        first_lines = [int(x) for x in exact["_lines"].list.first().head(10).to_list()]
        notes.append(
            ("ingest.note.duplicates_collapsed", {"count": drop.height, "lines": ", ".join(map(str, first_lines))})
        )
    return frame, errors, notes
