"""Write one complete run (its row, results, robustness, counterfactuals, event study) in one transaction."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from pilot_roi import audit
from pilot_roi.resources import read_sql
from pilot_roi.runner.model import COUNTERFACTUAL_SCHEMA, EVENT_STUDY_SCHEMA, ROBUSTNESS_SCHEMA, Estimate
from pilot_roi.warehouse.connection import transaction

RESULT_SCHEMA: dict[str, Any] = {
    "run_id": pl.Int64,
    "pilot_code": pl.String,
    "metric_code": pl.String,
    "inputs_hash": pl.String,
    "reused_from_run": pl.Int64,
    "status": pl.String,
    "reason": pl.String,
    "method": pl.String,
    "method_reason": pl.String,
    "effect": pl.Float64,
    "se": pl.Float64,
    "effect_pct": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "pre_trend_p": pl.Float64,
    "mde": pl.Float64,
    "grade": pl.String,
    "grade_reason": pl.String,
    "n_treated": pl.Int32,
    "n_controls": pl.Int32,
    "n_pre_periods": pl.Int32,
    "n_post_periods": pl.Int32,
    "annual_gain_kzt": pl.Float64,
    "annual_gain_ci_low": pl.Float64,
    "annual_gain_ci_high": pl.Float64,
    "npv_kzt": pl.Float64,
    "npv_ci_low": pl.Float64,
    "npv_ci_high": pl.Float64,
    "roi": pl.Float64,
    "roi_ci_low": pl.Float64,
    "roi_ci_high": pl.Float64,
    "payback_months": pl.Float64,
    "realized_gain_kzt": pl.Float64,
    "diagnostics": pl.String,
    "summary": pl.String,
    # the economic inputs the run priced the row with (migration 0009): a report of this run reads them back
    "value_kzt_per_unit": pl.Float64,
    "higher_is_better": pl.Boolean,
    "frequency": pl.String,
    "capex_kzt": pl.Float64,
    "opex_kzt_per_year": pl.Float64,
    # the sites the row was estimated with (migration 0010): a report of this run lists them
    "treated_sites": pl.List(pl.Struct({"site_code": pl.String, "go_live": pl.Date})),
    "control_sites": pl.List(pl.String),
    "control_rule": pl.String,
}


def _clean(value: Any) -> Any:
    """NaN becomes NULL (no number); +inf stays (a payback that never comes)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _keyed(frames: Sequence[tuple[Estimate, pl.DataFrame | None]], schema: dict[str, Any], run_id: int) -> pl.DataFrame:
    parts = [
        frame.cast(schema)  # type: ignore[arg-type]
        .with_columns(pl.col(pl.Float64).fill_nan(None))  # NaN is "no number": stored as NULL, as in results
        .with_columns(
            run_id=pl.lit(run_id, pl.Int64),
            pilot_code=pl.lit(est.pilot_code, pl.String),
            metric_code=pl.lit(est.metric_code, pl.String),
        )
        for est, frame in frames
        if frame is not None and frame.height
    ]
    columns = ["run_id", "pilot_code", "metric_code", *schema]
    if not parts:
        return pl.DataFrame(schema={"run_id": pl.Int64, "pilot_code": pl.String, "metric_code": pl.String, **schema})
    return pl.concat(parts, how="vertical").select(columns)


def store_run(
    con: duckdb.DuckDBPyConnection,
    *,
    started_at: datetime,
    finished_at: datetime,
    data_version: str,
    code_version: str,
    parameters: dict[str, Any],
    started_by: str,
    rows: Sequence[dict[str, Any]],
    estimates: Sequence[Estimate],
    reused_from: int | None,
) -> int:
    """Insert the run, every row and its `estimate_run` audit event in one transaction; returns the new run id.

    `rows` are the result rows (columns of `estimate_results` except run_id); `estimates` are the same
    pilot-metrics' estimation parts, whose frames are written (fresh ones) or copied from run
    `reused_from` (those with `frames_from_run` set).
    """
    with transaction(con):
        row = con.execute(
            read_sql("estimates/insert_run.sql"),
            {
                "started_at": started_at,
                "finished_at": finished_at,
                "data_version": data_version,
                "code_version": code_version,
                "parameters": json.dumps(parameters, sort_keys=True),
                "started_by": started_by,
                "n_estimates": len(rows),
            },
        ).fetchone()
        if row is None:  # pragma: no cover - RETURNING always yields the row
            raise RuntimeError("the run row was not created")
        run_id = int(row[0])
        results = pl.DataFrame(
            [{k: _clean(v) for k, v in r.items()} | {"run_id": run_id} for r in rows],
            schema=RESULT_SCHEMA,
        )
        _insert(con, "staged_results", results, "estimates/insert_results.sql")

        fresh = [e for e in estimates if e.frames_from_run is None]
        _insert(
            con,
            "staged_robustness",
            _keyed([(e, e.robustness) for e in fresh], ROBUSTNESS_SCHEMA, run_id),
            "estimates/insert_robustness.sql",
        )
        _insert(
            con,
            "staged_counterfactuals",
            _keyed([(e, e.counterfactual) for e in fresh], COUNTERFACTUAL_SCHEMA, run_id),
            "estimates/insert_counterfactuals.sql",
        )
        _insert(
            con,
            "staged_event_study",
            _keyed([(e, e.event_study) for e in fresh], EVENT_STUDY_SCHEMA, run_id),
            "estimates/insert_event_study.sql",
        )
        reused = [e for e in estimates if e.frames_from_run is not None]
        if reused and reused_from is not None:
            staged = pl.DataFrame(
                {"pilot_code": [e.pilot_code for e in reused], "metric_code": [e.metric_code for e in reused]},
                schema={"pilot_code": pl.String, "metric_code": pl.String},
            )
            con.register("staged_reused", staged)
            try:
                for name in ("robustness", "counterfactuals", "event_study"):
                    con.execute(
                        read_sql(f"estimates/copy_reused_{name}.sql"), {"run_id": run_id, "from_run": reused_from}
                    )
            finally:
                con.unregister("staged_reused")
        audit.record(
            con,
            started_by,
            "estimate_run",
            f"run:{run_id}",
            {
                "run_id": run_id,
                "n_estimates": len(rows),
                "reused_from": reused_from,
                "data_version": data_version,
                "code_version": code_version,
            },
        )
    return run_id


def _insert(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, sql_file: str) -> None:
    if frame.height == 0:
        return
    con.register(name, frame)
    try:
        con.execute(read_sql(sql_file))
    finally:
        con.unregister(name)
