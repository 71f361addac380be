"""Reads a portfolio run needs from the warehouse (SQL in pipelines/estimates/), and the inputs hash."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import duckdb
import numpy as np
import polars as pl

from pilot_roi.clock import PERIOD_LENGTH, not_ended, zone_name
from pilot_roi.estimation.options import check_choice
from pilot_roi.resources import read_sql
from pilot_roi.runner.model import CONTAMINATION, PilotMetric, SiteRoles

PANEL_SCHEMA: dict[str, Any] = {"site_code": pl.String, "period": pl.Date, "value": pl.Float64}


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_portfolio(con: duckdb.DuckDBPyConnection, pilot: str | None = None) -> list[PilotMetric]:
    """Every pilot-metric (of `pilot` only, when given), ordered by pilot and metric code."""
    rows = _dicts(con.execute(read_sql("estimates/portfolio.sql"), {"pilot_code": pilot}))
    return [PilotMetric(**row) for row in rows]


def read_site_roles(
    con: duckdb.DuckDBPyConnection, pilot_code: str, metric_code: str, *, contamination: str = "any_pilot"
) -> SiteRoles:
    """Treated sites (with go-live), controls and excluded would-be controls of one pilot-metric.

    `contamination`: "any_pilot" (a site another pilot treats in the window is no control) or
    "same_metric" (only another pilot measured on the same metric disqualifies it).
    """
    params = {
        "pilot_code": pilot_code,
        "metric_code": metric_code,
        "same_metric_only": check_choice("contamination", contamination, CONTAMINATION) == "same_metric",
    }
    rows = _dicts(con.execute(read_sql("estimates/pilot_sites.sql"), params))
    treated = tuple((r["site_code"], r["go_live"]) for r in rows if r["role"] == "treated")
    controls = tuple(r["site_code"] for r in rows if r["role"] == "control")
    excluded = tuple((r["site_code"], r["touched_by"]) for r in rows if r["role"] == "excluded")
    touched = tuple((r["site_code"], r["touched_by"]) for r in rows if r["role"] == "treated" and r["touched_by"])
    return SiteRoles(treated, controls, excluded, touched)


def read_panel(
    con: duckdb.DuckDBPyConnection, metric_code: str, roles: SiteRoles, *, load_times: bool = False
) -> pl.DataFrame:
    """The long panel site_code, period, value, go_live (null for controls) of the treated and control sites; with
    `load_times`, also loaded_at: when each value's current version was loaded (naive UTC)."""
    go_live = {site: day for site, day in roles.treated}
    sites = [site for site, _ in roles.treated] + list(roles.controls)
    schema = {**PANEL_SCHEMA, "loaded_at": pl.Datetime("us")} if load_times else PANEL_SCHEMA
    if not sites:
        return pl.DataFrame(schema={**schema, "go_live": pl.Date})
    frame = con.sql(read_sql("estimates/panel.sql"), params={"metric_code": metric_code, "sites": sites}).pl()
    frame = pl.DataFrame(schema=schema) if frame.height == 0 else frame.select(list(schema)).cast(schema)
    lookup = pl.DataFrame(
        {"site_code": list(go_live), "go_live": list(go_live.values())},
        schema={"site_code": pl.String, "go_live": pl.Date},
    )
    return frame.join(lookup, on="site_code", how="left").sort("site_code", "period")


_NAMED_PERIODS = 10  # periods named in an estimate's diagnostics for values loaded before their period ended


def split_open_periods(panel: pl.DataFrame, item: PilotMetric, as_of: date) -> tuple[pl.DataFrame, dict[str, Any]]:
    """(the panel without a sum-aggregated metric's values for periods not ended by `as_of`, what was left out).

    A total over part of a month (an export on the 28th of the month) reads as a drop of a tenth, so it would pass
    for an effect (ITS has nothing to cancel it with) and count in the realized gain. Ingestion loads such values
    with a note; the estimate waits until the period has ended. A mean over part of a period is still a mean: kept.
    What was left out: {} when nothing, else {"count": rows, "periods": their first days, "as_of": the day}.
    """
    if item.aggregation != "sum" or item.frequency not in PERIOD_LENGTH or panel.height == 0:
        return panel, {}
    is_open = not_ended(pl.col("period"), item.frequency, as_of)
    left_out = panel.filter(is_open)
    if left_out.height == 0:
        return panel, {}
    periods = _first_days(left_out)
    return panel.filter(~is_open), {"count": left_out.height, "periods": periods, "as_of": as_of.isoformat()}


def loaded_before_period_end(panel: pl.DataFrame, item: PilotMetric, as_of: date) -> dict[str, Any]:
    """The values of a sum-aggregated metric in `panel` (read with `load_times`) whose current version was loaded, by
    the product's clock, on or before the last day of its period, a period that has ended by `as_of` (those that
    have not are left out: `split_open_periods`).

    Such a value may be a total over part of its period that nobody restated once the period ended. The estimate
    reads it as it is (an identical total uploaded again keeps its first load, so leaving it out could not be
    undone); the reader is told which. {} when none, else {"count": values, "n_periods": their periods, "periods": the
    first `_NAMED_PERIODS` of them} (a daily feed uploaded each evening would otherwise store every day, every run).
    """
    if item.aggregation != "sum" or item.frequency not in PERIOD_LENGTH or panel.height == 0:
        return {}
    loaded_on = pl.col("loaded_at").dt.replace_time_zone("UTC").dt.convert_time_zone(zone_name()).dt.date()
    period_end = pl.col("period").dt.offset_by(PERIOD_LENGTH[item.frequency])
    early = panel.filter((loaded_on < period_end) & ~not_ended(pl.col("period"), item.frequency, as_of))
    if early.height == 0:
        return {}
    periods = _first_days(early)
    return {"count": early.height, "n_periods": len(periods), "periods": periods[:_NAMED_PERIODS]}


def _first_days(rows: pl.DataFrame) -> list[str]:
    """The distinct periods of `rows`, by their first day, ascending, as ISO dates."""
    return sorted({day.isoformat() for day in rows["period"].to_list()})


def inputs_hash(
    item: PilotMetric, roles: SiteRoles, panel: pl.DataFrame, *, estimation: dict[str, Any], code_version: str
) -> str:
    """SHA-256 of everything that feeds one estimate: the registry rows, the panel, the options, the code.

    Registry part: the metric's frequency, aggregation and bounds; the treated sites with go-lives, the
    controls and the excluded sites. Panel part: every (site, period, value) in order. Tenge values and
    directions are left out on purpose: they change money and grades, which every run recomputes, not
    the estimate.
    """
    digest = hashlib.sha256()
    meta = {
        "pilot": item.pilot_code,
        "metric": item.metric_code,
        "frequency": item.frequency,
        "aggregation": item.aggregation,
        "min_value": item.min_value,
        "max_value": item.max_value,
        "treated": [[s, d.isoformat()] for s, d in roles.treated],
        "controls": list(roles.controls),
        "excluded": [list(x) for x in roles.excluded],
        "estimation": estimation,
        "code_version": code_version,
    }
    digest.update(json.dumps(meta, sort_keys=True, default=str).encode("utf-8"))
    digest.update(b"\x00sites\x00")
    digest.update("\x1f".join(panel["site_code"].to_list()).encode("utf-8"))
    digest.update(b"\x00periods\x00")
    days = panel["period"].cast(pl.Int32).to_numpy()
    digest.update(np.ascontiguousarray(days, dtype="<i4").tobytes())
    digest.update(b"\x00values\x00")
    digest.update(np.ascontiguousarray(panel["value"].to_numpy(), dtype="<f8").tobytes())
    return digest.hexdigest()


def last_finished_run(con: duckdb.DuckDBPyConnection) -> int | None:
    """The id of the latest finished run, or None."""
    row = con.execute(read_sql("estimates/last_finished_run.sql")).fetchone()
    return int(row[0]) if row else None


def run_results(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict[str, Any]]:
    """Every stored result row of `run_id` as dicts, ordered by pilot and metric."""
    return _dicts(con.execute(read_sql("estimates/run_results.sql"), {"run_id": run_id}))


def run_counterfactuals(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[tuple[str, str], pl.DataFrame]:
    """The observed-vs-counterfactual frames of `run_id`, per (pilot_code, metric_code)."""
    frame = con.sql(read_sql("estimates/run_counterfactuals.sql"), params={"run_id": run_id}).pl()
    out: dict[tuple[str, str], pl.DataFrame] = {}
    if frame.height == 0:
        return out
    for (pilot, metric), part in frame.group_by("pilot_code", "metric_code", maintain_order=True):
        out[(str(pilot), str(metric))] = part.drop("pilot_code", "metric_code")
    return out


def pilot_exists(con: duckdb.DuckDBPyConnection, pilot_code: str) -> bool:
    """True when the registry has a pilot with this code."""
    row = con.execute(read_sql("estimates/pilot_exists.sql"), {"pilot_code": pilot_code}).fetchone()
    return bool(row and row[0])


def registry_pilot_code(con: duckdb.DuckDBPyConnection, pilot_code: str) -> str:
    """`pilot_code` as the registry spells it when it was typed in another case or with spaces around it.

    Unchanged when the registry has it exactly, has no such pilot, or has several that differ only in case.
    """
    codes = [
        str(row[0]) for row in con.execute(read_sql("estimates/pilot_code.sql"), {"pilot_code": pilot_code}).fetchall()
    ]
    if pilot_code in codes or len(codes) != 1:
        return pilot_code
    return codes[0]
