"""Estimate one pilot-metric: call `estimate_effect`, turn its result into an `Estimate`, never raise.

Runs in the runner's process or in a pool worker; everything in and out is picklable.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from pilot_roi.errors import PilotRoiError
from pilot_roi.runner.model import (
    COUNTERFACTUAL_SCHEMA,
    EVENT_STUDY_SCHEMA,
    ROBUSTNESS_SCHEMA,
    Estimate,
    EstimateJob,
)

log = logging.getLogger(__name__)

_MAX_FRAME_ROWS_IN_JSON = 200
_MAX_REASON = 400
_MAX_WARNINGS = 20


def run_job(job: EstimateJob) -> Estimate:
    """The estimate of one pilot-metric; any failure becomes a result with status `error` and the reason."""
    started, cpu_started = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        # numerical warnings belong with the estimate they concern, not on the user's terminal
        warnings.simplefilter("always")
        try:
            estimate = _estimate(job)
        except PilotRoiError as exc:
            estimate = _failed(job, "error", f"invalid_panel: {exc}")
        except Exception as exc:
            log.warning("estimate of %s/%s failed", job.pilot_code, job.metric_code, exc_info=True)
            estimate = _failed(job, "error", f"{type(exc).__name__}: {exc}")
    diagnostics = estimate.diagnostics
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    if messages:
        diagnostics = {**diagnostics, "warnings": messages[:_MAX_WARNINGS]}
    return replace(
        estimate,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
        diagnostics=diagnostics,
    )


def _failed(job: EstimateJob, status: str, reason: str) -> Estimate:
    return Estimate(
        pilot_code=job.pilot_code,
        metric_code=job.metric_code,
        inputs_hash=job.inputs_hash,
        status=status,
        reason=reason[:_MAX_REASON],
        diagnostics=dict(job.context),
    )


def _estimate(job: EstimateJob) -> Estimate:
    from pilot_roi.estimation.api import estimate_effect

    result = estimate_effect(
        job.panel,
        unit="site_code",
        time="period",
        outcome="value",
        first_treated="go_live",
        method=job.method,
        control_group=job.control_group,
        seed=job.seed,
        frequency=job.frequency,  # the registry's: a daily metric reported only on Mondays stays daily
    )
    return estimate_from_result(job, result)


def estimate_from_result(job: EstimateJob, result: Any) -> Estimate:
    """An `Estimate` from an `EffectResult` (primary method first in the robustness frame)."""
    status = str(result.status)  # a non-finite or degenerate fit is already insufficient_data (api.run_method)
    diagnostics = {**job.context, **jsonable(dict(result.diagnostics))}
    if result.inference:
        diagnostics.setdefault("inference", str(result.inference))
    summary: str | None
    try:
        summary = str(result.summary())
    except Exception:  # the summary is a courtesy; the numbers stand without it
        summary = None
    return Estimate(
        pilot_code=job.pilot_code,
        metric_code=job.metric_code,
        inputs_hash=job.inputs_hash,
        status=status,
        reason=str(result.reason)[:_MAX_REASON] if result.reason else None,
        method=str(result.method),
        method_reason=str(result.method_reason or ""),
        effect=_num(result.att),
        se=_num(result.se),
        effect_pct=_num(result.att_pct),
        ci_low=_num(result.ci_low),
        ci_high=_num(result.ci_high),
        p_value=_num(result.p_value),
        pre_trend_p=_opt(result.pre_trend_p),
        mde=_opt(result.mde),
        n_treated=int(result.n_treated),
        n_controls=int(result.n_controls),
        n_pre_periods=int(result.n_pre_periods),
        n_post_periods=int(result.n_post_periods),
        diagnostics=diagnostics,
        summary=summary,
        robustness=_robustness(result),
        counterfactual=_counterfactual(result.counterfactual),
        event_study=_event_study(result.event_study),
    )


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _opt(value: Any) -> float | None:
    if value is None:
        return None
    number = _num(value)
    return number if math.isfinite(number) else None


def _robustness(result: Any) -> pl.DataFrame:
    rows = []
    for is_primary, r in [(True, result), *((False, x) for x in result.robustness)]:
        rows.append(
            {
                "method": str(r.method),
                "is_primary": is_primary,
                "status": str(r.status),
                "reason": str(r.reason) if r.reason else None,
                "effect": _num(r.att),
                "se": _num(r.se),
                "ci_low": _num(r.ci_low),
                "ci_high": _num(r.ci_high),
                "p_value": _num(r.p_value),
                "effect_pct": _num(r.att_pct),
            }
        )
    return pl.DataFrame(rows, schema=ROBUSTNESS_SCHEMA)


def _counterfactual(frame: pl.DataFrame | None) -> pl.DataFrame:
    if frame is None or frame.height == 0 or "time" not in frame.columns:
        return pl.DataFrame(schema=COUNTERFACTUAL_SCHEMA)
    cols = {
        c: (pl.col(c) if c in frame.columns else pl.lit(None))
        for c in ("observed", "counterfactual", "ci_low", "ci_high")
    }
    out = frame.select(pl.col("time").alias("period"), *(expr.alias(name) for name, expr in cols.items()))
    return out.cast(COUNTERFACTUAL_SCHEMA)  # type: ignore[arg-type]


def _event_study(frame: pl.DataFrame | None) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return pl.DataFrame(schema=EVENT_STUDY_SCHEMA)
    cols = [pl.col(c) if c in frame.columns else pl.lit(None).alias(c) for c in EVENT_STUDY_SCHEMA]
    return frame.select(cols).cast(EVENT_STUDY_SCHEMA)  # type: ignore[arg-type]


def jsonable(value: Any) -> Any:
    """`value` as plain JSON types: numpy scalars to Python, NaN/inf to None, dates to ISO text, frames to rows."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pl.DataFrame):
        if value.height > _MAX_FRAME_ROWS_IN_JSON:
            return {"rows": value.height, "columns": value.columns}
        return [jsonable(row) for row in value.to_dicts()]
    return str(value)


def dumps(value: Any) -> str:
    """Canonical JSON text (sorted keys) so the same diagnostics always store the same bytes."""
    return json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False)
